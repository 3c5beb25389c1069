#!/usr/bin/env node
// `npm start` builds only when a source file is newer than the last build: tsc itself needs ~4 s just to find
// out that nothing changed, which a start should not pay. Sources are what tsconfig.json includes.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
// Written after every successful build (tsc leaves its own .tsbuildinfo untouched when nothing changed).
const marker = join(root, 'dist', '.build-stamp')
const SOURCE_DIRS = ['cli', 'lib', 'plugins', 'resource-server', 'routes', 'schemas', 'test', 'examples']

function newestSource () {
  let newest = 0
  const visit = (path) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name)
      if (entry.isDirectory()) visit(full)
      else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(full).mtimeMs)
    }
  }
  for (const file of readdirSync(root)) if (file.endsWith('.ts')) newest = Math.max(newest, statSync(join(root, file)).mtimeMs)
  for (const dir of SOURCE_DIRS) { try { visit(join(root, dir)) } catch {} }
  for (const config of ['tsconfig.json', 'package.json']) newest = Math.max(newest, statSync(join(root, config)).mtimeMs)
  return newest
}

let built = 0
try { built = statSync(marker).mtimeMs } catch {}
if (built === 0 || newestSource() > built) {
  const started = new Date()
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' })
  if (tsc.status !== 0) process.exit(tsc.status ?? 1)
  // Stamped with the time the build started: a file saved while tsc ran is newer, and builds next time.
  writeFileSync(marker, `${started.toISOString()}\n`)
  utimesSync(marker, started, started)
}

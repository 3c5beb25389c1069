#!/usr/bin/env node
// `npm start` builds only when a source file is newer than the last build: tsc itself needs ~4 s just to find
// out that nothing changed, which a start should not pay. Sources are what tsconfig.json includes.
//
// Without TypeScript there is nothing to build with, and nothing is built:
// - an installed package (`npm install @gatehouse/server`, or a tarball) has dist/ and no sources: it runs dist/;
// - a checkout installed with `npm ci --omit=dev` (TypeScript is a devDependency) runs the dist/ it has, if any.
// `--if-typescript` (the `prepare` script, which `npm ci` runs) exits quietly when TypeScript is absent, so
// `npm ci --omit=dev` succeeds; without it (`npm start`) a missing dist/ is an error that says what to run.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
// Written after every successful build (tsc leaves its own .tsbuildinfo untouched when nothing changed).
const marker = join(root, 'dist', '.build-stamp')
const SOURCE_DIRS = ['cli', 'lib', 'plugins', 'resource-server', 'routes', 'schemas', 'test', 'examples']
const tscPath = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
const onlyIfTypeScript = process.argv.includes('--if-typescript')
// `prepack`: a package is never made from a dist/ that could not be brought up to date.
const forPack = process.argv.includes('--for-pack')

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

const built = existsSync(join(root, 'dist', 'server.js'))
// The sources and the compiler: a checkout with its devDependencies. (An installed package has neither.)
const canBuild = existsSync(join(root, 'tsconfig.json')) && existsSync(tscPath)
if (!canBuild) {
  if (forPack) {
    process.stderr.write('gatehouse: npm pack needs the sources and TypeScript (a checkout after `npm ci`) to build dist/\n')
    process.exit(1)
  }
  if (built || onlyIfTypeScript) process.exit(0)
  process.stderr.write('gatehouse: dist/ is not built and TypeScript is not installed here: run `npm ci && npm run build` ' +
    '(then `npm prune --omit=dev` if you want the devDependencies gone), or install the package (`npm install @gatehouse/server`), ' +
    'which ships dist/\n')
  process.exit(1)
}

let stamped = 0
try { stamped = statSync(marker).mtimeMs } catch {}
if (stamped === 0 || newestSource() > stamped) {
  const started = new Date()
  const tsc = spawnSync(process.execPath, [tscPath, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' })
  if (tsc.status !== 0) process.exit(tsc.status ?? 1)
  // Stamped with the time the build started: a file saved while tsc ran is newer, and builds next time.
  writeFileSync(marker, `${started.toISOString()}\n`)
  utimesSync(marker, started, started)
}

#!/usr/bin/env node
// `npm run test:file -- test/routes/token/password.test.ts [--postgres] [tap options…]`: one test file (or
// several), for the edit loop. Sources changed since their last build are transpiled one by one (TypeScript's
// transpileModule: milliseconds, no type-check), then tap runs the compiled files. `tsc` (~5 s of CPU even when
// nothing changed) is left to `npm run typecheck`, `npm test` and CI. The code base compiles with
// isolatedModules, so a file transpiled alone is the file tsc emits. A checkout with no build yet gets a full
// tsc first. `--postgres` runs the files on PostgreSQL (GATEHOUSE_TEST_BACKEND=postgres).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'
import { pruneStaleTests, writePostgresWrappers } from './prepare-tests.mjs'

const ROOT = resolve(import.meta.dirname, '..')
const DIST = join(ROOT, 'dist')
const SOURCE_DIRS = ['cli', 'lib', 'plugins', 'resource-server', 'routes', 'schemas', 'test', 'examples']
const EXCLUDED = [join(ROOT, 'test', 'fixtures', 'openapi-client'), join(ROOT, 'test', 'fixtures', 'sdk')]

/** The .ts sources tsconfig.json compiles (declaration files and the excluded fixture aside). */
function sources () {
  const found = readdirSync(ROOT).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => join(ROOT, f))
  const visit = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (EXCLUDED.includes(path)) continue
      if (entry.isDirectory()) visit(path)
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) found.push(path)
    }
  }
  for (const dir of SOURCE_DIRS) if (existsSync(join(ROOT, dir))) visit(join(ROOT, dir))
  return found
}

const compiledOf = (source) => join(DIST, relative(ROOT, source)).replace(/\.ts$/, '.js')

function transpileChanged () {
  const { config } = ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile)
  const { options } = ts.convertCompilerOptionsFromJson(config.compilerOptions, ROOT)
  // package.json says "type": "module", which transpileModule cannot read: ESM output, as tsc's NodeNext gives.
  const compilerOptions = { ...options, module: ts.ModuleKind.ES2022, moduleResolution: ts.ModuleResolutionKind.Bundler, declaration: false, incremental: false, tsBuildInfoFile: undefined }
  let count = 0
  for (const source of sources()) {
    const target = compiledOf(source)
    if (existsSync(target) && statSync(target).mtimeMs >= statSync(source).mtimeMs) continue
    const { outputText, sourceMapText, diagnostics } = ts.transpileModule(readFileSync(source, 'utf8'), { compilerOptions, fileName: source, reportDiagnostics: true })
    if (diagnostics?.length) {
      console.error(ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' }))
      process.exit(1)
    }
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, outputText.replace(/\/\/# sourceMappingURL=.*$/m, `//# sourceMappingURL=${relative(dirname(target), target)}.map`))
    // As tsc writes it: sources relative to the compiled file, so stack traces name the .ts file.
    if (sourceMapText) writeFileSync(`${target}.map`, JSON.stringify({ ...JSON.parse(sourceMapText), sources: [relative(dirname(target), source)] }))
    count++
  }
  return count
}

const args = process.argv.slice(2)
const postgres = args.includes('--postgres')
const files = args.filter((a) => a !== '--postgres' && !a.startsWith('-') && a.endsWith('.ts'))
const tapArgs = args.filter((a) => a !== '--postgres' && !files.includes(a))
if (files.length === 0) {
  console.error('usage: npm run test:file -- test/<path>.test.ts [more files] [--postgres] [tap options]')
  process.exit(2)
}

if (!existsSync(join(DIST, '.tsbuildinfo'))) {
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.json')], { stdio: 'inherit' })
  if (tsc.status !== 0) process.exit(tsc.status ?? 1)
} else {
  const count = transpileChanged()
  if (count > 0) console.error(`test:file: transpiled ${count} changed file(s) (no type-check: npm run typecheck)`)
}
pruneStaleTests()
await writePostgresWrappers()

const compiled = files.map((f) => relative(ROOT, compiledOf(resolve(f))))
const env = postgres ? { ...process.env, GATEHOUSE_TEST_BACKEND: 'postgres' } : process.env
const tap = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'tap', 'dist', 'esm', 'run.mjs'), ...tapArgs, ...compiled], { stdio: 'inherit', cwd: ROOT, env })
process.exit(tap.status ?? 1)

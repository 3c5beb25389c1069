import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from '../support/helper.js'
import { spawnNode } from '../support/oauth.js'
import { REPO_ROOT } from '../support/paths.js'
import { childEnv, formPost } from '../support/server-process.js'

// The server as it is shipped (issue 29): `npm pack` of the repository, installed the way an operator installs it
// (`npm install --omit=dev`, no TypeScript, no sources), then run through its `gatehouse` command: the CLI makes a
// user and a client, `gatehouse serve` and `npm start` answer, a password grant at /token gives a token. Also
// `npm exec --package <tarball> -- gatehouse` (what `npx @gatehouse/server` does) and both import names of the
// contract (`@gatehouse/server/…` and, installed under the old name, `gatehouse/resource-server`, `gatehouse/extension`).
//
// SQLite only, and not in test/postgres/list.ts: it builds no app in the test process (test/lint/postgres-list.test.ts
// refuses to list such a file); the CLI and /token it drives run on PostgreSQL in cli/ and routes/token/.
// It needs the npm registry (the dependencies are installed for real, from npm's cache when they are there): when the
// registry cannot be reached the test is skipped, saying so. better-sqlite3's native build is not redone here (it takes
// minutes and is better-sqlite3's own business): the install runs with --ignore-scripts and the addon already built for
// this Node in the repository is copied in when the versions match (else `npm rebuild better-sqlite3` builds it).

const run = promisify(execFile)
const NPM = process.env.npm_execpath?.endsWith('npm-cli.js') ? process.env.npm_execpath : join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js')
const npmEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' }
const npm = (args: string[], cwd: string, timeout = 240_000) => run(process.execPath, [NPM, ...args], { cwd, env: npmEnv, maxBuffer: 16 << 20, timeout })
const PASSWORD = 'correct horse battery staple'

async function registryReachable (): Promise<string | undefined> {
  const registry = (process.env.npm_config_registry ?? 'https://registry.npmjs.org/').replace(/\/?$/, '/')
  try {
    const res = await fetch(`${registry}-/ping`, { signal: AbortSignal.timeout(8_000) })
    return res.ok ? undefined : `the npm registry ${registry} answered ${res.status}`
  } catch (err) {
    return `the npm registry ${registry} cannot be reached (${err instanceof Error ? err.message : String(err)})`
  }
}

const unreachable = await registryReachable()

t.test('npm pack, installed with --omit=dev: the gatehouse command makes a user and a client, serves, and /token answers', { skip: unreachable === undefined ? false : `skipped: ${unreachable}; this test installs the package's dependencies from it` }, async (t) => {
  // Outside the repository: nothing may resolve from the repository's own node_modules.
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-tarball-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const project = join(dir, 'project')
  mkdirSync(join(dir, 'empty'))
  mkdirSync(project)
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'deploy', private: true }))
  const packed = JSON.parse((await npm(['pack', '--ignore-scripts', '--pack-destination', dir, '--json'], REPO_ROOT)).stdout) as Array<{ name: string, filename: string, files: Array<{ path: string }> }>
  const tarball = join(dir, packed[0]!.filename)
  t.equal(packed[0]!.name, '@gatehouse/server', 'the package has its scoped name')
  const files = new Set(packed[0]!.files.map((f) => f.path))
  for (const path of ['bin/gatehouse.js', 'dist/server.js', 'dist/cli/index.js', 'views/login.eta', 'assets', 'scripts/build-if-changed.mjs']) {
    t.ok(path === 'assets' ? [...files].some((f) => f.startsWith('assets/')) : files.has(path), `the tarball holds ${path}`)
  }
  t.notOk([...files].some((f) => f.startsWith('dist/test/') || (f.endsWith('.ts') && !f.endsWith('.d.ts'))), 'and no tests or TypeScript sources')

  // Installed twice in one project: under its name, and under the old one (`npm install gatehouse@npm:@gatehouse/server`
  // gives the same), as a project importing `gatehouse/resource-server` keeps it.
  const install = await npm(['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball, `gatehouse@file:${tarball}`], project)
  t.notMatch(install.stderr, /EBADENGINE/, `no dependency refuses this Node (${process.version}):\n${install.stderr}`)
  const modules = join(project, 'node_modules')
  t.notOk(existsSync(join(modules, 'typescript')), 'no TypeScript installed')
  const ours = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')) as { version: string }
  const theirs = JSON.parse(readFileSync(join(modules, 'better-sqlite3', 'package.json'), 'utf8')) as { version: string }
  if (ours.version === theirs.version) {
    mkdirSync(join(modules, 'better-sqlite3', 'build', 'Release'), { recursive: true })
    copyFileSync(join(REPO_ROOT, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'), join(modules, 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))
  } else {
    t.comment(`better-sqlite3 ${theirs.version} installed, ${ours.version} in the repository: building it`)
    await npm(['rebuild', 'better-sqlite3'], project, 600_000)
  }

  const bin = join(modules, '.bin', 'gatehouse')
  const env = childEnv({ DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}` })
  const cli = async (args: string[], input = '') => {
    const child = spawnNode([bin, ...args], env, ['pipe', 'pipe', 'pipe'], join(dir, 'empty'))
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d) => { stdout += d })
    child.stderr!.on('data', (d) => { stderr += d })
    child.stdin!.end(input)
    const code = await new Promise((resolve) => child.on('close', resolve))
    return { code, stdout, stderr }
  }
  const version = await cli(['--version'])
  t.equal(version.stdout.trim(), `gatehouse ${(JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version}`, 'node_modules/.bin/gatehouse --version')
  const user = await cli(['users', 'add', 'alice', '--password-stdin', '--scope', 'read'], `${PASSWORD}\n`)
  t.equal(user.code, 0, `users add: ${user.stderr}`)
  const client = await cli(['clients', 'add', 'deploy-app', '--grant', 'password'])
  t.equal(client.code, 0, `clients add: ${client.stderr}`)
  const { client_secret: secret } = JSON.parse(client.stdout) as { client_secret: string }

  // `gatehouse serve`, then `npm start` in the installed package (no build step there: nothing to build with).
  const starts: Array<[string, string[], string]> = [
    ['gatehouse serve', [bin, 'serve'], join(dir, 'empty')],
    ['npm start', [NPM, 'start'], join(modules, '@gatehouse', 'server')]
  ]
  for (const [name, args, cwd] of starts) {
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    // A process group of its own: `npm start` runs the server as its grandchild, and SIGTERM must reach it too.
    const child = spawn('/usr/bin/env', ['-u', 'NODE_OPTIONS', process.execPath, ...args], { env: { ...env, PORT: String(port), HOST: '127.0.0.1', ISSUER: url }, stdio: ['ignore', 'pipe', 'pipe'], cwd, detached: true })
    let log = ''
    child.stdout!.on('data', (d) => { log += d })
    child.stderr!.on('data', (d) => { log += d })
    // 'close': every process holding its output has ended.
    const exited = new Promise((resolve) => child.on('close', resolve))
    const group = (signal: NodeJS.Signals) => { try { process.kill(-child.pid!, signal) } catch {} }
    t.teardown(() => group('SIGKILL'))
    const deadline = Date.now() + 60_000
    let up = false
    while (!up && child.exitCode === null && Date.now() < deadline) {
      up = await fetch(`${url}/health`).then((r) => r.ok, () => false)
      if (!up) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    t.ok(up, `${name} serves: ${log}`)
    const token = await formPost(`${url}/token`, { grant_type: 'password', username: 'alice', password: PASSWORD, scope: 'read' }, { authorization: `Basic ${Buffer.from(`deploy-app:${secret}`).toString('base64')}` })
    const body = await token.json() as { access_token?: string, token_type?: string }
    t.equal(token.status, 200, `${name}: /token answers ${JSON.stringify(body)}`)
    t.equal(body.token_type, 'Bearer')
    group('SIGTERM')
    await exited
  }

  // Both import names of the contract, from the installed packages.
  const imports = await run(process.execPath, ['--input-type=module', '-e', `
    const names = ['@gatehouse/server/resource-server', '@gatehouse/server/extension', 'gatehouse/resource-server', 'gatehouse/extension']
    const loaded = await Promise.all(names.map((n) => import(n)))
    console.log(JSON.stringify(loaded.map((m) => [typeof m.default, typeof m.fp])))
  `], { cwd: project, env: npmEnv })
  t.same(JSON.parse(imports.stdout), [['function', 'undefined'], ['undefined', 'function'], ['function', 'undefined'], ['undefined', 'function']], 'the plugin and the extension module resolve under both names')

  // `npx @gatehouse/server --version`, from a folder that has nothing installed: npm exec fetches the package into its
  // cache (its dependencies from npm's cache) and runs the package's one bin. Its cache folder is removed afterwards.
  const before = new Set(readdirSafe(join(homedir(), '.npm', '_npx')))
  t.teardown(() => {
    for (const entry of readdirSafe(join(homedir(), '.npm', '_npx'))) {
      if (!before.has(entry)) rmSync(join(homedir(), '.npm', '_npx', entry), { recursive: true, force: true })
    }
  })
  const npx = await npm(['exec', '--yes', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--package', tarball, '--', 'gatehouse', '--version'], join(dir, 'empty'))
  t.equal(npx.stdout.trim(), version.stdout.trim(), 'npm exec --package <tarball> -- gatehouse --version')
})

function readdirSafe (path: string): string[] {
  try { return readdirSync(path) } catch { return [] }
}

// A checkout installed without its devDependencies has no TypeScript: `prepare` must not fail (it used to run tsc,
// exit 127), and `npm start` with no build says what to run instead of a stack trace. Run on a copy of the script.
t.test('build-if-changed without TypeScript: prepare passes, npm start without dist/ explains, an installed package just runs', async (t) => {
  const dir = t.testdir({ checkout: { scripts: {}, 'tsconfig.json': '{}', 'package.json': '{}' }, installed: { scripts: {}, dist: { 'server.js': '' } } })
  for (const folder of ['checkout', 'installed']) copyFileSync(join(REPO_ROOT, 'scripts', 'build-if-changed.mjs'), join(dir, folder, 'scripts', 'build-if-changed.mjs'))
  const script = (folder: string, ...args: string[]) => run(process.execPath, [join(dir, folder, 'scripts', 'build-if-changed.mjs'), ...args]).then(() => ({ code: 0, stderr: '' }), (err: { code: number, stderr: string }) => ({ code: err.code, stderr: err.stderr }))
  t.same(await script('checkout', '--if-typescript'), { code: 0, stderr: '' }, 'prepare (npm ci --omit=dev): nothing to build with, nothing built, exit 0')
  const start = await script('checkout')
  t.equal(start.code, 1, 'npm start with neither dist/ nor TypeScript fails')
  t.match(start.stderr, /npm ci && npm run build/, 'and says what to run')
  t.equal((await script('checkout', '--for-pack')).code, 1, 'npm pack without TypeScript refuses')
  t.same(await script('installed'), { code: 0, stderr: '' }, 'an installed package (dist/, no sources): runs what it has')
})

import t from 'tap'
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { SignJWT } from 'jose'
import { buildListening, freePort } from '../support/helper.js'
import { REPO_ROOT } from '../support/paths.js'

// The resource-server plugin as its own small package (packages/resource-server, an npm workspace): packed the way
// it is published, installed into an empty service with nothing but fastify, where it must load none of Gatehouse's
// server dependencies, type-check, and accept a token from a real Gatehouse through its JWKS.

const run = promisify(execFile)
const NPM = process.env.npm_execpath?.endsWith('npm-cli.js') ? process.env.npm_execpath : join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js')
const npm = (args: string[], cwd: string) => run(process.execPath, [NPM, ...args], { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' }, maxBuffer: 16 << 20, timeout: 300_000 })
/** What the authorization server needs and a resource server must never install. */
const SERVER_ONLY = ['better-sqlite3', '@node-rs/argon2', 'pg', 'ioredis', 'nodemailer', '@simplewebauthn/server', '@sinclair/typebox', 'openid-client']

function sizeOf (path: string): number {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.size
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0)
}

t.test('npm pack -w packages/resource-server, installed in a service with fastify alone: small, none of the server dependencies, type-checks, verifies a Gatehouse token', async (t) => {
  const dir = t.testdir({ 'package.json': JSON.stringify({ name: 'orders-service', private: true, type: 'module' }) })
  const packed = JSON.parse((await npm(['pack', '-w', 'packages/resource-server', '--pack-destination', dir, '--json'], REPO_ROOT)).stdout) as Array<{ filename: string, files: Array<{ path: string }> }>
  const files = packed[0]!.files.map((f) => f.path)
  t.ok(files.includes('dist/resource-server/index.js') && files.includes('dist/resource-server/index.d.ts'), 'the tarball holds the plugin and its declarations')
  t.ok(files.includes('README.md'), 'and its README')
  t.notOk(files.some((f) => /stores\/(sqlite|postgres)|credentials|routes\/|plugins\/|lib\/mail/.test(f)), `and nothing of the server (${files.length} files)`)

  await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, packed[0]!.filename), 'fastify@5'], dir)
  const modules = join(dir, 'node_modules')
  const installed = SERVER_ONLY.filter((name) => existsSync(join(modules, name)))
  t.same(installed, [], 'none of the server\'s dependencies was installed')
  const total = sizeOf(modules)
  const fastify = ['fastify', '@fastify', 'avvio', 'pino', 'light-my-request', 'find-my-way'].reduce((sum, name) => sum + (existsSync(join(modules, name)) ? sizeOf(join(modules, name)) : 0), 0)
  t.comment(`installed: ${(total / 1e6).toFixed(1)} MB in all, of which fastify and its own ${(fastify / 1e6).toFixed(1)} MB`)
  t.ok(total < 25e6, `the service's node_modules with fastify is ${(total / 1e6).toFixed(1)} MB (the whole gatehouse package brought 79 MB)`)

  // A TypeScript service, strict, against the installed declarations.
  writeFileSync(join(dir, 'service.ts'), `import Fastify from 'fastify'
import gatehouseAuth from '@gatehouse/resource-server'

const app = Fastify()
await app.register(gatehouseAuth, { issuer: 'https://auth.example.com', resource: 'https://orders.example.com/api', scopes: ['orders:read'] })
app.get('/api/orders', { onRequest: [app.authenticate, app.requireScope('orders:read')] }, async (request) => {
  const sub: string = request.user.sub
  return { sub }
})
// @ts-expect-error: the resource or the audience is required
await app.register(gatehouseAuth, { issuer: 'https://auth.example.com' })
`)
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(REPO_ROOT, 'node_modules', '@types')] }, files: ['service.ts'] }))
  const tsc = await run(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: dir }).then(() => '', (err: { stdout?: string }) => err.stdout ?? String(err))
  t.equal(tsc, '', 'strict tsc (skipLibCheck off) accepts the service against the installed package')

  // The installed package, run: a token from a real Gatehouse (its JWKS, its metadata) for this resource.
  const { app, url } = await buildListening(t)
  const port = await freePort()
  const resource = `http://127.0.0.1:${port}/api`
  writeFileSync(join(dir, 'serve.mjs'), `import Fastify from 'fastify'
import gatehouseAuth from '@gatehouse/resource-server'
const app = Fastify()
await app.register(gatehouseAuth, { issuer: ${JSON.stringify(url)}, resource: ${JSON.stringify(resource)}, scopes: ['orders:read'] })
app.get('/api/orders', { onRequest: [app.authenticate, app.requireScope('orders:read')] }, async (request) => ({ sub: request.user.sub }))
await app.listen({ port: ${port}, host: '127.0.0.1' })
process.stdout.write('ready\\n')
`)
  const child = (await import('node:child_process')).spawn(process.execPath, ['serve.mjs'], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { child.kill() })
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve() })
    child.on('exit', (code) => reject(new Error(`the service exited (${code})`)))
  })
  const active = app.signingKeys.current().active
  const now = Math.floor(Date.now() / 1000)
  const token = (aud: string) => new SignJWT({ iss: url, sub: 'alice-id', aud, exp: now + 300, iat: now, jti: randomUUID(), client_id: 'default', scope: 'orders:read' })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: active.kid }).sign(active.privateKey)
  const ok = await fetch(`${resource}/orders`, { headers: { authorization: `Bearer ${await token(resource)}` } })
  t.equal(ok.status, 200, 'the installed plugin accepts a token for its resource, verified through Gatehouse\'s JWKS')
  t.same(await ok.json(), { sub: 'alice-id' })
  const other = await fetch(`${resource}/orders`, { headers: { authorization: `Bearer ${await token('https://billing.test')}` } })
  t.equal(other.status, 401, 'and refuses one for another resource')
  t.match(other.headers.get('www-authenticate'), `resource_metadata="http://127.0.0.1:${port}/.well-known/oauth-protected-resource/api"`)
  const metadata = await (await fetch(`http://127.0.0.1:${port}/.well-known/oauth-protected-resource/api`)).json() as { authorization_servers: string[] }
  t.same(metadata.authorization_servers, [url], 'its protected resource metadata names Gatehouse')
  t.notOk(readFileSync(join(modules, '@gatehouse', 'resource-server', 'package.json'), 'utf8').includes('"better-sqlite3"'), 'its manifest names no server dependency')
})

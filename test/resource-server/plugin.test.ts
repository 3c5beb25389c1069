import { REPO_ROOT } from '../support/paths.js'
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto'
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { SignJWT, type JWTPayload } from 'jose'
import { addUser, build, buildListening, freePort, FORM, form } from '../support/helper.js'
import { bearer, spawnNode } from '../support/oauth.js'
import type { ResourceServerOptions } from '../../resource-server/index.js'
import { DPOP_SIGNING_ALGS } from '../../lib/oauth/dpop-proof.js'

// @gatehouse/server/resource-server (also gatehouse/resource-server): another Fastify service accepting Gatehouse's tokens, imported the way that
// service would, through the package's `exports` (Node resolves the package's own name from inside it).

const PACKAGE_ENTRY = '@gatehouse/server/resource-server'
const ROOT = REPO_ROOT
const AUDIENCE = 'https://orders.test'
const PASSWORD = 'correct horse battery staple'

async function plugin () {
  return (await import(PACKAGE_ENTRY) as typeof import('../../resource-server/index.js')).default
}

/** A resource server with three routes: scope orders:read, any token, and a bare request.jwtVerify(). */
async function resourceServer (t: Test, options: ResourceServerOptions): Promise<{ rs: FastifyInstance, handled: () => number }> {
  const rs = Fastify({ logger: false })
  t.teardown(() => rs.close())
  await rs.register(await plugin(), options)
  let handled = 0
  rs.get('/orders', { onRequest: [rs.authenticate, rs.requireScope('orders:read')] }, async (request) => {
    handled++
    return { sub: request.user.sub, scope: request.user.scope }
  })
  rs.get('/profile', { onRequest: rs.authenticate }, async (request) => {
    handled++
    return { sub: request.user.sub }
  })
  rs.get('/raw', async (request) => {
    await request.jwtVerify()
    return { sub: request.user.sub }
  })
  await rs.ready()
  return { rs, handled: () => handled }
}

async function gatehouse (t: Test, env: Record<string, string> = {}) {
  const { app, url } = await buildListening(t, { AUDIENCE, ...env })
  const alice = await addUser(app, 'alice', PASSWORD, { scope: 'orders:read profile' })
  const token = async (scope?: string) => {
    const res = await app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'password', username: 'alice', password: PASSWORD, ...(scope ? { scope } : {}) }) })
    t.equal(res.statusCode, 200, 'Gatehouse issues a token')
    return res.json().access_token as string
  }
  /** A token signed with Gatehouse's active key (or `key`), valid unless `claims`/`header` say otherwise. */
  const craft = async (claims: JWTPayload = {}, header: Record<string, unknown> = {}, key?: KeyObject | Uint8Array) => {
    const active = app.signingKeys.current().active
    const now = Math.floor(Date.now() / 1000)
    return new SignJWT({ iss: url, sub: alice.id, aud: AUDIENCE, exp: now + 300, iat: now, jti: randomUUID(), client_id: 'default', scope: 'orders:read', ...claims })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: active.kid, ...header } as { alg: string })
      .sign(key ?? active.privateKey)
  }
  return { app, url, alice, token, craft }
}

/** Counts this process's fetch() calls by URL path (jose and the plugin use the global fetch). */
function countFetches (t: Test): Map<string, number> {
  const counts = new Map<string, number>()
  const realFetch = globalThis.fetch
  globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const path = new URL(input instanceof Request ? input.url : String(input)).pathname
    counts.set(path, (counts.get(path) ?? 0) + 1)
    return realFetch(input, init)
  }) as typeof fetch
  t.teardown(() => { globalThis.fetch = realFetch })
  return counts
}

const kidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid as string

t.test('the package exports gatehouse/resource-server from the build', async (t) => {
  t.match(import.meta.resolve(PACKAGE_ENTRY), /\/dist\/resource-server\/index\.js$/, 'the export points at dist/resource-server/index.js')
  t.type(await plugin(), 'function', 'a Fastify plugin is its default export')
})

t.test('a second Fastify app accepts Gatehouse tokens for its audience, checks scopes, and answers RFC 6750', async (t) => {
  const { url, token, craft } = await gatehouse(t)
  const { rs, handled } = await resourceServer(t, { issuer: url, audience: AUDIENCE })
  const get = (path: string, headers: Record<string, string> = {}) => rs.inject({ method: 'GET', url: path, headers })

  const none = await get('/orders')
  t.equal(none.statusCode, 401, 'no token: 401')
  t.equal(none.headers['www-authenticate'], `Bearer realm="${AUDIENCE}"`, 'a bare challenge, realm = the audience')
  t.equal(none.json().error, 'unauthorized')
  const rawNone = await get('/raw')
  t.equal(rawNone.statusCode, 401, 'no token, bare request.jwtVerify(): 401')
  t.equal(rawNone.headers['www-authenticate'], `Bearer realm="${AUDIENCE}"`)

  const full = await token()
  const ok = await get('/orders', bearer(full))
  t.equal(ok.statusCode, 200, 'a Gatehouse token with orders:read: 200')
  t.same(ok.json(), { sub: JSON.parse(Buffer.from(full.split('.')[1]!, 'base64url').toString()).sub, scope: 'orders:read profile' }, 'request.user holds the claims')
  t.equal((await get('/raw', bearer(full))).statusCode, 200, 'request.jwtVerify() works directly too')

  const narrow = await token('profile')
  t.equal((await get('/profile', bearer(narrow))).statusCode, 200, 'fastify.authenticate alone: any valid token')
  const forbidden = await get('/orders', bearer(narrow))
  t.equal(forbidden.statusCode, 403, 'without orders:read: 403')
  t.equal(forbidden.headers['www-authenticate'], `Bearer realm="${AUDIENCE}", error="insufficient_scope", error_description="this resource needs the scope: orders:read", scope="orders:read"`)
  t.equal(forbidden.json().error, 'insufficient_scope')

  const before = handled()
  const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const hmacKey = new Uint8Array(Buffer.from(JSON.stringify({ kty: 'EC' })))
  const now = Math.floor(Date.now() / 1000)
  const refused: Array<[string, string]> = [
    ['garbage', 'garbage'],
    ['another audience (signed by Gatehouse\'s key)', await craft({ aud: 'https://billing.test' })],
    ['another issuer', await craft({ iss: 'https://evil.test' })],
    ['typ JWT', await craft({}, { typ: 'JWT' })],
    ['no typ', await craft({}, { typ: undefined })],
    ['expired a minute ago (past the 10 s leeway)', await craft({ exp: now - 60, iat: now - 960 })],
    ['not yet valid', await craft({ nbf: now + 300 })],
    ['no jti', await craft({ jti: undefined })],
    ['signed by another key under Gatehouse\'s kid', await craft({}, {}, attacker.privateKey)],
    ['HS256', await craft({}, { alg: 'HS256' }, hmacKey)],
    ['an unknown kid', await craft({}, { kid: 'no-such-key' }, attacker.privateKey)],
    ['no kid', await craft({}, { kid: undefined })],
    ['scope edited after signing', full.replace(/\.([^.]+)\./, (_m, p: string) => `.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), scope: 'orders:read admin' })).toString('base64url')}.`)]
  ]
  for (const [label, bad] of refused) {
    const res = await get('/orders', bearer(bad))
    t.equal(res.statusCode, 401, `${label}: 401`)
    t.match(res.headers['www-authenticate'], new RegExp(`^Bearer realm="${AUDIENCE}", error="invalid_token"`), `${label}: error="invalid_token"`)
    t.equal(res.json().error, 'invalid_token', `${label}: body invalid_token`)
    // A bare request.jwtVerify() in a route of the app, whose error handler is Fastify's default one.
    const raw = await get('/raw', bearer(bad))
    t.equal(raw.statusCode, 401, `${label}: request.jwtVerify() 401`)
    t.match(raw.headers['www-authenticate'], new RegExp(`^Bearer realm="${AUDIENCE}", error="invalid_token"`), `${label}: request.jwtVerify() challenge`)
    t.equal(raw.json().code, 'invalid_token', `${label}: request.jwtVerify() code invalid_token`)
  }
  t.equal(handled(), before, 'no refused request reached a handler')

  const billing = await resourceServer(t, { issuer: url, audience: 'https://billing.test' })
  const elsewhere = await billing.rs.inject({ method: 'GET', url: '/profile', headers: bearer(full) })
  t.equal(elsewhere.statusCode, 401, 'Gatehouse\'s token for orders.test at a service whose audience is billing.test: 401')
  t.match(elsewhere.headers['www-authenticate'], /error="invalid_token"/)
})

t.test('RFC 9728 with `resource`: the protected resource metadata at both well-known paths, resource_metadata in every 401, tokens for another resource refused (D4)', async (t) => {
  const MCP = 'https://mcp.test/mcp'
  const { url, craft } = await gatehouse(t)
  const { rs, handled } = await resourceServer(t, { issuer: url, resource: MCP, scopes: ['orders:read', 'orders:write'], resourceName: 'Orders MCP' })
  const get = (path: string, headers: Record<string, string> = {}) => rs.inject({ method: 'GET', url: path, headers })
  const expected = { resource: MCP, authorization_servers: [url], scopes_supported: ['orders:read', 'orders:write'], bearer_methods_supported: ['header', 'body'], resource_name: 'Orders MCP', dpop_signing_alg_values_supported: [...DPOP_SIGNING_ALGS] }
  for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
    const res = await get(path)
    t.equal(res.statusCode, 200, `${path}: 200`)
    t.same(res.json(), expected, `${path}: resource, authorization_servers, scopes_supported, bearer_methods_supported, resource_name`)
    t.equal(res.headers['access-control-allow-origin'], '*', `${path}: readable from any origin`)
  }
  const where = 'resource_metadata="https://mcp.test/.well-known/oauth-protected-resource/mcp"'

  const none = await get('/orders')
  t.equal(none.statusCode, 401, 'no token: 401')
  t.equal(none.headers['www-authenticate'], `Bearer realm="${MCP}", ${where}`, 'the bare challenge names the metadata (RFC 9728 §5.1)')
  const raw = await get('/raw')
  t.equal(raw.headers['www-authenticate'], `Bearer realm="${MCP}", ${where}`, 'and so does a bare request.jwtVerify()')

  const mine = await craft({ aud: MCP })
  t.equal((await get('/orders', bearer(mine))).statusCode, 200, 'a token whose aud is this resource: 200')
  const narrow = await get('/orders', bearer(await craft({ aud: MCP, scope: 'profile' })))
  t.equal(narrow.statusCode, 403, 'without the scope: 403')
  t.match(narrow.headers['www-authenticate'], new RegExp(`error="insufficient_scope".*scope="orders:read", ${where}$`), 'the 403 names the scope and the metadata')

  const before = handled()
  for (const [label, aud] of [['another resource', 'https://billing.test/api'], ['the issuer (a token for Gatehouse itself)', url], ['the resource with another path', 'https://mcp.test/other']] as const) {
    const res = await get('/orders', bearer(await craft({ aud })))
    t.equal(res.statusCode, 401, `D4: a token for ${label}: 401`)
    t.match(res.headers['www-authenticate'], new RegExp(`error="invalid_token".*${where}$`), `D4: ${label}: invalid_token, and where to get a right one`)
  }
  t.equal(handled(), before, 'no refused token reached a handler')
})

t.test('RFC 9728: a resource without a path is served at the bare well-known path only; bad resource identifiers stop the service at registration', async (t) => {
  const { url, craft } = await gatehouse(t)
  const { rs } = await resourceServer(t, { issuer: url, resource: 'https://orders.test' })
  const doc = await rs.inject({ method: 'GET', url: '/.well-known/oauth-protected-resource' })
  t.same(doc.json(), { resource: 'https://orders.test', authorization_servers: [url], bearer_methods_supported: ['header', 'body'], dpop_signing_alg_values_supported: [...DPOP_SIGNING_ALGS] }, 'no scopes_supported or resource_name when none were given')
  t.equal((await rs.inject({ method: 'GET', url: '/profile' })).headers['www-authenticate'], 'Bearer realm="https://orders.test", resource_metadata="https://orders.test/.well-known/oauth-protected-resource"')
  t.equal((await rs.inject({ method: 'GET', url: '/profile', headers: bearer(await craft({ aud: 'https://orders.test' })) })).statusCode, 200, 'its tokens: aud = the resource exactly')
  for (const resource of ['orders.test', 'http://orders.test', 'https://orders.test/#f', 'https://orders.test/?a=1', 'javascript:alert(1)']) {
    const app = Fastify({ logger: false })
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(await plugin(), { issuer: url, resource }); await app.ready() }, /resource/, `${resource}: refused with a message naming the resource option`)
  }
  const local = Fastify({ logger: false })
  t.teardown(() => local.close())
  await local.register(await plugin(), { issuer: url, resource: 'http://127.0.0.1:3000/mcp' })
  t.equal((await local.inject({ method: 'GET', url: '/.well-known/oauth-protected-resource/mcp' })).statusCode, 200, 'http on a loopback host: allowed (development)')
})

t.test('across a key rotation: an unknown kid fetches the JWKS again, at most once every 10 s however many arrive', async (t) => {
  const fetches = countFetches(t)
  const { app, url, token, craft } = await gatehouse(t, { KEYS_REFRESH_SECONDS: '1', KEY_PUBLISH_DELAY_SECONDS: '4' })
  const { rs } = await resourceServer(t, { issuer: url, audience: AUDIENCE })
  const get = (tok: string) => rs.inject({ method: 'GET', url: '/orders', headers: bearer(tok) })
  const jwksFetches = () => fetches.get('/.well-known/jwks.json') ?? 0

  const first = await token()
  t.equal((await get(first)).statusCode, 200, 'the first token: 200')
  // The cooldown runs from the end of that fetch, which is before this moment.
  const firstFetch = Date.now()
  t.equal(fetches.get('/.well-known/oauth-authorization-server'), 1, 'jwks_uri from the RFC 8414 metadata')
  t.equal(jwksFetches(), 1, 'one JWKS fetch')

  // A flood of tokens naming keys nobody has: refused, and no second fetch inside the cooldown.
  const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const flood = await Promise.all(Array.from({ length: 50 }, async () => craft({}, { kid: randomUUID() }, attacker.privateKey)))
  const floodReplies = await Promise.all(flood.map(get))
  t.same([...new Set(floodReplies.map((r) => r.statusCode))], [401], '50 unknown kids: 401 each')
  t.equal(jwksFetches(), 1, 'and no JWKS fetch for them inside the 10 s cooldown')

  // Gatehouse rotates its key; past the cooldown and the key's activation (the publish delay, 4 s here),
  // its next token names the new kid.
  const { activatesAt } = await app.signingKeys.rotate()
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, firstFetch + 10_500 - Date.now(), activatesAt * 1000 + 100 - Date.now())))
  const second = await token()
  t.not(kidOf(second), kidOf(first), 'the new token is signed by the new key')
  t.equal((await get(second)).statusCode, 200, 'a token of the new key: 200, without a restart')
  t.equal(jwksFetches(), 2, 'after one more JWKS fetch')
  t.equal((await get(first)).statusCode, 200, 'a token of the old key still verifies (still published)')
  t.equal((await get(second)).statusCode, 200, 'again, from memory')

  const again = await Promise.all(flood.map(get))
  t.same([...new Set(again.map((r) => r.statusCode))], [401], 'the flood again: 401')
  t.equal(jwksFetches(), 2, 'and still no further fetch')
})

t.test('Gatehouse unreachable: 503 with Retry-After, never a crash; it recovers once Gatehouse answers', async (t) => {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const { rs } = await resourceServer(t, { issuer: url, audience: AUDIENCE, jwksCooldownMs: 300 })
  const app = await build(t, { ISSUER: url, AUDIENCE })
  await addUser(app, 'alice', PASSWORD, { scope: 'orders:read' })
  const login = await app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ username: 'alice', password: PASSWORD }) })
  const tok = login.json().access_token as string

  const down = await rs.inject({ method: 'GET', url: '/orders', headers: bearer(tok) })
  t.equal(down.statusCode, 503, 'nothing listens at the issuer: 503')
  t.equal(down.headers['retry-after'], '10')
  t.equal(down.json().error, 'temporarily_unavailable')

  await app.listen({ port, host: '127.0.0.1' })
  await new Promise((resolve) => setTimeout(resolve, 400))
  t.equal((await rs.inject({ method: 'GET', url: '/orders', headers: bearer(tok) })).statusCode, 200, 'Gatehouse up, cooldown over: 200')
})

t.test('the built package: npm pack carries every export target and the CLI, and a TypeScript service and extension route type-check against it', async (t) => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | Record<string, string>>, bin: Record<string, string> }
  const npm = process.env.npm_execpath?.endsWith('npm-cli.js') ? process.env.npm_execpath : join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js')
  const pack = spawnNode([npm, 'pack', '--dry-run', '--json', '--ignore-scripts'], { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' })
  let out = ''
  pack.stdout?.on('data', (chunk) => { out += chunk })
  await new Promise((resolve) => pack.on('close', resolve))
  t.comment(`npm pack --dry-run: ${out.length} bytes of JSON`)
  const files = new Set((JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path))
  const targets = Object.values(manifest.exports).flatMap((target) => typeof target === 'string' ? [target] : Object.values(target))
  for (const target of [...targets, ...Object.values(manifest.bin), 'dist/cli/index.js', 'dist/lib/oauth/access-tokens.js']) {
    t.ok(files.has(target.replace(/^\.\//, '')), `the package holds ${target}`)
  }
  t.notOk([...files].some((f) => f.startsWith('dist/test/')), 'and no tests')

  // A service's own code, type-checked against the package's declarations (resolved through `exports`), under
  // both names: `gatehouse/…` as a project has it whose node_modules/gatehouse is this package (a checkout linked
  // there, or `npm install gatehouse@npm:@gatehouse/server`), `@gatehouse/server/…` through the package's own name.
  const dir = t.testdir({
    'scoped.ts': `import Fastify from 'fastify'
import gatehouseAuth from '@gatehouse/server/resource-server'
import { fp, type JwtUser } from '@gatehouse/server/extension'

const app = Fastify()
await app.register(gatehouseAuth, { issuer: 'https://auth.example.com', audience: 'https://orders.example.com' })
export const claims = (user: JwtUser): string => user.sub
export const plugin = fp(async () => {}, { name: 'scoped' })
`,
    'service.ts': `import Fastify from 'fastify'
import gatehouseAuth from 'gatehouse/resource-server'

const app = Fastify()
await app.register(gatehouseAuth, { issuer: 'https://auth.example.com', audience: 'https://orders.example.com' })
app.get('/orders', { onRequest: [app.authenticate, app.requireScope('orders:read')] }, async (request) => {
  const sub: string = request.user.sub
  const scope: string | undefined = request.user.scope
  return { sub, scope }
})
// @ts-expect-error: the resource or the audience is required
await app.register(gatehouseAuth, { issuer: 'https://auth.example.com' })
`,
    // And an extension route (ROUTES_DIR) typed through gatehouse/extension.
    'route.ts': `import type { FastifyPluginAsync } from 'fastify'
import type { JwtUser } from 'gatehouse/extension'

const route: FastifyPluginAsync = async (fastify) => {
  fastify.get('/mine', { onRequest: [async (request) => { await request.jwtVerify() }, fastify.requireScope('items:read')] }, async (request) => {
    const claims: JwtUser = request.user
    return { sub: claims.sub, username: request.auth?.user?.username ?? null }
  })
}
export default route
`
  })
  mkdirSync(join(dir, 'node_modules'))
  symlinkSync(ROOT, join(dir, 'node_modules', 'gatehouse'), 'dir')
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2023'], types: ['node'], skipLibCheck: true, noEmit: true },
    include: ['service.ts', 'route.ts', 'scoped.ts']
  }))
  const tsc = spawnNode([join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], { PATH: process.env.PATH ?? '' })
  let output = ''
  tsc.stdout?.on('data', (chunk) => { output += chunk })
  const code = await new Promise((resolve) => tsc.on('close', resolve))
  t.equal(code, 0, `strict tsc accepts the service and the extension route:\n${output}`)
})

t.test('ACCESS_TOKEN_ALG=RS256: the resource server verifies RS256 tokens from the JWKS; a token signed with the ES256 key under the RSA kid is refused', async (t) => {
  const { app, url, token, craft } = await gatehouse(t, { ACCESS_TOKEN_ALG: 'RS256' })
  const { rs } = await resourceServer(t, { issuer: url, audience: AUDIENCE })
  const full = await token()
  t.equal(JSON.parse(Buffer.from(full.split('.')[0]!, 'base64url').toString()).alg, 'RS256', 'Gatehouse signs RS256')
  t.equal((await rs.inject({ url: '/orders', headers: bearer(full) })).statusCode, 200, 'accepted through the JWKS')
  const rsaKid = app.signingKeys.current().active.kid
  const ecKey = app.signingKeys.current().published.find((k) => k.alg === 'ES256')!
  // Algorithm confusion: the header names the RSA key but ES256, signed with the (real) EC key.
  const confused = await craft({}, { alg: 'ES256', kid: rsaKid }, ecKey.privateKey)
  t.equal((await rs.inject({ url: '/orders', headers: bearer(confused) })).statusCode, 401, 'a key verifies only its own algorithm')
})

import t from 'tap'
import { EXAMPLES } from '../support/paths.js'
import { join } from 'node:path'
import { addClient, addUser, basic, build, manualClock, post } from '../support/helper.js'
import { bearer, JWT_VERIFY_PATH, JWT_VERIFY_ROUTES, passwordGrant } from '../support/oauth.js'

const PASSWORD = 'correct horse battery staple'
// dist/test → dist/examples/protected-route (the compiled example extension).
const EXAMPLE_ROUTES = join(EXAMPLES, 'protected-route')

t.test('ROUTES_DIR: the example protected route is loaded and guarded by scope', async (t) => {
  const app = await build(t, { ROUTES_DIR: EXAMPLE_ROUTES })
  await addUser(app, 'alice', PASSWORD, { scope: 'read items:read' })

  const none = await app.inject({ method: 'GET', url: '/users/me/items' })
  t.equal(none.statusCode, 401, 'no token: 401')
  t.equal(none.headers['www-authenticate'], 'Bearer realm="gatehouse"', 'a bare challenge')

  const bad = await app.inject({ method: 'GET', url: '/users/me/items', headers: bearer('not.a.token') })
  t.equal(bad.statusCode, 401)
  t.match(bad.headers['www-authenticate'], /error="invalid_token"/)

  const narrow = await passwordGrant(t, app, 'alice', PASSWORD, { scope: 'read' })
  const forbidden = await app.inject({ method: 'GET', url: '/users/me/items', headers: bearer(narrow.access_token) })
  t.equal(forbidden.statusCode, 403, 'a token without items:read: 403')
  t.match(forbidden.headers['www-authenticate'], /^Bearer realm="gatehouse", error="insufficient_scope"/)
  t.match(forbidden.headers['www-authenticate'], /scope="items:read"/, 'the challenge names the scope needed')
  t.equal(forbidden.json().error, 'insufficient_scope')
  t.notOk(forbidden.body.includes('Foo'), 'no items')

  const wide = await passwordGrant(t, app, 'alice', PASSWORD, { scope: 'items:read' })
  const ok = await app.inject({ method: 'GET', url: '/users/me/items', headers: bearer(wide.access_token) })
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), [{ item_id: 'Foo', owner: 'alice' }])

  t.equal((await app.inject({ method: 'GET', url: '/users/me', headers: bearer(narrow.access_token) })).statusCode, 200, 'the built-in routes are still there')
})

t.test('without ROUTES_DIR the example route does not exist', async (t) => {
  const app = await build(t)
  t.equal((await app.inject({ method: 'GET', url: '/users/me/items' })).statusCode, 404)
})

t.test('PLUGINS_DIR: a plugin file is loaded after the built-in plugins and before the routes', async (t) => {
  const fastifyPlugin = import.meta.resolve('fastify-plugin')
  const dir = t.testdir({
    'extension.mjs': `
import fp from ${JSON.stringify(fastifyPlugin)}
export default fp(async (fastify) => {
  fastify.decorate('extensionLoaded', { issuer: fastify.config.issuer })
  // Built-in decorators are there to build on: an extension route behind a bearer token.
  fastify.get('/extension/whoami', { preHandler: fastify.authenticate }, async (request) => ({ username: request.auth.user.username }))
}, { name: 'test-extension', dependencies: ['config', 'authenticate'] })
`
  })
  const app = await build(t, { PLUGINS_DIR: dir })
  t.ok(app.hasDecorator('extensionLoaded'), 'the plugin ran and its decorator reached the app')
  t.same((app as unknown as { extensionLoaded: unknown }).extensionLoaded, { issuer: 'http://gatehouse.test' }, 'with the app config available')

  await addUser(app, 'alice', PASSWORD)
  const { access_token: token } = await passwordGrant(t, app, 'alice', PASSWORD)
  const res = await app.inject({ method: 'GET', url: '/extension/whoami', headers: bearer(token) })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { username: 'alice' })
  t.equal((await app.inject({ method: 'GET', url: '/extension/whoami' })).statusCode, 401)
})

t.test('the example\'s /status (fastify.authenticate) needs any valid token, like the tutorial\'s Depends(get_current_user)', async (t) => {
  const app = await build(t, { ROUTES_DIR: EXAMPLE_ROUTES })
  await addUser(app, 'alice', PASSWORD, { scope: 'read' })
  t.equal((await app.inject({ method: 'GET', url: '/status' })).statusCode, 401)
  const { access_token: token } = await passwordGrant(t, app, 'alice', PASSWORD)
  const res = await app.inject({ method: 'GET', url: '/status', headers: bearer(token) })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ok' })
})

t.test('request.jwtVerify() in an extension route: Gatehouse\'s tokens across a key rotation, with their standing checked', async (t) => {
  const clock = manualClock()
  const app = await build(t, { ROUTES_DIR: JWT_VERIFY_ROUTES }, { clock })
  const alice = await addUser(app, 'alice', PASSWORD, { scope: 'read' })
  const web = { authorization: basic('web', (await addClient(app, 'web', { grantTypes: ['password', 'refresh_token'] }))!) }
  const login = async () => {
    const res = await post(app, '/token', { grant_type: 'password', username: 'alice', password: PASSWORD }, web)
    t.equal(res.statusCode, 200)
    return res.json().access_token as string
  }
  const probe = (token: string) => app.inject({ method: 'GET', url: JWT_VERIFY_PATH, headers: bearer(token) })
  const kidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid as string

  const before = await login()
  const ok = await probe(before)
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { sub: alice.id, username: 'alice' }, 'request.user holds the claims, request.auth the user')

  // Rotation without a restart: the secret function reads the current key set on every call.
  // A new key signs from its activation, after the publish delay (lib/keys/signing-keys.ts).
  const { activatesAt } = await app.signingKeys.rotate()
  clock.advance(activatesAt - clock.now())
  const after = await login()
  t.not(kidOf(after), kidOf(before), 'the new token is signed by the new key')
  t.equal((await probe(after)).statusCode, 200, 'a token of the new key verifies at once')
  t.equal((await probe(before)).statusCode, 200, 'a token of the old key still verifies')

  // Standing: deleting the client kills its tokens on this path too.
  const { deleteClient } = await import('../../lib/admin/clients.js')
  await deleteClient({ storage: app.storage, clock: app.clock, config: app.config }, 'web')
  const gone = await probe(after)
  t.equal(gone.statusCode, 401, 'the client was deleted: invalid_token')
  t.match(gone.headers['www-authenticate'], /^Bearer realm="gatehouse", error="invalid_token"/)

  // Verify-only: nothing in an extension can mint tokens with Gatehouse's keys through @fastify/jwt.
  t.throws(() => app.jwt.sign({ sub: 'x' } as never), /verify mode/, 'fastify.jwt.sign is refused')
})

t.test('@fastify/jwt and fast-jwt failures become RFC 6750 replies', async (t) => {
  const { fromJwtError } = await import('../../lib/http/framework-errors.js')
  t.equal(fromJwtError({ code: 'FST_JWT_NO_AUTHORIZATION_IN_HEADER' })?.headers['www-authenticate'], 'Bearer realm="gatehouse"', 'no token: a bare challenge')
  for (const code of ['FST_JWT_AUTHORIZATION_TOKEN_INVALID', 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED', 'FST_JWT_AUTHORIZATION_TOKEN_UNTRUSTED', 'FST_JWT_BAD_REQUEST', 'FAST_JWT_INVALID_ALGORITHM', 'FAST_JWT_MALFORMED', 'FAST_JWT_MISSING_SIGNATURE']) {
    const err = fromJwtError({ code })
    t.equal(err?.statusCode, 401, `${code}: 401`)
    t.equal(err?.error, 'invalid_token', `${code}: invalid_token`)
  }
  t.equal(fromJwtError({ code: 'FAST_JWT_INVALID_OPTION' }), undefined, 'a bad option is our bug (500), not a bad token')
  t.equal(fromJwtError({ code: 'FST_ERR_VALIDATION' }), undefined, 'other errors are not JWT errors')
})

import t from 'tap'
import { join } from 'node:path'
import { build, addUser } from './helper.js'
import { bearer, passwordGrant } from './support.js'

const PASSWORD = 'correct horse battery staple'
// dist/test → dist/examples/protected-route (the compiled example extension).
const EXAMPLE_ROUTES = join(import.meta.dirname, '..', 'examples', 'protected-route')

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

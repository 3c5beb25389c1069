import t from 'tap'
import Fastify from 'fastify'
import { decodeJwt } from 'jose'
import { addClient, addUser, basic, buildListening, post } from '../support/helper.js'
import { InjectBrowser, authorizeThrough, browserFixtures, exchange, webRequest } from '../support/browser.js'
import { assertOAuthError, bearer } from '../support/oauth.js'
import gatehouseAuth from '../../resource-server/index.js'

// SECURITY-CASES D4 (RFC 8707 §2; RFC 9728 §7): a token for resource A sent to resource B is refused there (401
// invalid_token), and so is it at Gatehouse's own endpoints; a refresh token asking for a resource not granted at
// authorization is invalid_target, however registered, and leaves the family usable. The resource-server plugin's
// audience check is `audience` (RFC 9728's `resource` option and metadata are the plugin's own work).

const A = 'https://a.example.test/api'
const B = 'https://b.example.test/mcp'

t.test('D4: a token for resource A sent to resource B (plugin with audience B) is 401 invalid_token at B, accepted at A', async (t) => {
  const { app, url } = await buildListening(t)
  await app.storage.resources.create({ uri: A, name: 'A', scope: 'a:read' })
  await app.storage.resources.create({ uri: B, name: 'B', scope: 'b:read' })
  const auth = basic('svc', (await addClient(app, 'svc', { grantTypes: ['client_credentials'], scope: 'a:read b:read' }))!)
  const forA = (await post(app, '/token', { grant_type: 'client_credentials', resource: A }, { authorization: auth })).json().access_token as string
  t.equal(decodeJwt(forA).aud, A)

  const server = async (audience: string) => {
    const rs = Fastify({ logger: false })
    t.teardown(() => rs.close())
    await rs.register(gatehouseAuth, { issuer: url, audience })
    rs.get('/data', { onRequest: rs.authenticate }, async () => ({ ok: true }))
    await rs.ready()
    return rs
  }
  const atB = await (await server(B)).inject({ method: 'GET', url: '/data', headers: bearer(forA) })
  t.equal(atB.statusCode, 401, 'B refuses A\'s token')
  t.match(atB.headers['www-authenticate'], /error="invalid_token"/)
  t.equal((await (await server(A)).inject({ method: 'GET', url: '/data', headers: bearer(forA) })).statusCode, 200, 'A accepts it')

  // A user's token for A (the password grant): Gatehouse's own API refuses it, it is not for Gatehouse.
  await addUser(app, 'alice', 'pw', { scope: 'profile' })
  const usersA = (await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw', resource: A })).json().access_token as string
  t.equal(decodeJwt(usersA).aud, A)
  for (const path of ['/users/me', '/userinfo']) {
    const refused = await app.inject({ method: 'GET', url: path, headers: bearer(usersA) })
    t.equal(refused.statusCode, 401, `${path} refuses it`)
    t.match(refused.headers['www-authenticate'], /error="invalid_token"/)
  }
  t.equal((await (await server(B)).inject({ method: 'GET', url: '/data', headers: bearer(usersA) })).statusCode, 401, 'and so does B')
})

t.test('D4: a refresh for a resource not granted at authorization is invalid_target; the family still serves the one granted', async (t) => {
  const { app } = await buildListening(t)
  const { webAuth } = await browserFixtures(app)
  await app.storage.resources.create({ uri: A, name: 'A', scope: 'a:read' })
  await app.storage.resources.create({ uri: B, name: 'B', scope: 'b:read' })
  const request = webRequest({ scope: 'openid a:read' })
  const code = await authorizeThrough(new InjectBrowser(app), `${request.url}&resource=${encodeURIComponent(A)}`)
  const tokens = await exchange(app, { code, code_verifier: request.verifier }, webAuth)
  t.equal(tokens.statusCode, 200, tokens.body)
  const refresh = tokens.json().refresh_token as string

  assertOAuthError(t, await post(app, '/token', { grant_type: 'refresh_token', refresh_token: refresh, resource: B }, { authorization: webAuth }), 400, 'invalid_target', undefined, 'B is registered but was not granted')
  assertOAuthError(t, await post(app, '/token', { grant_type: 'refresh_token', refresh_token: refresh, resource: 'https://c.example.test' }, { authorization: webAuth }), 400, 'invalid_target', undefined, 'an unknown one')
  assertOAuthError(t, await post(app, '/token', { grant_type: 'refresh_token', refresh_token: refresh, resource: B, scope: 'b:read' }, { authorization: webAuth }), 400, 'invalid_target', undefined, 'with its scope')
  const next = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: refresh, resource: A }, { authorization: webAuth })
  t.equal(next.statusCode, 200, `the refused requests spent nothing: ${next.body}`)
  t.equal(decodeJwt(next.json().access_token).aud, A)
  t.equal(decodeJwt(next.json().access_token).scope, 'a:read')

  // A family granted no resource cannot reach one either.
  const plain = webRequest()
  const plainTokens = await exchange(app, { code: await authorizeThrough(new InjectBrowser(app), plain.url), code_verifier: plain.verifier }, webAuth)
  assertOAuthError(t, await post(app, '/token', { grant_type: 'refresh_token', refresh_token: plainTokens.json().refresh_token, resource: A }, { authorization: webAuth }), 400, 'invalid_target', undefined, 'a family without resources')
})

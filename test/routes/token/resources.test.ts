import t, { type Test } from 'tap'
import { decodeJwt } from 'jose'
import { addClient, addUser, basic, build, post } from '../../support/helper.js'
import { InjectBrowser, PASSWORD, REDIRECT, authorizeThrough, browserFixtures, callbackParams, exchange, field, webRequest } from '../../support/browser.js'
import { assertOAuthError, bearer } from '../../support/oauth.js'

// RFC 8707 resource indicators through the app: `resource` at /authorize and at /token for every grant, the tokens'
// `aud` and scopes, invalid_target, the consent page, and what Gatehouse's own endpoints, introspection and revocation
// do with a token for another API. The refresh rule (SECURITY-CASES D4) is in test/security/d-resources.test.ts; the
// rules alone in test/lib/oauth/resources.test.ts; the administration in test/routes/admin/resources.test.ts.

const MCP = 'https://mcp.example.test/mcp'
const ORDERS = 'https://orders.example.test'

async function setup (t: Test) {
  const app = await build(t)
  const fixtures = await browserFixtures(app)
  await app.storage.resources.create({ uri: MCP, name: 'Example MCP server', scope: 'mcp:tools mcp:prompts' })
  await app.storage.resources.create({ uri: ORDERS, name: 'Orders API', scope: 'orders:read orders:write' })
  return { app, ...fixtures }
}

/** A web request naming `resources` (each a `resource` parameter, RFC 8707 §2.1). */
function requestFor (resources: string[], over: Record<string, string | undefined> = {}) {
  const request = webRequest(over)
  return { ...request, url: request.url + resources.map((r) => `&resource=${encodeURIComponent(r)}`).join('') }
}

t.test('client_credentials with resource: aud is the resource, and only the scopes it defines that the client may have', async (t) => {
  const { app } = await setup(t)
  const auth = basic('svc', (await addClient(app, 'svc', { grantTypes: ['client_credentials'], scope: 'orders:read mcp:tools other' }))!)

  const res = await post(app, '/token', { grant_type: 'client_credentials', resource: ORDERS }, { authorization: auth })
  t.equal(res.statusCode, 200, res.body)
  t.equal(res.json().scope, 'orders:read', 'no scope asked: what the client may have of what the resource defines')
  const claims = decodeJwt(res.json().access_token)
  t.equal(claims.aud, ORDERS)
  t.equal(claims.scope, 'orders:read')

  const plain = await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: auth })
  t.equal(decodeJwt(plain.json().access_token).aud, app.config.issuer, 'without resource: as before, aud = the issuer')
  t.equal(plain.json().scope, 'orders:read mcp:tools other')

  assertOAuthError(t, await post(app, '/token', { grant_type: 'client_credentials', resource: ORDERS, scope: 'orders:write' }, { authorization: auth }), 400, 'invalid_scope', undefined, 'a scope the client was not given')
  assertOAuthError(t, await post(app, '/token', { grant_type: 'client_credentials', resource: ORDERS, scope: 'other' }, { authorization: auth }), 400, 'invalid_scope', undefined, 'a scope the resource does not define')
  assertOAuthError(t, await post(app, '/token', { grant_type: 'client_credentials', resource: 'https://unknown.example.test' }, { authorization: auth }), 400, 'invalid_target', /unknown resource/)
  assertOAuthError(t, await post(app, '/token', { grant_type: 'client_credentials', resource: `${ORDERS}#f` }, { authorization: auth }), 400, 'invalid_target', /fragment/)
  assertOAuthError(t, await post(app, '/token', { grant_type: 'client_credentials', resource: 'orders' }, { authorization: auth }), 400, 'invalid_target', /absolute URI/)
  const twice = await app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth }, payload: `grant_type=client_credentials&resource=${encodeURIComponent(ORDERS)}&resource=${encodeURIComponent(MCP)}` })
  assertOAuthError(t, twice, 400, 'invalid_request', /repeated/, 'one resource per token request')
})

t.test('password grant with resource: a token and a family for that resource only', async (t) => {
  const { app } = await setup(t)
  await addUser(app, 'bob', PASSWORD, { scope: 'items:read' })
  const res = await post(app, '/token', { grant_type: 'password', username: 'bob', password: PASSWORD, resource: MCP, scope: 'mcp:tools' })
  t.equal(res.statusCode, 200, res.body)
  const claims = decodeJwt(res.json().access_token)
  t.equal(claims.aud, MCP)
  t.equal(claims.scope, 'mcp:tools', 'a resource scope the user does not hold: the resource defines it')
  assertOAuthError(t, await post(app, '/token', { grant_type: 'password', username: 'bob', password: PASSWORD, resource: MCP, scope: 'items:read' }), 400, 'invalid_scope', undefined, 'a scope of Gatehouse\'s is not the resource\'s')
  assertOAuthError(t, await post(app, '/token', { grant_type: 'password', username: 'bob', password: 'wrong', resource: 'https://nope.example.test' }), 400, 'invalid_target', undefined, 'the resource is checked before the password')
  if (res.json().refresh_token !== undefined) {
    const refreshed = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: res.json().refresh_token })
    t.equal(refreshed.statusCode, 200, refreshed.body)
    t.equal(decodeJwt(refreshed.json().access_token).aud, MCP, 'the family\'s one resource, without naming it')
  }
})

t.test('authorization code with one resource: the consent page names the API; the token is for it, the ID token is the client\'s', async (t) => {
  const { app, webAuth } = await setup(t)
  const browser = new InjectBrowser(app)
  const request = requestFor([MCP], { scope: 'openid mcp:tools' })
  let page = await browser.get(request.url)
  page = await browser.post('/login', { username: 'alice', password: PASSWORD, csrf: field(page.body, 'csrf'), return_to: field(page.body, 'return_to') })
  page = await browser.get(page.headers.location!)
  t.equal(page.statusCode, 200)
  t.match(page.body, 'Example MCP server', 'the consent page names the API')
  t.match(page.body, MCP, 'and its URI')
  t.match(page.body, 'mcp:tools', 'and the scope asked for it')
  const answer = await browser.post('/consent', { decision: 'allow', csrf: field(page.body, 'csrf'), return_to: field(page.body, 'return_to') })
  const code = callbackParams(answer).get('code')!

  const res = await exchange(app, { code, code_verifier: request.verifier }, webAuth)
  t.equal(res.statusCode, 200, res.body)
  const body = res.json()
  const access = decodeJwt(body.access_token)
  t.equal(access.aud, MCP, 'none named at /token, one granted: that one')
  t.equal(access.scope, 'mcp:tools', 'only the resource\'s scopes (no openid)')
  t.equal(body.scope, 'mcp:tools')
  t.equal(decodeJwt(body.id_token).aud, 'web', 'the ID token stays the client\'s')

  // Gatehouse's own endpoints refuse it: it is not for them.
  for (const url of ['/userinfo', '/users/me']) {
    const refused = await app.inject({ method: 'GET', url, headers: bearer(body.access_token) })
    t.equal(refused.statusCode, 401, url)
    t.match(refused.headers['www-authenticate'], /error="invalid_token"/, url)
  }

  // The same consent covers the same request again (no page); another API needs a new one.
  const again = requestFor([MCP], { scope: 'openid mcp:tools' })
  t.ok(callbackParams(await browser.get(again.url)).get('code'), 'consented: straight back with a code')
  const other = requestFor([ORDERS], { scope: 'openid' })
  const otherPage = await browser.get(other.url)
  t.equal(otherPage.statusCode, 200)
  t.match(otherPage.body, 'Orders API', 'a resource not consented to yet asks again')
})

t.test('two resources at /authorize: /token names which; none named is a token for Gatehouse; another is invalid_target', async (t) => {
  const { app, webAuth } = await setup(t)
  const browser = new InjectBrowser(app)
  const request = requestFor([MCP, ORDERS], { scope: 'openid items:read mcp:tools orders:read' })
  const code = await authorizeThrough(browser, request.url)
  assertOAuthError(t, await exchange(app, { code, code_verifier: request.verifier, resource: 'https://mcp.example.test/other' }, webAuth), 400, 'invalid_target', undefined, 'not among those named')
  const res = await exchange(app, { code, code_verifier: request.verifier, resource: ORDERS }, webAuth)
  t.equal(res.statusCode, 200, `the refused request left the code redeemable: ${res.body}`)
  const orders = decodeJwt(res.json().access_token)
  t.equal(orders.aud, ORDERS)
  t.equal(orders.scope, 'orders:read')
  t.ok(res.json().id_token, 'openid was granted: an ID token')

  const refresh = res.json().refresh_token as string
  const mcp = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: refresh, resource: MCP }, { authorization: webAuth })
  t.equal(mcp.statusCode, 200, mcp.body)
  t.equal(decodeJwt(mcp.json().access_token).aud, MCP, 'the family reaches the other resource granted')
  t.equal(decodeJwt(mcp.json().access_token).scope, 'mcp:tools')

  const own = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: mcp.json().refresh_token }, { authorization: webAuth })
  t.equal(own.statusCode, 200, own.body)
  const ownClaims = decodeJwt(own.json().access_token)
  t.equal(ownClaims.aud, app.config.issuer, 'none named, two granted: Gatehouse\'s own token')
  t.equal(ownClaims.scope, 'openid items:read', 'with the scopes the user holds (and the OIDC ones), none of the resources\'')
  t.equal((await app.inject({ method: 'GET', url: '/userinfo', headers: bearer(own.json().access_token) })).statusCode, 200, 'and Gatehouse accepts it')

  const narrowed = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: own.json().refresh_token, resource: ORDERS, scope: 'orders:read' }, { authorization: webAuth })
  t.equal(decodeJwt(narrowed.json().access_token).scope, 'orders:read', 'narrowed')
  assertOAuthError(t, await post(app, '/token', { grant_type: 'refresh_token', refresh_token: narrowed.json().refresh_token, resource: ORDERS, scope: 'orders:write' }, { authorization: webAuth }), 400, 'invalid_scope', undefined, 'never widened')
})

t.test('at /authorize an unknown or malformed resource goes back to the client as invalid_target', async (t) => {
  const { app } = await setup(t)
  const browser = new InjectBrowser(app)
  for (const resource of ['https://unknown.example.test', 'http://evil.example.test/api', `${MCP}#x`, 'not a uri']) {
    const res = await browser.get(requestFor([resource]).url)
    t.equal(res.statusCode, 303, resource)
    const params = callbackParams(res)
    t.equal(params.get('error'), 'invalid_target', resource)
    t.equal(params.get('state'), 'st-1')
    t.equal(new URL(res.headers.location!).origin + new URL(res.headers.location!).pathname, REDIRECT)
  }
  const post = await browser.post('/authorize', { ...requestFor([]).params, resource: 'https://unknown.example.test' } as Record<string, string>)
  t.equal(callbackParams(post).get('error'), 'invalid_target', 'POST /authorize too')
  const scope = await browser.get(requestFor([], { scope: 'mcp:tools' }).url)
  t.equal(scope.statusCode, 200, 'the login page first')
})

t.test('a resource scope without its resource is refused as before (invalid_scope once signed in)', async (t) => {
  const { app } = await setup(t)
  const browser = new InjectBrowser(app)
  const request = requestFor([], { scope: 'openid mcp:tools' })
  let res = await browser.get(request.url)
  res = await browser.post('/login', { username: 'alice', password: PASSWORD, csrf: field(res.body, 'csrf'), return_to: field(res.body, 'return_to') })
  if (res.statusCode === 303 && res.headers.location!.startsWith('/authorize')) res = await browser.get(res.headers.location!)
  t.equal(callbackParams(res).get('error'), 'invalid_scope')
})

t.test('introspection answers the resource\'s aud and scopes; revocation works; removing the resource ends its tokens', async (t) => {
  const { app } = await setup(t)
  const rsAuth = basic('rs', (await addClient(app, 'rs', { grantTypes: ['client_credentials'], scope: 'mcp:tools' }))!)
  const token = (await post(app, '/token', { grant_type: 'client_credentials', resource: MCP }, { authorization: rsAuth })).json().access_token as string
  const introspected = await post(app, '/introspect', { token }, { authorization: rsAuth })
  t.match(introspected.json(), { active: true, aud: MCP, scope: 'mcp:tools', client_id: 'rs' })

  await post(app, '/revoke', { token }, { authorization: rsAuth })
  t.same((await post(app, '/introspect', { token }, { authorization: rsAuth })).json(), { active: false }, 'revoked')

  const second = (await post(app, '/token', { grant_type: 'client_credentials', resource: MCP }, { authorization: rsAuth })).json().access_token as string
  t.equal((await post(app, '/introspect', { token: second }, { authorization: rsAuth })).json().active, true)
  await app.storage.resources.delete(MCP)
  t.same((await post(app, '/introspect', { token: second }, { authorization: rsAuth })).json(), { active: false }, 'the resource removed: its tokens are not active')
  assertOAuthError(t, await post(app, '/token', { grant_type: 'client_credentials', resource: MCP }, { authorization: rsAuth }), 400, 'invalid_target')
})

import t from 'tap'
import { addClient, build, FORM, form, manualClock, post } from '../../support/helper.js'
import { assertOAuthError } from '../../support/oauth.js'
import { authorizeThrough, browserFixtures, callbackParams, exchange, InjectBrowser, pkce, REDIRECT } from '../../support/browser.js'

// POST /par (RFC 9126) and /authorize?request_uri=… through app.inject (runs on SQLite; test/postgres/ re-runs it).

const URN = /^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$/

/** web's standard request as push fields, with a fresh PKCE pair. */
function pushFields (over: Record<string, string | undefined> = {}) {
  const { verifier, challenge } = pkce()
  const fields = { response_type: 'code', redirect_uri: REDIRECT, scope: 'openid profile', state: 'st-1', nonce: 'n-1', code_challenge: challenge, code_challenge_method: 'S256', ...over }
  return { verifier, fields: Object.fromEntries(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined)) }
}

t.test('a confidential client pushes, the browser presents the urn, the code is exchanged with PKCE', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app)
  const { verifier, fields } = pushFields()
  const pushed = await post(app, '/par', fields, { authorization: webAuth })
  t.equal(pushed.statusCode, 201, pushed.body)
  t.equal(pushed.headers['cache-control'], 'no-store')
  const body = pushed.json()
  t.match(body.request_uri, URN, '256 random bits after the URN prefix')
  t.equal(body.expires_in, 60)
  t.same(Object.keys(body).sort(), ['expires_in', 'request_uri'])

  const browser = new InjectBrowser(app)
  // Query parameters other than client_id and request_uri are ignored (RFC 9126 §4): this state is not the pushed one.
  const url = `/authorize?client_id=web&request_uri=${encodeURIComponent(body.request_uri)}&state=forged&scope=admin`
  const code = await authorizeThrough(browser, url)
  const tokens = await exchange(app, { code, code_verifier: verifier }, webAuth)
  t.equal(tokens.statusCode, 200, tokens.body)
  t.equal(tokens.json().scope, 'openid profile', 'the pushed scope')
})

t.test('a public client pushes with its client_id alone; the pushed state comes back', async (t) => {
  const app = await build(t)
  await browserFixtures(app)
  const { verifier, fields } = pushFields({ redirect_uri: 'https://spa.test/cb', scope: 'items:read' })
  const pushed = await post(app, '/par', { ...fields, client_id: 'spa' })
  t.equal(pushed.statusCode, 201, pushed.body)
  const browser = new InjectBrowser(app)
  let res = await browser.get(`/authorize?client_id=spa&request_uri=${encodeURIComponent(pushed.json().request_uri)}`)
  t.equal(res.statusCode, 200, 'the login page')
  t.match(res.body, /name="return_to" value="\/authorize\?client_id=spa&amp;request_uri=urn%3Aietf/, 'the pages return to the urn, not to the parameters')
  res = await browser.get(`/authorize?client_id=spa&request_uri=${encodeURIComponent(pushed.json().request_uri)}`)
  t.equal(res.statusCode, 200, 'a reload during the sign-in works')
  const code = await authorizeThrough(browser, `/authorize?client_id=spa&request_uri=${encodeURIComponent(pushed.json().request_uri)}`)
  const tokens = await exchange(app, { code, code_verifier: verifier, client_id: 'spa', redirect_uri: 'https://spa.test/cb' })
  t.equal(tokens.statusCode, 200, tokens.body)
})

t.test('prompt=login pushed: one sign-in satisfies it, no loop through the consent page', async (t) => {
  const clock = manualClock()
  const app = await build(t, {}, { clock })
  const { webAuth } = await browserFixtures(app)
  const browser = new InjectBrowser(app)
  await authorizeThrough(browser, `/authorize?${new URLSearchParams({ ...pushFields().fields, client_id: 'web', scope: 'openid' }).toString()}`)
  // A sign-in at or after the second the urn was first presented is the new one (auth_time has whole seconds).
  clock.advance(5)
  const { fields } = pushFields({ prompt: 'login', scope: 'openid profile' })
  const urn = (await post(app, '/par', fields, { authorization: webAuth })).json().request_uri
  const url = `/authorize?client_id=web&request_uri=${encodeURIComponent(urn)}`
  const login = await browser.get(url)
  t.match(login.body, /name="password"/, 'signed in, and still the login page (prompt=login)')
  const code = await authorizeThrough(browser, url)
  t.ok(code, 'after the login and consent pages, a code')
})

t.test('every validation error at push time, as JSON', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app)
  await addClient(app, 'svc', { grantTypes: ['client_credentials'] })
  const push = (over: Record<string, string | undefined>, auth = webAuth) => post(app, '/par', pushFields(over).fields, { authorization: auth })
  assertOAuthError(t, await push({ response_type: 'token' }), 400, 'unsupported_response_type', undefined, 'implicit')
  assertOAuthError(t, await push({ response_type: undefined }), 400, 'invalid_request', /response_type/, 'no response_type')
  assertOAuthError(t, await push({ redirect_uri: 'https://evil.test/cb' }), 400, 'invalid_redirect_uri', undefined, 'unregistered redirect_uri')
  assertOAuthError(t, await push({ scope: 'openid bad"scope' }), 400, 'invalid_scope', undefined, 'malformed scope')
  assertOAuthError(t, await push({ code_challenge: undefined }), 400, 'invalid_request', /PKCE/, 'no PKCE')
  assertOAuthError(t, await push({ code_challenge_method: 'plain' }), 400, 'invalid_request', /S256/, 'plain PKCE')
  assertOAuthError(t, await push({ prompt: 'sometimes' }), 400, 'invalid_request', /prompt/, 'prompt')
  assertOAuthError(t, await push({ claims: '{' }), 400, 'invalid_request', undefined, 'claims')
  assertOAuthError(t, await push({ resource: 'https://unknown.test/' }), 400, 'invalid_target', undefined, 'an unregistered resource')
  assertOAuthError(t, await push({ request_uri: 'urn:ietf:params:oauth:request_uri:x' }), 400, 'invalid_request', /request_uri/, 'request_uri pushed (§2.1)')
  assertOAuthError(t, await push({ id_token_hint: 'not.a.jwt' }), 400, 'invalid_request', /id_token_hint/, 'id_token_hint')
  assertOAuthError(t, await push({ state: 'a\u0000b' }), 400, 'invalid_request', /NUL/, 'a NUL')
  assertOAuthError(t, await post(app, '/par', { ...pushFields().fields, client_id: 'spa' }, { authorization: webAuth }), 400, 'invalid_request', /client_id/, 'another client_id than the authenticated one')
  assertOAuthError(t, await post(app, '/par', { ...pushFields().fields, client_id: 'svc' }), 401, 'invalid_client', undefined, 'a confidential client without its secret')
  const svcSecret = await addClient(app, 'svc2', { grantTypes: ['client_credentials'] }) as string
  assertOAuthError(t, await post(app, '/par', { ...pushFields().fields, client_id: 'svc2', client_secret: svcSecret }), 400, 'unauthorized_client', undefined, 'a client without authorization_code')
})

t.test('client authentication failures are 401 invalid_client', async (t) => {
  const app = await build(t)
  await browserFixtures(app)
  const { fields } = pushFields()
  assertOAuthError(t, await post(app, '/par', fields), 401, 'invalid_client', undefined, 'no client at all')
  const wrong = await post(app, '/par', fields, { authorization: 'Basic ' + Buffer.from('web:nope').toString('base64') })
  assertOAuthError(t, wrong, 401, 'invalid_client', undefined, 'a wrong secret')
  t.match(wrong.headers['www-authenticate'], /^Basic /)
  assertOAuthError(t, await post(app, '/par', { ...fields, client_id: 'nobody' }), 401, 'invalid_client', undefined, 'an unknown client')
})

t.test('form only, no repeated parameter but resource, 64 KiB bodies', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app)
  const json = await app.inject({ method: 'POST', url: '/par', headers: { 'content-type': 'application/json', authorization: webAuth }, payload: JSON.stringify(pushFields().fields) })
  assertOAuthError(t, json, 400, 'invalid_request', /x-www-form-urlencoded/, 'JSON')
  const twice = await app.inject({ method: 'POST', url: '/par', headers: { ...FORM, authorization: webAuth }, payload: `${form(pushFields().fields)}&scope=openid` })
  assertOAuthError(t, twice, 400, 'invalid_request', /repeated/, 'a repeated scope')
  await app.storage.resources.create({ uri: 'https://a.test/', name: 'A', scope: 'a:read' })
  await app.storage.resources.create({ uri: 'https://b.test/', name: 'B', scope: 'b:read' })
  const resources = await app.inject({ method: 'POST', url: '/par', headers: { ...FORM, authorization: webAuth }, payload: `${form(pushFields().fields)}&resource=https%3A%2F%2Fa.test%2F&resource=https%3A%2F%2Fb.test%2F` })
  t.equal(resources.statusCode, 201, `resource may repeat (RFC 8707): ${resources.body}`)
  const big = await app.inject({ method: 'POST', url: '/par', headers: { ...FORM, authorization: webAuth }, payload: form({ ...pushFields().fields, login_hint: 'x'.repeat(70_000) }) })
  t.equal(big.statusCode, 413, 'larger than 64 KiB')
})

t.test('pushes are limited per client address', async (t) => {
  const app = await build(t)
  await browserFixtures(app)
  const { fields } = pushFields({ redirect_uri: 'https://spa.test/cb' })
  let last
  for (let i = 0; i <= 60; i++) last = await post(app, '/par', { ...fields, client_id: 'spa' })
  assertOAuthError(t, last!, 429, 'too_many_requests', undefined, 'the 61st push in a minute')
  t.ok(last!.headers['retry-after'])
})

t.test('/authorize: an unknown urn, or another client, is an error page; another request_uri is still request_uri_not_supported', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app)
  const browser = new InjectBrowser(app)
  const unknown = await browser.get('/authorize?client_id=web&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Anope')
  t.equal(unknown.statusCode, 400)
  t.match(unknown.headers['content-type'], /^text\/html/)
  const urn = (await post(app, '/par', pushFields().fields, { authorization: webAuth })).json().request_uri
  const noClient = await browser.get(`/authorize?request_uri=${encodeURIComponent(urn)}`)
  t.equal(noClient.statusCode, 400, 'client_id is required beside request_uri')
  const other = await browser.get(`/authorize?client_id=spa&request_uri=${encodeURIComponent(urn)}`)
  t.equal(other.statusCode, 400, 'another client\'s urn')
  t.match(other.headers['content-type'], /^text\/html/)
  const plain = await browser.get(`/authorize?${new URLSearchParams({ ...pushFields().fields, client_id: 'web', request_uri: 'https://app.test/request.jwt' }).toString()}`)
  t.equal(callbackParams(plain).get('error'), 'request_uri_not_supported')
})

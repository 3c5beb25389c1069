import t from 'tap'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { ISSUER, addUser, build, manualClock, post } from '../../support/helper.js'
import { atHash } from '../../../lib/oauth/id-token.js'
import {
  InjectBrowser, authorizeThrough, browserFixtures, callbackParams, exchange, field, signInAt, webRequest
} from '../../support/browser.js'

// The authorization code flow through the pages, by app.inject (runs on SQLite; test/postgres/ re-runs it).

t.test('login, consent, code, tokens: ID token, /userinfo and /users/me agree on sub', async (t) => {
  const app = await build(t)
  const { alice, webAuth } = await browserFixtures(app)
  const browser = new InjectBrowser(app)
  const { url, verifier } = webRequest({ scope: 'openid profile email items:read' })

  const login = await browser.get(url)
  t.equal(login.statusCode, 200, 'the login page')
  t.match(login.headers['content-type'], /^text\/html/)
  t.match(login.body, /<input type="text" id="username" name="username" autocomplete="username webauthn"/, 'the username field, offering passkeys in its autofill (conditional UI)')
  t.match(login.body, /name="password" autocomplete="current-password"/)
  t.match(login.body, /<label for="username">/, 'labelled fields')
  t.match(login.headers['content-security-policy'], /frame-ancestors 'none'/)
  t.match(login.headers['content-security-policy'], /form-action 'self' https:\/\/app\.test/, 'the form may end at the client')
  t.equal(login.headers['x-frame-options'], 'DENY')
  t.equal(login.headers['cache-control'], 'no-store')
  t.notOk(login.headers['access-control-allow-origin'])

  const signedIn = await browser.post('/login', { username: 'alice', password: 'correct horse battery staple', csrf: field(login.body, 'csrf'), return_to: field(login.body, 'return_to') })
  t.equal(signedIn.statusCode, 303, 'a successful post answers 303')
  t.match(signedIn.headers.location, /^\/authorize\?/, 'on to the consent page')
  const consent = await browser.get(signedIn.headers.location as string)
  t.equal(consent.statusCode, 200)
  t.match(consent.body, /See your name, username and profile/, 'scopes in words')
  t.match(consent.body, /items:read/)
  const allowed = await browser.post('/consent', { decision: 'allow', csrf: field(consent.body, 'csrf'), return_to: field(consent.body, 'return_to') })
  t.equal(allowed.statusCode, 303)
  const back = callbackParams(allowed)
  t.equal(back.get('state'), 'st-1')
  t.equal(back.get('iss'), ISSUER, 'RFC 9207 iss')
  t.match(allowed.headers.location, /^https:\/\/app\.test\/cb\?code=/)

  const tokens = await exchange(app, { code: back.get('code') as string, code_verifier: verifier }, webAuth)
  t.equal(tokens.statusCode, 200, tokens.body)
  const body = tokens.json()
  t.equal(body.scope, 'openid profile email items:read')
  t.ok(body.refresh_token, 'a refresh token: web may use refresh_token')
  t.equal(tokens.headers['cache-control'], 'no-store')

  const jwks = createLocalJWKSet((await app.inject('/.well-known/jwks.json')).json())
  const { payload } = await jwtVerify(body.id_token, jwks, { issuer: ISSUER, audience: 'web', typ: 'JWT', algorithms: ['RS256'] })
  t.equal(decodeProtectedHeader(body.id_token).typ, 'JWT', 'not at+jwt')
  t.equal(payload.sub, alice.id)
  t.equal(payload.nonce, 'n-1')
  t.equal(payload.at_hash, atHash(body.access_token))
  t.type(payload.auth_time, 'number')
  t.ok(payload.exp && payload.iat)

  const bearer = { authorization: `Bearer ${body.access_token}` }
  const info = await app.inject({ url: '/userinfo', headers: bearer })
  t.same(info.json(), { sub: alice.id, preferred_username: 'alice', name: 'Alice Liddell', updated_at: alice.updatedAt, email: 'alice@example.test', email_verified: false })
  const infoPost = await post(app, '/userinfo', {}, bearer)
  t.equal(infoPost.json().sub, alice.id, 'POST /userinfo')
  t.equal((await app.inject({ url: '/users/me', headers: bearer })).json().sub, alice.id, 'the same sub at /users/me')

  const refreshed = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: body.refresh_token }, { authorization: webAuth })
  t.equal(refreshed.statusCode, 200, 'the refresh token works')

  // Consent is remembered: the next request goes straight back with a code.
  const again = await browser.get(webRequest({ scope: 'openid profile' }).url)
  t.equal(again.statusCode, 303)
  t.ok(callbackParams(again).get('code'), 'no login, no consent')
  // A scope not yet allowed asks again.
  const wider = await browser.get(webRequest({ scope: 'openid admin' }).url)
  t.equal(wider.statusCode, 303, 'a scope the user does not have')
  t.equal(callbackParams(wider).get('error'), 'invalid_scope')
  await app.users.update('alice', { scope: 'items:read items:write' })
  const newScope = await browser.get(webRequest({ scope: 'openid items:write' }).url)
  t.equal(newScope.statusCode, 200, 'consent again for a new scope')
  t.match(newScope.body, /items:write/)
})

t.test('a public client (PKCE, no secret); without openid no ID token', async (t) => {
  const app = await build(t)
  await browserFixtures(app)
  const browser = new InjectBrowser(app)
  const { url, verifier } = webRequest({ client_id: 'spa', redirect_uri: 'https://spa.test/cb', scope: 'items:read' })
  const code = await authorizeThrough(browser, url)
  const tokens = await exchange(app, { code, code_verifier: verifier, client_id: 'spa', redirect_uri: 'https://spa.test/cb' })
  t.equal(tokens.statusCode, 200, tokens.body)
  t.notOk(tokens.json().id_token)
  t.equal(tokens.json().scope, 'items:read')
  const info = await app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${tokens.json().access_token}` } })
  t.equal(info.statusCode, 403, '/userinfo needs openid')
  t.match(info.headers['www-authenticate'], /insufficient_scope/)
})

t.test('prompt=none, prompt=login, max_age, login_hint, deny', async (t) => {
  const clock = manualClock()
  const app = await build(t, {}, { clock })
  await browserFixtures(app)
  const browser = new InjectBrowser(app)

  const none = await browser.get(webRequest({ prompt: 'none' }).url)
  t.equal(none.statusCode, 303)
  t.same(Object.fromEntries(callbackParams(none)), { error: 'login_required', error_description: 'the user is not signed in', state: 'st-1', iss: ISSUER })

  const hinted = await browser.get(webRequest({ login_hint: 'alice' }).url)
  t.match(hinted.body, /name="username"[^>]*value="alice"/, 'login_hint fills in the username')

  await authorizeThrough(browser, webRequest().url)
  const noConsent = await browser.get(webRequest({ prompt: 'none', scope: 'openid items:read' }).url)
  t.equal(callbackParams(noConsent).get('error'), 'consent_required')
  const silent = await browser.get(webRequest({ prompt: 'none' }).url)
  t.ok(callbackParams(silent).get('code'), 'prompt=none with a session and consent: a code')

  const login = await browser.get(webRequest({ prompt: 'login' }).url)
  t.equal(login.statusCode, 200, 'prompt=login shows the login page despite the session')
  t.match(login.body, /name="password"/)
  t.notMatch(field(login.body, 'return_to'), /prompt=login/, 'and does not ask again after it')
  const after = await browser.post('/login', { username: 'alice', password: 'correct horse battery staple', csrf: field(login.body, 'csrf'), return_to: field(login.body, 'return_to') })
  t.ok(callbackParams(after).get('code'), 'straight to the client: consent was given')

  clock.advance(30)
  t.equal((await browser.get(webRequest({ max_age: '60' }).url)).statusCode, 303, 'signed in 30 s ago: within max_age=60')
  const maxAge = await browser.get(webRequest({ max_age: '29' }).url)
  t.equal(maxAge.statusCode, 200, 'past max_age=29: the password again')
  t.match(maxAge.body, /name="password"/)

  const consent = await browser.get(webRequest({ scope: 'openid items:read' }).url)
  const denied = await browser.post('/consent', { decision: 'deny', csrf: field(consent.body, 'csrf'), return_to: field(consent.body, 'return_to') })
  t.equal(denied.statusCode, 303)
  t.equal(callbackParams(denied).get('error'), 'access_denied')
  t.equal(callbackParams(denied).get('state'), 'st-1')
})

t.test('max_age=1 (oidcc-max-age-1) with a consent page: allowing after the session grew too old asks for the password once, then the code', async (t) => {
  const clock = manualClock()
  const app = await build(t, {}, { clock })
  const { webAuth } = await browserFixtures(app)
  const browser = new InjectBrowser(app)
  const req = webRequest({ max_age: '1' })
  const signedIn = await signInAt(browser, req.url)
  const consent = await browser.get(signedIn.headers.location as string)
  t.match(consent.body, /name="decision"/, 'signed in just now: the consent page')
  clock.advance(3) // reading the consent page takes longer than max_age
  const allowed = await browser.post('/consent', { decision: 'allow', csrf: field(consent.body, 'csrf'), return_to: field(consent.body, 'return_to') })
  t.equal(allowed.statusCode, 303)
  const login = await browser.get(allowed.headers.location as string)
  t.match(login.body, /name="password"/, 'the session is older than max_age now: the password again')
  const again = await browser.post('/login', { username: 'alice', password: 'correct horse battery staple', csrf: field(login.body, 'csrf'), return_to: field(login.body, 'return_to') })
  t.equal(again.statusCode, 303)
  const code = callbackParams(again).get('code')
  t.ok(code, 'then the code: the consent given was kept, no second consent page (which would loop for as long as a user reads it)')
  const tokens = await exchange(app, { code: code as string, code_verifier: req.verifier }, webAuth)
  t.equal(JSON.parse(Buffer.from(tokens.json().id_token.split('.')[1], 'base64url').toString()).auth_time, clock.now(), 'auth_time: the second sign-in')
})

t.test('skip-consent clients never see the consent page', async (t) => {
  const app = await build(t)
  await browserFixtures(app, { skipConsent: true })
  const browser = new InjectBrowser(app)
  const res = await signInAt(browser, webRequest().url)
  t.equal(res.statusCode, 303)
  t.ok(callbackParams(res).get('code'), '303 from the login post straight to the client')
})

t.test('codes expire after 60 s (injected clock)', async (t) => {
  const clock = manualClock()
  const app = await build(t, {}, { clock })
  const { webAuth } = await browserFixtures(app)
  const browser = new InjectBrowser(app)
  const first = webRequest()
  const code = await authorizeThrough(browser, first.url)
  clock.advance(60)
  const late = await exchange(app, { code, code_verifier: first.verifier }, webAuth)
  t.equal(late.statusCode, 400)
  t.equal(late.json().error, 'invalid_grant')
  const second = webRequest()
  const code2 = await authorizeThrough(browser, second.url)
  clock.advance(59)
  t.equal((await exchange(app, { code: code2, code_verifier: second.verifier }, webAuth)).statusCode, 200, 'at 59 s it still works')
})

t.test('logout: to a registered post_logout_redirect_uri with state; an unregistered one or a hint that does not verify is an error page', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app)
  await app.storage.clients.update('web', { postLogoutRedirectUris: ['https://app.test/bye'] })
  const browser = new InjectBrowser(app)
  const req = webRequest()
  const code = await authorizeThrough(browser, req.url)
  const idToken = (await exchange(app, { code, code_verifier: req.verifier }, webAuth)).json().id_token

  const unregistered = await browser.get(`/logout?${new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.test/', state: 's' })}`)
  t.equal(unregistered.statusCode, 400, 'an unregistered URI: an error page')
  t.notOk(unregistered.headers.location)
  t.match(unregistered.body, /not registered/)
  t.equal((await browser.get(webRequest({ prompt: 'none' }).url)).headers.location?.includes('code='), true, 'the session kept')

  await authorizeThrough(browser, webRequest().url)
  const registered = await browser.get(`/logout?${new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: 'https://app.test/bye', state: 's p' })}`)
  t.equal(registered.statusCode, 303)
  t.equal(registered.headers.location, 'https://app.test/bye?state=s+p')
  t.equal((await browser.get(webRequest({ prompt: 'none' }).url)).headers.location?.includes('login_required'), true)

  const forged = await browser.get(`/logout?${new URLSearchParams({ id_token_hint: idToken.slice(0, -4) + 'AAAA', post_logout_redirect_uri: 'https://app.test/bye' })}`)
  t.equal(forged.statusCode, 400, 'a hint that does not verify: an error page, no silent logout')
  const plain = await browser.get('/logout')
  t.equal(plain.statusCode, 200)
})

t.test('sessions: a disabled user\'s session stops working; the admin API lists and revokes sessions and consents', async (t) => {
  const app = await build(t)
  const { alice } = await browserFixtures(app)
  const browser = new InjectBrowser(app)
  await authorizeThrough(browser, webRequest().url)
  t.equal((await app.storage.sessions.listForUser(alice.id, app.clock.now())).length, 1)
  t.equal((await app.storage.consents.listForUser(alice.id)).length, 1)

  await addUser(app, 'root', 'root-pw', { scope: 'admin' })
  const admin = { authorization: `Bearer ${(await post(app, '/token', { username: 'root', password: 'root-pw', scope: 'admin' })).json().access_token}` }
  const sessions = await app.inject({ url: '/admin/users/alice/sessions', headers: admin })
  t.equal(sessions.statusCode, 200)
  t.equal(sessions.json().length, 1)
  t.same(Object.keys(sessions.json()[0]).sort(), ['auth_time', 'created_at', 'expires_at'], 'no session id')
  const consents = await app.inject({ url: '/admin/users/alice/consents', headers: admin })
  t.match(consents.json(), [{ client_id: 'web', scope: 'openid profile' }])
  t.equal((await app.inject({ method: 'DELETE', url: '/admin/users/alice/consents/spa', headers: admin })).statusCode, 204, 'none for spa: nothing to do')
  t.equal((await app.inject({ method: 'DELETE', url: '/admin/users/alice/consents/web', headers: admin })).statusCode, 204)
  t.equal((await browser.get(webRequest({ prompt: 'none' }).url)).headers.location?.includes('consent_required'), true, 'consent revoked: asked again')
  t.equal((await app.inject({ method: 'DELETE', url: '/admin/users/alice/sessions', headers: admin })).statusCode, 204)
  t.match((await browser.get(webRequest({ prompt: 'none' }).url)).headers.location, /login_required/, 'sessions ended')
  t.equal((await app.inject({ url: '/admin/users/nobody/sessions', headers: admin })).statusCode, 404)

  await authorizeThrough(browser, webRequest().url)
  await app.users.update('alice', { disabled: true })
  t.match((await browser.get(webRequest({ prompt: 'none' }).url)).headers.location, /login_required/, 'a disabled user is signed out')
})

t.test('metadata lists the browser endpoints', async (t) => {
  const app = await build(t)
  const meta = (await app.inject('/.well-known/openid-configuration')).json()
  t.match(meta, {
    authorization_endpoint: `${ISSUER}/authorize`,
    userinfo_endpoint: `${ISSUER}/userinfo`,
    end_session_endpoint: `${ISSUER}/logout`,
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    response_modes_supported: ['query', 'form_post'],
    request_parameter_supported: true,
    request_uri_parameter_supported: false,
    display_values_supported: ['page', 'popup', 'touch', 'wap'],
    authorization_response_iss_parameter_supported: true,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256', 'ES256']
  })
  t.ok(meta.grant_types_supported.includes('authorization_code'))
  t.ok(meta.scopes_supported.includes('openid'))
  t.ok(meta.claims_supported.includes('sub'))
})

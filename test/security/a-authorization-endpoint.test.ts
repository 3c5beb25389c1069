import t, { type Test } from 'tap'
import { addClient, basic, build, FORM, form, manualClock, post } from '../support/helper.js'
import { createServer } from 'node:http'
import {
  InjectBrowser, REDIRECT, authorizeThrough, browserFixtures, callbackParams, exchange, field, formPostParams, pkce, signInAt, webRequest
} from '../support/browser.js'

// SECURITY-CASES.md series A (authorization endpoint, login and consent pages) and C (authorization codes),
// one t.test per case; on SQLite here, on PostgreSQL through test/postgres/security/browser.test.ts.

/** A Set-Cookie line as its name=value and its attributes, sorted (their order means nothing: RFC 6265 §5.2), Max-Age's number as N. */
const cookieParts = (line: string) => {
  const [pair = '', ...attributes] = line.split('; ')
  return { pair, attributes: attributes.map((a) => a.replace(/^Max-Age=\d+$/, 'Max-Age=N')).sort() }
}

const noRedirect = (t: Test, res: { statusCode: number, headers: Record<string, unknown>, body: string }, label: string) => {
  t.equal(res.statusCode, 400, `${label}: 400`)
  t.notOk(res.headers.location, `${label}: no Location`)
  t.match(res.headers['content-type'], /^text\/html/, `${label}: an HTML error page`)
}

t.test('A1: redirect_uri variants of https://app.test/cb: 400 HTML error page, no redirect', async (t) => {
  const app = await build(t)
  await browserFixtures(app)
  const browser = new InjectBrowser(app)
  for (const uri of ['https://app.test/cb/', 'https://APP.test/cb', 'https://app.test:443/cb', 'https://app.test/cb?x=1', 'https://app.test/cb#f',
    'https://app.test/cb/../x', 'https://app.test/cb%2F..', 'https://app.test.evil/cb', 'https://app.test@evil/cb', 'http://app.test/cb', 'https://evil.test/cb']) {
    noRedirect(t, await browser.get(webRequest({ redirect_uri: uri }).url), uri)
  }
  noRedirect(t, await browser.get(webRequest({ redirect_uri: undefined, client_id: 'spa' }).url), 'no redirect_uri, two registered')
  const twice = await browser.get(`${webRequest().url}&redirect_uri=${encodeURIComponent('https://evil.test/cb')}`)
  noRedirect(t, twice, 'redirect_uri twice')
})

t.test('A2: a native client\'s loopback URI on any port; non-loopback http refused at registration', async (t) => {
  const app = await build(t)
  await browserFixtures(app)
  const browser = new InjectBrowser(app)
  const native = await browser.get(webRequest({ client_id: 'spa', redirect_uri: 'http://127.0.0.1:51234/cb' }).url)
  t.equal(native.statusCode, 200, 'registered http://127.0.0.1/cb, sent port 51234: the login page')
  noRedirect(t, await browser.get(webRequest({ client_id: 'spa', redirect_uri: 'http://127.0.0.1:51234/other' }).url), 'another path on the loopback')
  noRedirect(t, await browser.get(webRequest({ client_id: 'spa', redirect_uri: 'http://localhost:51234/cb' }).url), 'localhost is not the IP literal')
  await t.rejects(addClient(app, 'web2', { grantTypes: ['authorization_code'], redirectUris: ['http://app.test/cb'] }), { name: 'Error' }, 'a web client with an http URI')
  const code = await authorizeThrough(browser, webRequest({ client_id: 'spa', redirect_uri: 'http://127.0.0.1:51234/cb' }).url)
  t.ok(code, 'and the code comes back to that port')
})

t.test('A3: unknown or missing client: no redirect; bad scope or response_type: redirect with the error and the exact state; return_to only same-origin', async (t) => {
  const app = await build(t)
  await browserFixtures(app)
  await app.storage.clients.update('web', { scope: 'items:read' })
  const browser = new InjectBrowser(app)
  noRedirect(t, await browser.get(webRequest({ client_id: 'nobody' }).url), 'unknown client')
  noRedirect(t, await browser.get(webRequest({ client_id: undefined }).url), 'no client_id')
  const scope = await browser.get(webRequest({ scope: 'bogus', state: 'a&b' }).url)
  t.equal(scope.statusCode, 303)
  t.equal(callbackParams(scope).get('error'), 'invalid_scope')
  t.equal(callbackParams(scope).get('state'), 'a&b')
  t.ok(scope.headers.location?.startsWith(`${REDIRECT}?`), 'to the registered URI')
  const type = await browser.get(webRequest({ response_type: 'foo' }).url)
  t.equal(callbackParams(type).get('error'), 'unsupported_response_type')
  const login = await browser.get('/login?return_to=https%3A%2F%2Fevil.test%2F')
  t.equal(login.statusCode, 200)
  t.notMatch(login.body, /name="return_to"/, 'an absolute return_to is dropped')
  const afterLogin = await browser.post('/login', { username: 'alice', password: 'correct horse battery staple', csrf: field(login.body, 'csrf'), return_to: 'https://evil.test/' })
  t.equal(afterLogin.statusCode, 303)
  t.equal(afterLogin.headers.location, '/login', 'stays here')
  for (const evil of ['//evil.test/authorize?x', '/authorize\\@evil.test', '/\\evil.test']) {
    const res = await browser.post('/login', { username: 'alice', password: 'correct horse battery staple', csrf: field((await browser.get('/login')).body, 'csrf'), return_to: evil })
    t.equal(res.headers.location, '/login', `return_to ${evil} ignored`)
  }
})

t.test('A4: response_type=token: redirect error=unsupported_response_type', async (t) => {
  const app = await build(t)
  await browserFixtures(app)
  for (const type of ['token', 'id_token', 'code token', 'code id_token']) {
    const res = await new InjectBrowser(app).get(webRequest({ response_type: type }).url)
    t.equal(res.statusCode, 303)
    t.equal(callbackParams(res).get('error'), 'unsupported_response_type', type)
    t.notOk(callbackParams(res).get('access_token'))
  }
})

t.test('A5: state of 500 characters with &=#%+ and unicode echoed byte-exact on success and error; absent when not sent', async (t) => {
  const app = await build(t)
  await browserFixtures(app)
  const browser = new InjectBrowser(app)
  const state = ('&=#%+ é€😀 ' + 'x'.repeat(500)).slice(0, 500)
  const res = await signInAt(browser, webRequest({ state }).url)
  const consent = await browser.get(res.headers.location as string)
  const ok = await browser.post('/consent', { decision: 'allow', csrf: field(consent.body, 'csrf'), return_to: field(consent.body, 'return_to') })
  t.equal(callbackParams(ok).get('state'), state, 'success')
  const err = await browser.get(webRequest({ state, response_type: 'token' }).url)
  t.equal(callbackParams(err).get('state'), state, 'error')
  const none = await browser.get(webRequest({ state: undefined }).url)
  t.notOk(callbackParams(none).has('state'), 'no state sent, none returned')
  t.ok(callbackParams(none).get('code'))
})

t.test('A5 (form_post): a hostile state is escaped in the form the page posts, never markup; the page runs only its nonce\'d script', async (t) => {
  const app = await build(t)
  await browserFixtures(app, { skipConsent: true })
  const hostile = ['"><script>alert(1)</script>', '\'><img src=x onerror=alert(1)>', '</form><form action="https://evil.test">', '&quot;&#39;&lt;', '" autofocus onfocus="alert(1)']
  for (const state of hostile) {
    for (const [label, res] of [
      ['an error', await new InjectBrowser(app).get(webRequest({ state, response_mode: 'form_post', prompt: 'none' }).url)],
      ['a code', await signInAt(new InjectBrowser(app), webRequest({ state, response_mode: 'form_post' }).url)]
    ] as const) {
      t.equal(res.statusCode, 200, `${label}: the form page`)
      t.equal(formPostParams(res).params.get('state'), state, `${label}: the browser reads back the state byte-exact: ${state}`)
      const markup = res.body.replace(/<input type="hidden" name="state" value="[^"<>]*">/, '')
      t.notOk(markup.includes(state), `${label}: the raw text is nowhere in the page`)
      t.equal(markup.match(/<script/g)?.length, 1, `${label}: one script`)
      t.equal(markup.match(/<form/g)?.length, 1, `${label}: one form`)
      t.notMatch(markup, /\son[a-z]+=/i, `${label}: no event handler attribute`)
      const nonce = /script-src 'nonce-([^']+)'/.exec(String(res.headers['content-security-policy']))?.[1]
      t.ok(nonce && res.body.includes(`<script nonce="${nonce}">`), `${label}: the one script is the nonce'd one`)
    }
  }
})

t.test('A3 (request objects): an unsigned or a signed request object and a request_uri are refused back to the client, never read or fetched', async (t) => {
  const fetched: string[] = []
  const server = createServer((req, res) => { fetched.push(req.url ?? ''); res.end('eyJhbGciOiJub25lIn0.e30.') })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const app = await build(t)
  await browserFixtures(app)
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  // What each would smuggle in if it were read: another redirect URI, another client, a scope, no PKCE.
  const claims = { client_id: 'spa', redirect_uri: 'https://evil.test/cb', scope: 'openid admin', response_type: 'token' }
  const objects = {
    'alg none': `${b64({ alg: 'none' })}.${b64(claims)}.`,
    'HS256 keyed with the client id': `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}.${'A'.repeat(43)}`,
    'not a JWT': 'definitely not a JWT',
    'a huge one': `${b64({ alg: 'none' })}.${'A'.repeat(20000)}.`
  }
  for (const [label, request] of Object.entries(objects)) {
    const res = await new InjectBrowser(app).get(webRequest({ request }).url)
    t.equal(res.statusCode, 303, label)
    t.ok(res.headers.location?.startsWith(`${REDIRECT}?`), `${label}: to the registered URI, not the object's`)
    t.same(Object.fromEntries(callbackParams(res)), { error: 'request_not_supported', error_description: 'request objects (the request parameter) are not supported', state: 'st-1', iss: 'http://gatehouse.test' }, label)
  }
  const address = server.address() as { port: number }
  for (const requestUri of [`http://127.0.0.1:${address.port}/request.jwt`, 'urn:example:request:abc', 'file:///etc/passwd']) {
    const res = await new InjectBrowser(app).get(webRequest({ request_uri: requestUri }).url)
    t.equal(callbackParams(res).get('error'), 'request_uri_not_supported', requestUri)
  }
  // A pushed request's URN (RFC 9126) that /par never issued: an error page (nothing in it is trusted), never fetched.
  noRedirect(t, await new InjectBrowser(app).get(webRequest({ request_uri: 'urn:ietf:params:oauth:request_uri:abc' }).url), 'an unknown pushed request_uri')
  t.same(fetched, [], 'no request_uri was fetched')
  const unknownClient = await new InjectBrowser(app).get(webRequest({ request: objects['alg none'], client_id: 'nobody' }).url)
  noRedirect(t, unknownClient, 'a request object with an unknown client outside it')
})

t.test('A3 (OIDC parameters): malformed display, response_mode and id_token_hint values are invalid_request back to the client, never a 500', async (t) => {
  const app = await build(t)
  await browserFixtures(app)
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ display: 'page\u0000' }, /display must be one of/],
    [{ display: 'x'.repeat(5000) }, /display must be one of/],
    [{ response_mode: 'fragment' }, /response_mode must be one of/],
    [{ response_mode: 'form_post\r\nSet-Cookie: x=y' }, /response_mode must be one of/],
    [{ id_token_hint: 'a.b.c' }, /id_token_hint is not an ID token this server issued/],
    [{ id_token_hint: '..' }, /id_token_hint is not an ID token this server issued/],
    [{ id_token_hint: `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: 'http://gatehouse.test', sub: 'x', aud: 'web' })}.` }, /not an ID token this server issued/],
    [{ id_token_hint: `${b64({ alg: 'ES256', kid: '../../etc/passwd' })}.${b64({ sub: 'x', aud: 'web' })}.AAAA` }, /not an ID token this server issued/],
    [{ id_token_hint: `${'A'.repeat(9000)}.${'B'.repeat(100)}.C` }, /not an ID token this server issued/],
    [{ id_token_hint: '\u00ff\ud800.x.y' }, /not an ID token this server issued/]
  ]
  for (const [over, description] of cases) {
    const res = await new InjectBrowser(app).get(webRequest(over).url)
    const label = JSON.stringify(over).slice(0, 80)
    t.equal(res.statusCode, 303, label)
    t.equal(callbackParams(res).get('error'), 'invalid_request', label)
    t.match(callbackParams(res).get('error_description'), description, label)
    t.equal(callbackParams(res).get('state'), 'st-1', label)
  }
  const hostileHint = await new InjectBrowser(app).get(webRequest({ login_hint: '<img src=x onerror=alert(1)>' }).url)
  t.equal(hostileHint.statusCode, 200, 'a hostile login_hint: the login page')
  t.notMatch(hostileHint.body, /<img src=x/, 'escaped')
})

t.test('A6: no code_challenge: redirect error=invalid_request (code challenge required)', async (t) => {
  const app = await build(t)
  await browserFixtures(app)
  for (const client of [{ client_id: 'web', redirect_uri: REDIRECT }, { client_id: 'spa', redirect_uri: 'https://spa.test/cb' }]) {
    const res = await new InjectBrowser(app).get(webRequest({ ...client, code_challenge: undefined, code_challenge_method: undefined }).url)
    t.equal(callbackParams(res).get('error'), 'invalid_request')
    t.match(callbackParams(res).get('error_description'), /code challenge required/)
  }
})

t.test('A7: plain, no method, S512, a challenge of 42 or 129 characters or outside the alphabet: invalid_request', async (t) => {
  const app = await build(t)
  await browserFixtures(app)
  const { challenge } = pkce()
  for (const over of [
    { code_challenge_method: 'plain' }, { code_challenge_method: undefined }, { code_challenge_method: 'S512' },
    { code_challenge: challenge.slice(0, 42) }, { code_challenge: 'a'.repeat(129) }, { code_challenge: challenge.slice(0, 42) + '!' }
  ]) {
    const res = await new InjectBrowser(app).get(webRequest(over).url)
    t.equal(callbackParams(res).get('error'), 'invalid_request', JSON.stringify(over))
  }
})

t.test('A8: every page: frame-ancestors none, X-Frame-Options DENY, no-referrer, nosniff, no-store, nothing third-party, no CORS', async (t) => {
  const app = await build(t)
  await browserFixtures(app)
  const browser = new InjectBrowser(app)
  const login = await browser.get(webRequest().url)
  const consent = await browser.get((await signInAt(browser, webRequest().url)).headers.location as string)
  const error = await browser.get(webRequest({ client_id: 'nobody' }).url)
  const signedOut = await browser.get('/logout')
  for (const [name, page] of Object.entries({ login, consent, error, signedOut })) {
    t.match(page.headers['content-security-policy'], /frame-ancestors 'none'/, `${name}: CSP frame-ancestors 'none'`)
    t.match(page.headers['content-security-policy'], /default-src 'none'/, `${name}: nothing else loads`)
    t.equal(page.headers['x-frame-options'], 'DENY', name)
    t.equal(page.headers['referrer-policy'], 'no-referrer', name)
    t.equal(page.headers['x-content-type-options'], 'nosniff', name)
    t.equal(page.headers['cache-control'], 'no-store', name)
    t.notMatch(page.body, /(src|href)="(https?:)?\/\//, `${name}: no third-party resources`)
  }
  for (const method of ['OPTIONS', 'GET'] as const) {
    const res = await app.inject({ method, url: webRequest().url, headers: { origin: 'https://evil.test', 'access-control-request-method': 'GET' } })
    t.notOk(res.headers['access-control-allow-origin'], `${method} /authorize: no Access-Control-Allow-Origin`)
  }
})

t.test('A9: POST /login without the CSRF token, with another session\'s, a replayed one or from another site: 403, nobody signed in; __Host- cookies, rotated at sign-in', async (t) => {
  const app = await build(t, { ISSUER: 'https://auth.test' })
  await browserFixtures(app)
  const browser = new InjectBrowser(app)
  const page = await browser.get(webRequest().url)
  const csrf = field(page.body, 'csrf')
  const returnTo = field(page.body, 'return_to')
  const creds = { username: 'alice', password: 'correct horse battery staple', return_to: returnTo }
  const refused = async (label: string, fields: Record<string, string>, headers: Record<string, string> = {}, who = browser) => {
    const res = await who.post('/login', fields, headers)
    t.equal(res.statusCode, 403, `${label}: 403`)
    t.notOk(res.headers.location, `${label}: no code`)
    t.notMatch(String(res.headers['set-cookie'] ?? ''), /session=/, `${label}: no session`)
  }
  await refused('no token', creds)
  const other = new InjectBrowser(app)
  const otherToken = field((await other.get(webRequest().url)).body, 'csrf')
  await refused('another browser\'s token', { ...creds, csrf: otherToken })
  await refused('cross-site Origin', { ...creds, csrf }, { origin: 'https://evil.test' })
  await refused('Sec-Fetch-Site: cross-site', { ...creds, csrf }, { 'sec-fetch-site': 'cross-site' })
  t.equal((await browser.post('/consent', { decision: 'allow', return_to: returnTo })).statusCode, 403, 'the consent form too')

  const cookie = cookieParts(String(page.headers['set-cookie']))
  t.match(cookie.pair, /^__Host-gatehouse-csrf=[A-Za-z0-9_-]{43}$/, 'https issuer: __Host-')
  t.same(cookie.attributes, ['HttpOnly', 'Path=/', 'SameSite=Lax', 'Secure'], 'https issuer: Secure, HttpOnly, SameSite=Lax, Path=/')
  browser.cookies.set('__Host-gatehouse-session', 'A'.repeat(43)) // a fixated id
  const ok = await browser.post('/login', { ...creds, csrf }, { origin: 'https://auth.test' })
  t.equal(ok.statusCode, 303)
  const set = ([] as string[]).concat(ok.headers['set-cookie'] as string[])
  const session = cookieParts(set.find((c) => c.startsWith('__Host-gatehouse-session=')) ?? '')
  t.match(session.pair, /^__Host-gatehouse-session=[A-Za-z0-9_-]{43}$/)
  t.same(session.attributes, ['HttpOnly', 'Max-Age=N', 'Path=/', 'SameSite=Lax', 'Secure'], 'the session cookie: the same attributes, and a lifetime')
  t.not(browser.cookies.get('__Host-gatehouse-session'), 'A'.repeat(43), 'a new session id at sign-in')
  t.not(browser.cookies.get('__Host-gatehouse-csrf'), csrf, 'a new CSRF token too')
  await refused('the replayed token, after sign-in', { ...creds, csrf }, {}, (() => { const b = new InjectBrowser(app); b.cookies.set('__Host-gatehouse-csrf', browser.cookies.get('__Host-gatehouse-csrf') as string); return b })())
  const replay = await browser.post('/login', { ...creds, csrf })
  t.equal(replay.statusCode, 403, 'the old token in the same browser: 403')
})

t.test('A10: a successful credential post answers 303 (never 307); a failed one a generic text', async (t) => {
  const app = await build(t)
  await browserFixtures(app, { skipConsent: true })
  const ok = await signInAt(new InjectBrowser(app), webRequest().url)
  t.equal(ok.statusCode, 303)
  t.ok(callbackParams(ok).get('code'), 'straight to the client')
  const wrong = await signInAt(new InjectBrowser(app), webRequest().url, 'alice', 'wrong')
  const unknown = await signInAt(new InjectBrowser(app), webRequest().url, 'nobody', 'wrong')
  await app.users.update('alice', { disabled: true })
  const disabled = await signInAt(new InjectBrowser(app), webRequest().url)
  for (const [name, res] of Object.entries({ wrong, unknown, disabled })) {
    t.equal(res.statusCode, 401, `${name}: 401`)
    t.match(res.body, /Invalid username or password\./, `${name}: the same text`)
    t.notOk(res.headers.location)
  }
})

t.test('C1: a code redeemed twice (at once, and after 30 s): invalid_grant, and what the first redemption issued is revoked', async (t) => {
  const clock = manualClock()
  const app = await build(t, {}, { clock })
  const { webAuth } = await browserFixtures(app)
  for (const delay of [0, 30]) {
    const browser = new InjectBrowser(app)
    const req = webRequest()
    const code = await authorizeThrough(browser, req.url)
    const first = await exchange(app, { code, code_verifier: req.verifier }, webAuth)
    t.equal(first.statusCode, 200)
    clock.advance(delay)
    const again = await exchange(app, { code, code_verifier: req.verifier }, webAuth)
    t.equal(again.statusCode, 400, `after ${delay} s`)
    t.equal(again.json().error, 'invalid_grant')
    const { access_token: at, refresh_token: rt } = first.json()
    const intro = await app.inject({ method: 'POST', url: '/introspect', headers: { ...FORM, authorization: webAuth }, payload: form({ token: at }) })
    t.equal(intro.body, '{"active":false}', 'its access token is inactive')
    t.equal((await app.inject({ url: '/users/me', headers: { authorization: `Bearer ${at}` } })).statusCode, 401)
    const refresh = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: rt }, { authorization: webAuth })
    t.equal(refresh.json().error, 'invalid_grant', 'its refresh token too')
  }
})

t.test('C2: one code redeemed 20 times at once: exactly one 200', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app)
  const req = webRequest()
  const code = await authorizeThrough(new InjectBrowser(app), req.url)
  const results = await Promise.all(Array.from({ length: 20 }, () => exchange(app, { code, code_verifier: req.verifier }, webAuth)))
  t.equal(results.filter((r) => r.statusCode === 200).length, 1)
  t.equal(results.filter((r) => r.statusCode === 400 && r.json().error === 'invalid_grant').length, 19)
})

t.test('C3: a code redeemed after its 60 s: invalid_grant', async (t) => {
  const clock = manualClock()
  const app = await build(t, {}, { clock })
  const { webAuth } = await browserFixtures(app)
  const req = webRequest()
  const code = await authorizeThrough(new InjectBrowser(app), req.url)
  clock.advance(61)
  t.equal((await exchange(app, { code, code_verifier: req.verifier }, webAuth)).json().error, 'invalid_grant')
})

t.test('C4: web\'s code redeemed by another client; redirect_uri missing or different: invalid_grant (and the code still works for web)', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app)
  const c2 = await addClient(app, 'c2', { grantTypes: ['authorization_code'], redirectUris: [REDIRECT] }) as string
  const req = webRequest()
  const code = await authorizeThrough(new InjectBrowser(app), req.url)
  t.equal((await exchange(app, { code, code_verifier: req.verifier }, basic('c2', c2))).json().error, 'invalid_grant', 'another client')
  t.equal((await exchange(app, { code, code_verifier: req.verifier, client_id: 'spa' })).json().error, 'invalid_grant', 'a public client naming itself')
  const missing = await app.inject({ method: 'POST', url: '/token', headers: { ...FORM, authorization: webAuth }, payload: form({ grant_type: 'authorization_code', code, code_verifier: req.verifier }) })
  t.equal(missing.json().error, 'invalid_grant', 'no redirect_uri')
  t.equal((await exchange(app, { code, code_verifier: req.verifier, redirect_uri: 'https://app.test/cb/' }, webAuth)).json().error, 'invalid_grant', 'another redirect_uri')
  t.equal((await exchange(app, { code, code_verifier: req.verifier }, webAuth)).statusCode, 200, 'those attempts did not burn it')
})

t.test('C5: wrong verifier, none, a malformed one (42 or 129 characters): invalid_grant', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app)
  const req = webRequest()
  const code = await authorizeThrough(new InjectBrowser(app), req.url)
  for (const [label, verifier] of [['wrong', pkce().verifier], ['42 characters', req.verifier.slice(0, 42)], ['129 characters', 'a'.repeat(129)]] as Array<[string, string]>) {
    t.equal((await exchange(app, { code, code_verifier: verifier as string }, webAuth)).json().error, 'invalid_grant', label)
  }
  t.equal((await exchange(app, { code }, webAuth)).json().error, 'invalid_grant', 'none')
  t.equal((await exchange(app, { code, code_verifier: req.verifier }, webAuth)).statusCode, 200, 'the right one still works')
})

t.test('C5: a code_verifier sent for a code issued without a challenge (PKCE downgrade, RFC 9700 §4.8.2): invalid_grant', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app)
  await app.storage.clients.update('web', { pkce: 'optional' })
  const code = await authorizeThrough(new InjectBrowser(app), webRequest({ code_challenge: undefined, code_challenge_method: undefined }).url)
  for (const verifier of [pkce().verifier, 'a'.repeat(43)]) {
    const res = await exchange(app, { code, code_verifier: verifier }, webAuth)
    t.equal(res.statusCode, 400)
    t.same(res.json(), { error: 'invalid_grant', error_description: 'a code_verifier was sent for a code issued without a code challenge' })
  }
  t.equal((await exchange(app, { code }, webAuth)).statusCode, 200, 'the code itself was not burnt: without a verifier it is redeemed')
})

t.test('J6 (ID token part): a real ID token (same keys, typ JWT) used as an access token: Reject-JWT', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app)
  const req = webRequest()
  const code = await authorizeThrough(new InjectBrowser(app), req.url)
  const idToken = (await exchange(app, { code, code_verifier: req.verifier }, webAuth)).json().id_token as string
  const me = await app.inject({ url: '/users/me', headers: { authorization: `Bearer ${idToken}` } })
  t.equal(me.statusCode, 401)
  t.match(me.headers['www-authenticate'], /error="invalid_token"/)
  t.equal((await app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${idToken}` } })).statusCode, 401, '/userinfo too')
  const intro = await app.inject({ method: 'POST', url: '/introspect', headers: { ...FORM, authorization: webAuth }, payload: form({ token: idToken }) })
  t.equal(intro.body, '{"active":false}')
})

t.test('A11 (claims): a malformed, hostile or oversized claims parameter goes back to the client as invalid_request; no code, no 500', async (t) => {
  const app = await build(t)
  await browserFixtures(app)
  const browser = new InjectBrowser(app)
  await signInAt(browser, webRequest().url)
  const hostile = [
    '{"userinfo":', '{"userinfo":{"name":{"essential":true}}', '[{"userinfo":{}}]', '{"id_token":[]}', '{"userinfo":{"__proto__":1}}',
    '{"userinfo":{"constructor":{"prototype":{"polluted":true}}}, "id_token": 7}', JSON.stringify({ userinfo: { name: null, x: 'y'.repeat(100_000) } }),
    `${'['.repeat(5000)}${']'.repeat(5000)}`
  ]
  for (const claims of hostile) {
    const res = await browser.get(webRequest({ claims }).url)
    t.equal(res.statusCode, 303, `${claims.slice(0, 30)}: back to the client`)
    const params = callbackParams(res)
    t.equal(params.get('error'), 'invalid_request')
    t.equal(params.get('state'), 'st-1')
    t.notOk(params.get('code'), 'no code')
  }
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'nothing polluted')
})

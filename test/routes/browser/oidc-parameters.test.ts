import t from 'tap'
import { ISSUER, addUser, build, manualClock } from '../../support/helper.js'
import {
  InjectBrowser, PASSWORD, authorizeThrough, browserFixtures, callbackParams, exchange, field, formPostParams, signInAt, webRequest
} from '../../support/browser.js'

// The optional parameters of OIDC Core §3.1.2.1 at /authorize, through the pages: request and request_uri refused
// back to the client (never ignored), display, ui_locales, claims_locales, acr_values and unknown ones accepted,
// login_hint filling the login page, id_token_hint naming the expected user. The rules alone:
// test/lib/oauth/authorize.test.ts and interaction.test.ts; hostile values: test/security (A3, A5).

t.test('request and request_uri go back to the client as request_not_supported / request_uri_not_supported, with state', async (t) => {
  const app = await build(t)
  await browserFixtures(app)
  const browser = new InjectBrowser(app)
  const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ client_id: 'web', scope: 'openid', nonce: 'n' })).toString('base64url')}.`
  const request = await browser.get(webRequest({ request: unsigned }).url)
  t.equal(request.statusCode, 303)
  t.same(Object.fromEntries(callbackParams(request)), { error: 'request_not_supported', error_description: 'request objects (the request parameter) are not supported', state: 'st-1', iss: ISSUER })
  const byReference = await browser.get(webRequest({ request_uri: 'https://app.test/request.jwt' }).url)
  t.same(Object.fromEntries(callbackParams(byReference)), { error: 'request_uri_not_supported', error_description: 'request_uri is not supported', state: 'st-1', iss: ISSUER })

  // What the conformance suite sends: response_type, client_id, scope and redirect_uri outside, the rest inside.
  const claims = { response_type: 'code', client_id: 'web', redirect_uri: 'https://app.test/cb', scope: 'openid', state: 'inside', nonce: 'n', response_mode: 'form_post' }
  const object = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`
  const outside = new URLSearchParams({ response_type: 'code', client_id: 'web', scope: 'openid', redirect_uri: 'https://app.test/cb', request: object })
  const formPost = await browser.get(`/authorize?${outside}`)
  t.same(Object.fromEntries(formPostParams(formPost).params), { error: 'request_not_supported', error_description: 'request objects (the request parameter) are not supported', iss: ISSUER },
    'in the response mode the object asks for; no state outside, none back')
  const elsewhere = new URLSearchParams({ ...Object.fromEntries(outside), redirect_uri: 'https://evil.test/cb' })
  const page = await browser.get(`/authorize?${elsewhere}`)
  t.equal(page.statusCode, 400, 'an unregistered redirect_uri outside the object: the error page, not the client')
  t.notOk(page.headers.location)
})

t.test('display, ui_locales, claims_locales, acr_values and unknown parameters do not get in the way; display=bogus is invalid_request', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app)
  const browser = new InjectBrowser(app)
  const extras = { display: 'popup', ui_locales: 'se fr-CA', claims_locales: 'se', acr_values: '1 2', frobnicate: 'x' }
  const req = webRequest(extras)
  const code = await authorizeThrough(browser, req.url)
  t.equal((await exchange(app, { code, code_verifier: req.verifier }, webAuth)).statusCode, 200, 'login, consent, a code and tokens')
  for (const display of ['page', 'touch', 'wap']) t.ok(callbackParams(await browser.get(webRequest({ display }).url)).get('code'), `display=${display}`)
  const bogus = await browser.get(webRequest({ display: 'bogus' }).url)
  t.same(Object.fromEntries(callbackParams(bogus)), { error: 'invalid_request', error_description: 'display must be one of page, popup, touch, wap', state: 'st-1', iss: ISSUER })
})

t.test('login_hint fills in the username, escaped', async (t) => {
  const app = await build(t)
  await browserFixtures(app)
  const hint = '"><script>alert(1)</script>'
  const page = await new InjectBrowser(app).get(webRequest({ login_hint: hint }).url)
  t.equal(page.statusCode, 200)
  t.ok(page.body.includes('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"'), 'escaped in the value attribute')
  t.notMatch(page.body, /<script>alert/)
})

t.test('id_token_hint: the ID token of the first sign-in brings a code under prompt=none (expired or not); another user\'s, a forged or another client\'s does not', async (t) => {
  const clock = manualClock()
  const app = await build(t, {}, { clock })
  const { alice, webAuth } = await browserFixtures(app)
  await addUser(app, 'bob', PASSWORD, { scope: 'items:read' })
  /** Signs `username` in through `browser` (consenting when asked) and returns the tokens of the code. */
  const tokensOf = async (browser: InjectBrowser, username: string, over: Record<string, string> = {}) => {
    const req = webRequest(over)
    let res = await signInAt(browser, req.url, username)
    if (res.headers.location?.startsWith('/authorize')) {
      const consent = await browser.get(res.headers.location)
      res = await browser.post('/consent', { decision: 'allow', csrf: field(consent.body, 'csrf'), return_to: field(consent.body, 'return_to') })
    }
    const code = callbackParams(res).get('code') as string
    const tokens = over.client_id === 'spa'
      ? await exchange(app, { code, code_verifier: req.verifier, client_id: 'spa', redirect_uri: over.redirect_uri as string })
      : await exchange(app, { code, code_verifier: req.verifier }, webAuth)
    const body = tokens.json() as { id_token: string, access_token: string }
    return { ...body, sub: JSON.parse(Buffer.from(body.id_token.split('.')[1] as string, 'base64url').toString()).sub as string }
  }
  const browser = new InjectBrowser(app)
  const first = await tokensOf(browser, 'alice')
  t.equal(first.sub, alice.id)

  const silent = await browser.get(webRequest({ prompt: 'none', id_token_hint: first.id_token }).url)
  t.equal(silent.statusCode, 303)
  t.ok(callbackParams(silent).get('code'), 'prompt=none with the hint of the signed-in user: a code (oidcc-id-token-hint)')
  clock.advance(7200)
  t.ok(callbackParams(await browser.get(webRequest({ prompt: 'none', id_token_hint: first.id_token }).url)).get('code'), 'the hint expired an hour ago: still a hint')

  const bobBrowser = new InjectBrowser(app)
  const bob = await tokensOf(bobBrowser, 'bob')
  const mismatch = await browser.get(webRequest({ prompt: 'none', id_token_hint: bob.id_token }).url)
  t.same(Object.fromEntries(callbackParams(mismatch)), { error: 'login_required', error_description: 'the signed-in user is not the one id_token_hint names', state: 'st-1', iss: ISSUER },
    'alice signed in, the hint names bob')
  const hinted = webRequest({ id_token_hint: bob.id_token })
  const login = await browser.get(hinted.url)
  t.equal(login.statusCode, 200, 'without prompt=none: the login page')
  t.match(login.body, /name="password"/)
  const asBob = await browser.post('/login', { username: 'bob', password: PASSWORD, csrf: field(login.body, 'csrf'), return_to: field(login.body, 'return_to') })
  const bobCode = callbackParams(asBob).get('code')
  t.ok(bobCode, 'bob signs in there (the hint read again from the form\'s return_to): his code, no consent asked twice')
  const bobTokens = await exchange(app, { code: bobCode as string, code_verifier: hinted.verifier }, webAuth)
  t.equal(JSON.parse(Buffer.from(bobTokens.json().id_token.split('.')[1], 'base64url').toString()).sub, bob.sub)

  const forged = `${first.id_token.slice(0, first.id_token.lastIndexOf('.') + 1)}${'A'.repeat(86)}`
  for (const [label, hint] of [['a forged signature', forged], ['not a JWT', 'not-a-jwt'], ['an access token (typ at+jwt)', first.access_token]] as Array<[string, string]>) {
    const res = await browser.get(webRequest({ id_token_hint: hint }).url)
    t.same(Object.fromEntries(callbackParams(res)), { error: 'invalid_request', error_description: 'id_token_hint is not an ID token this server issued', state: 'st-1', iss: ISSUER }, label)
  }
  const spa = await tokensOf(new InjectBrowser(app), 'alice', { client_id: 'spa', redirect_uri: 'https://spa.test/cb' })
  const otherClient = await browser.get(webRequest({ id_token_hint: spa.id_token }).url)
  t.equal(callbackParams(otherClient).get('error_description'), 'id_token_hint was issued to another client')
})

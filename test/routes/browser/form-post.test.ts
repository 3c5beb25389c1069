import t from 'tap'
import { ISSUER, build } from '../../support/helper.js'
import {
  InjectBrowser, REDIRECT, browserFixtures, callbackParams, exchange, field, formPostParams, signInAt, webRequest
} from '../../support/browser.js'

// response_mode=form_post (OAuth 2.0 Form Post Response Mode) through the pages, by app.inject: every way an answer
// goes back to the client (GET /authorize, the login form, the consent form, each refusal) posts it as a form. The
// page in Chromium, with a hostile state: test/e2e/form-post.test.ts; the escaping case: test/security (A5).

const FORM_POST = { response_mode: 'form_post' }

t.test('the code comes back as a page whose one script posts it to the redirect URI; its CSP allows that script and that origin', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app)
  const browser = new InjectBrowser(app)
  const req = webRequest(FORM_POST)
  const signedIn = await signInAt(browser, req.url)
  t.equal(signedIn.statusCode, 303, 'the login form goes on to the consent page as always')
  const consent = await browser.get(signedIn.headers.location as string)
  const answer = await browser.post('/consent', { decision: 'allow', csrf: field(consent.body, 'csrf'), return_to: field(consent.body, 'return_to') })

  t.equal(answer.statusCode, 200, 'a page, not a redirect')
  t.notOk(answer.headers.location)
  const { action, params } = formPostParams(answer)
  t.equal(action, REDIRECT, 'the form posts to the redirect URI')
  t.same([...params.keys()], ['code', 'state', 'iss'])
  t.equal(params.get('state'), 'st-1')
  t.equal(params.get('iss'), ISSUER, 'RFC 9207 iss, as in a redirect')

  const csp = String(answer.headers['content-security-policy'])
  const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1]
  t.ok(nonce, 'a script nonce in the CSP')
  t.ok(answer.body.includes(`<script nonce="${nonce}">document.getElementById('response').submit()</script>`), 'the one script carries it')
  t.equal(answer.body.match(/<script/g)?.length, 1, 'one script')
  t.notMatch(answer.body, /\son[a-z]+=/i, 'no inline event handler')
  t.match(csp, /default-src 'none'/)
  t.match(csp, /form-action 'self' https:\/\/app\.test;/, 'the form may post to the client')
  t.match(csp, /frame-ancestors 'none'/)
  t.match(answer.body, /<noscript>[\s\S]*<button type="submit">Continue<\/button>[\s\S]*<\/noscript>/, 'a button when scripts are off')
  t.equal(answer.headers['cache-control'], 'no-store')
  t.equal(answer.headers['x-frame-options'], 'DENY')
  t.equal(answer.headers['referrer-policy'], 'no-referrer')

  const tokens = await exchange(app, { code: params.get('code') as string, code_verifier: req.verifier }, webAuth)
  t.equal(tokens.statusCode, 200, tokens.body)

  // Signed in and consented: GET /authorize itself answers with the page.
  const again = await browser.get(webRequest(FORM_POST).url)
  t.equal(again.statusCode, 200)
  t.ok(formPostParams(again).params.get('code'), 'straight from /authorize')
  const query = await browser.get(webRequest().url)
  t.equal(query.statusCode, 303, 'without response_mode: a redirect, as before')
  t.notMatch(String(query.headers['content-security-policy'] ?? ''), /script-src/, 'and no page allows a script but this one')
  const login = await new InjectBrowser(app).get(webRequest(FORM_POST).url)
  // The login page's only scripts are the passkey button's, served from here (/assets/) with its nonce: nothing inline.
  t.same([...login.body.matchAll(/<script([^>]*)>/g)].map((m) => /src="\/assets\/[a-z]+\.[0-9a-f]{12}\.js" nonce="[^"]+"/.test(m[1] ?? '')), [true, true],
    'the login page of a form_post request runs no inline script')
})

t.test('the login form, the consent form and every refusal answer the same way', async (t) => {
  const app = await build(t)
  await browserFixtures(app)
  await app.storage.clients.update('web', { skipConsent: true })
  const browser = new InjectBrowser(app)

  const none = await browser.get(webRequest({ ...FORM_POST, prompt: 'none' }).url)
  t.same(Object.fromEntries(formPostParams(none).params), { error: 'login_required', error_description: 'the user is not signed in', state: 'st-1', iss: ISSUER }, 'prompt=none')

  const signedIn = await signInAt(browser, webRequest(FORM_POST).url)
  t.equal(signedIn.statusCode, 200, 'a skip-consent client: the login post answers with the page')
  t.ok(formPostParams(signedIn).params.get('code'))

  const refused = await browser.get(webRequest({ ...FORM_POST, response_type: 'token' }).url)
  t.same(Object.fromEntries(formPostParams(refused).params), { error: 'unsupported_response_type', error_description: 'only response_type=code is supported', state: 'st-1', iss: ISSUER })
  const scope = await browser.get(webRequest({ ...FORM_POST, scope: 'openid admin' }).url)
  t.equal(formPostParams(scope).params.get('error'), 'invalid_scope', 'a refusal of the interaction policy')

  await app.storage.clients.update('web', { skipConsent: false })
  const consent = await browser.get(webRequest({ ...FORM_POST, scope: 'openid items:read' }).url)
  const denied = await browser.post('/consent', { decision: 'deny', csrf: field(consent.body, 'csrf'), return_to: field(consent.body, 'return_to') })
  t.same(Object.fromEntries(formPostParams(denied).params), { error: 'access_denied', error_description: 'the user denied the request', state: 'st-1', iss: ISSUER }, 'deny')
})

t.test('another response_mode is invalid_request by redirect; a bad client or redirect URI is the error page, never a post', async (t) => {
  const app = await build(t)
  await browserFixtures(app)
  const browser = new InjectBrowser(app)
  for (const mode of ['fragment', 'form_post.jwt', 'jwt']) {
    const res = await browser.get(webRequest({ response_mode: mode }).url)
    t.equal(res.statusCode, 303, mode)
    t.same(Object.fromEntries(callbackParams(res)), { error: 'invalid_request', error_description: 'response_mode must be one of query, form_post', state: 'st-1', iss: ISSUER }, mode)
  }
  for (const over of [{ client_id: 'nobody' }, { redirect_uri: 'https://evil.test/cb' }]) {
    const res = await browser.get(webRequest({ ...FORM_POST, ...over }).url)
    t.equal(res.statusCode, 400, JSON.stringify(over))
    t.notMatch(res.body, /<form method="post" action="https:\/\/evil/, 'no form to anywhere')
    t.notMatch(res.body, /<script/)
  }
})

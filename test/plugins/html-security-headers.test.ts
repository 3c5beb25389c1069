import t, { type Test } from 'tap'
import { build } from '../support/helper.js'
import { InjectBrowser, browserFixtures, webRequest } from '../support/browser.js'

// plugins/html-security-headers.ts, the one home of the HTML security headers: what pages, browser redirects and
// the API get, and HSTS on an https issuer only. Series A8 (test/security/browser.test.ts) checks every page.

const HSTS = 'max-age=31536000'

/** One reply of each kind: a page, the error page, a browser redirect, the JSON 404 of a browser path, the API, any unknown path. */
async function replies (t: Test, issuer: string) {
  const app = await build(t, { ISSUER: issuer })
  await browserFixtures(app)
  const browser = new InjectBrowser(app)
  return {
    page: await browser.get(webRequest().url),
    errorPage: await browser.get(webRequest({ client_id: 'nobody' }).url),
    redirect: await browser.get(webRequest({ response_type: 'token' }).url),
    browserNotFound: await browser.get('/login/Not-A-Name'),
    api: await app.inject('/.well-known/openid-configuration'),
    token: await app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=nope' }),
    unknown: await app.inject('/no/such/path')
  }
}

t.test('an https issuer: Strict-Transport-Security on every reply, a year, this host only', async (t) => {
  for (const [name, res] of Object.entries(await replies(t, 'https://auth.test'))) {
    t.equal(res.headers['strict-transport-security'], HSTS, name)
  }
})

t.test('an http issuer: no Strict-Transport-Security anywhere (browsers ignore it over http)', async (t) => {
  for (const [name, res] of Object.entries(await replies(t, 'http://gatehouse.test'))) {
    t.notOk(res.headers['strict-transport-security'], name)
  }
})

t.test('pages: their own CSP (nonce\'d style, forms to here and the client), COOP same-origin and the rest; JSON gets none of it', async (t) => {
  const { page, errorPage, redirect, api, token } = await replies(t, 'http://gatehouse.test')
  for (const [name, res] of Object.entries({ page, errorPage })) {
    const nonce = /<style nonce="([^"]+)">/.exec(res.body)?.[1]
    t.ok(nonce, `${name}: a style nonce`)
    // The login page runs its passkey scripts (by the same nonce) and may call back here for their challenge.
    const scripts = name === 'page' ? ` script-src 'nonce-${nonce}'; connect-src 'self';` : ''
    t.equal(res.headers['content-security-policy'], `default-src 'none'; style-src 'nonce-${nonce}';${scripts} img-src 'self' data:; form-action 'self'${name === 'page' ? ' https://app.test' : ''}; base-uri 'none'; frame-ancestors 'none'`, `${name}: its CSP`)
    t.equal(res.headers['cross-origin-opener-policy'], 'same-origin', `${name}: COOP`)
    t.equal(res.headers['x-frame-options'], 'DENY', name)
    t.equal(res.headers['x-content-type-options'], 'nosniff', name)
  }
  t.not(/<style nonce="([^"]+)">/.exec(page.body)?.[1], /<style nonce="([^"]+)">/.exec(errorPage.body)?.[1], 'a new nonce per page')
  for (const [name, res] of Object.entries({ redirect, api, token })) {
    t.notOk(res.headers['content-security-policy'], `${name}: no CSP (not HTML)`)
    t.notOk(res.headers['cross-origin-opener-policy'], `${name}: no COOP`)
  }
})

t.test('every reply of a browser route, redirects and JSON included: no-store, no-cache, no referrer; the API keeps its own', async (t) => {
  const { page, errorPage, redirect, browserNotFound, api } = await replies(t, 'http://gatehouse.test')
  for (const [name, res] of Object.entries({ page, errorPage, redirect, browserNotFound })) {
    t.equal(res.headers['cache-control'], 'no-store', `${name}: no-store`)
    t.equal(res.headers.pragma, 'no-cache', `${name}: no-cache`)
    t.equal(res.headers['referrer-policy'], 'no-referrer', `${name}: no Referer`)
  }
  t.equal(redirect.statusCode, 303)
  t.notOk(api.headers.pragma, 'the discovery document is no browser route')
  t.notOk(api.headers['referrer-policy'])
})

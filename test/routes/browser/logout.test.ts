import t, { type Test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { addUser, build } from '../../support/helper.js'
import { InjectBrowser, authorizeThrough, browserFixtures, callbackParams, exchange, field, webRequest } from '../../support/browser.js'

// RP-Initiated Logout (OpenID Connect RP-Initiated Logout 1.0) and the sign-out form: which requests end the
// session at once, which ask first, where the browser may go after, and the CSRF check of the form. On SQLite
// here; test/postgres/ runs it again on PostgreSQL.

async function setup (t: Test) {
  const app = await build(t)
  const fixtures = await browserFixtures(app, { skipConsent: true })
  await app.storage.clients.update('web', { postLogoutRedirectUris: ['https://app.test/bye', 'https://app.test'] })
  return { app, ...fixtures }
}

/** Signs `browser` in through web's authorization request; returns the ID token web got (an `id_token_hint`). */
async function signInWithIdToken (app: FastifyInstance, browser: InjectBrowser, webAuth: string): Promise<string> {
  const request = webRequest()
  const code = await authorizeThrough(browser, request.url)
  return (await exchange(app, { code, code_verifier: request.verifier }, webAuth)).json().id_token
}

async function signedIn (browser: InjectBrowser): Promise<boolean> {
  return callbackParams(await browser.get(webRequest({ prompt: 'none' }).url)).has('code')
}

const logoutUrl = (params: Record<string, string>) => `/logout?${new URLSearchParams(params).toString()}`

/** RP-Initiated Logout 1.0 §2/§3: a request that cannot be trusted is an error page, with no sign-out and no redirect. */
function errorPage (t: Test, res: LightMyRequestResponse, label: string, description: RegExp) {
  t.equal(res.statusCode, 400, `${label}: 400`)
  t.notOk(res.headers.location, `${label}: no redirect`)
  t.match(String(res.headers['content-type']), /^text\/html/, `${label}: an HTML page`)
  t.match(res.body, description, `${label}: says why`)
}

function signedOutPage (t: Test, res: LightMyRequestResponse, label: string) {
  t.equal(res.statusCode, 200, `${label}: 200`)
  t.notOk(res.headers.location, `${label}: no redirect`)
  t.match(res.body, /You are signed out/, `${label}: the signed-out page`)
}

t.test('22.11: GET /logout without id_token_hint while signed in: a confirmation page, the session kept; its form signs out and returns with state', async (t) => {
  const { app } = await setup(t)
  const browser = new InjectBrowser(app)
  await authorizeThrough(browser, webRequest().url)
  // A cross-site navigation, as a link or an <img> on another site would send it.
  const page = await browser.get(logoutUrl({ client_id: 'web', post_logout_redirect_uri: 'https://app.test/bye', state: 's p' }), { 'sec-fetch-site': 'cross-site' })
  t.equal(page.statusCode, 200)
  t.notOk(page.headers.location, 'no redirect')
  t.match(page.body, /Sign out\?/, 'the confirmation page')
  t.match(page.body, /<form method="post" action="\/logout"/)
  t.notMatch([page.headers['set-cookie'] ?? []].flat().join('\n'), /gatehouse-session=;/, 'the session cookie is not cleared')
  t.match(page.headers['content-security-policy'], /form-action 'self' https:\/\/app\.test[;]/, 'the form may end at the registered URI')
  t.match(page.headers['content-security-policy'], /frame-ancestors 'none'/, 'the page headers of every page')
  t.equal(page.headers['x-frame-options'], 'DENY')
  t.equal(page.headers['cache-control'], 'no-store')
  t.ok(await signedIn(browser), 'still signed in')

  const confirmed = await browser.post('/logout', {
    csrf: field(page.body, 'csrf'),
    client_id: field(page.body, 'client_id'),
    post_logout_redirect_uri: field(page.body, 'post_logout_redirect_uri'),
    state: field(page.body, 'state')
  })
  t.equal(confirmed.statusCode, 303, 'post_logout_redirect_uri and state survive the confirmation')
  t.equal(confirmed.headers.location, 'https://app.test/bye?state=s+p')
  t.notOk(await signedIn(browser), 'signed out')
})

t.test('22.11: an unregistered URI is an error page (nobody signed out); without a client to check it against it is not carried to the confirmation page; the form then shows the signed-out page', async (t) => {
  const { app } = await setup(t)
  const browser = new InjectBrowser(app)
  await authorizeThrough(browser, webRequest().url)
  const refused = await browser.get(logoutUrl({ client_id: 'web', post_logout_redirect_uri: 'https://evil.test/', state: 's' }))
  errorPage(t, refused, 'an unregistered URI for web', /not registered/)
  t.notMatch(refused.headers['content-security-policy'], /evil/)
  t.ok(await signedIn(browser), 'still signed in')
  const page = await browser.get(logoutUrl({ post_logout_redirect_uri: 'https://evil.test/', state: 's' }))
  t.match(page.body, /Sign out\?/, 'no client named: asked')
  t.notMatch(page.body, /evil\.test|name="state"/, 'neither the URI nor state')
  t.notMatch(page.headers['content-security-policy'], /evil/)
  const plain = await browser.get('/logout')
  t.match(plain.body, /Sign out\?/, 'GET /logout alone asks too')
  signedOutPage(t, await browser.post('/logout', { csrf: field(plain.body, 'csrf') }), 'the form')
  t.notOk(await signedIn(browser))
})

t.test('22.11: a hint that cannot be tied to this session asks first (another user\'s); one that cannot be trusted is an error page (a forged one, a client that is gone, a contradicting client_id)', async (t) => {
  const { app, webAuth } = await setup(t)
  await addUser(app, 'bob', 'bob password', { scope: 'items:read' })
  const bobBrowser = new InjectBrowser(app)
  const bobRequest = webRequest()
  let res = await bobBrowser.get(bobRequest.url)
  res = await bobBrowser.post('/login', { username: 'bob', password: 'bob password', csrf: field(res.body, 'csrf'), return_to: field(res.body, 'return_to') })
  const bobsHint = (await exchange(app, { code: callbackParams(res).get('code') as string, code_verifier: bobRequest.verifier }, webAuth)).json().id_token

  const browser = new InjectBrowser(app)
  const alicesHint = await signInWithIdToken(app, browser, webAuth)
  const spaRequest = webRequest({ client_id: 'spa', redirect_uri: 'https://spa.test/cb' })
  const spaCode = await authorizeThrough(browser, spaRequest.url)
  const spaHint = (await exchange(app, { code: spaCode, code_verifier: spaRequest.verifier, client_id: 'spa', redirect_uri: 'https://spa.test/cb' })).json().id_token
  await app.storage.clients.delete('spa')
  const page = await browser.get(logoutUrl({ id_token_hint: bobsHint, post_logout_redirect_uri: 'https://app.test/bye' }))
  t.equal(page.statusCode, 200, 'bob\'s ID token')
  t.match(page.body, /Sign out\?/, 'bob\'s ID token: asked first')
  t.ok(await signedIn(browser), 'bob\'s ID token: still signed in')
  for (const [label, params, why] of [
    ['a client that is gone', { id_token_hint: spaHint }, /does not exist/],
    ['a forged signature', { id_token_hint: alicesHint.slice(0, -4) + 'AAAA', post_logout_redirect_uri: 'https://app.test/bye' }, /id_token_hint/],
    ['client_id other than the hint\'s', { id_token_hint: alicesHint, client_id: 'spa', post_logout_redirect_uri: 'https://app.test/bye' }, /client_id/]
  ] as const) {
    errorPage(t, await browser.get(logoutUrl(params)), label, why)
    t.ok(await signedIn(browser), `${label}: still signed in`)
  }
})

t.test('a valid id_token_hint of this session signs out at once, as before, and returns to the registered URI with state', async (t) => {
  const { app, webAuth } = await setup(t)
  const browser = new InjectBrowser(app)
  const hint = await signInWithIdToken(app, browser, webAuth)
  const res = await browser.get(logoutUrl({ id_token_hint: hint, post_logout_redirect_uri: 'https://app.test/bye', state: 'xyz' }), { 'sec-fetch-site': 'cross-site' })
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, 'https://app.test/bye?state=xyz')
  t.notOk(await signedIn(browser))
  // Nobody signed in: nothing to confirm.
  signedOutPage(t, await browser.get('/logout'), 'signed out already')
})

t.test('post_logout_redirect_uri matched exactly: look-alikes of https://app.test/bye and https://app.test get an error page and no redirect', async (t) => {
  const { app, webAuth } = await setup(t)
  const browser = new InjectBrowser(app)
  let hint = ''
  for (const uri of ['https://app.test/bye', 'https://app.test']) {
    // A hint of this session each time (its sid must be the session's).
    hint = await signInWithIdToken(app, browser, webAuth)
    const res = await browser.get(logoutUrl({ id_token_hint: hint, post_logout_redirect_uri: uri }))
    t.equal(res.statusCode, 303, `${uri}: registered`)
    t.equal(res.headers.location, new URL(uri).href)
  }
  const lookAlikes = [
    'https://app.test/bye/../admin', 'https://app.test/bye?next=https://evil.test/', 'https://app.test/byebye',
    'https://app.test.evil.test/', 'https://app.test@evil.test/',
    // Equivalent URLs, but not the registered strings (§3: simple string comparison).
    'https://app.test/', 'https://APP.test/bye', 'https://app.test/bye#x'
  ]
  await authorizeThrough(browser, webRequest().url)
  for (const uri of lookAlikes) {
    errorPage(t, await browser.get(logoutUrl({ id_token_hint: hint, post_logout_redirect_uri: uri, state: 's' })), `GET ${uri}`, /not registered/)
    t.ok(await signedIn(browser), `GET ${uri}: no sign-out either (the RP sees the error, not a silent logout)`)
  }
  // The confirmation form's fields are checked as strictly (a page's hidden fields can be edited).
  for (const uri of lookAlikes) {
    await authorizeThrough(browser, webRequest().url)
    const page = await browser.get('/logout')
    signedOutPage(t, await browser.post('/logout', { csrf: field(page.body, 'csrf'), client_id: 'web', post_logout_redirect_uri: uri, state: 's' }), `POST ${uri}`)
  }
})

t.test('POST /logout checks CSRF: no token, another one, another Origin or a cross-site post get 403 and stay signed in', async (t) => {
  const { app } = await setup(t)
  const browser = new InjectBrowser(app)
  await authorizeThrough(browser, webRequest().url)
  const page = await browser.get('/login')
  const csrf = field(page.body, 'csrf')
  for (const [label, fields, headers] of [
    ['no token', {}, {}],
    ['another token', { csrf: 'A'.repeat(43) }, {}],
    ['another Origin', { csrf }, { origin: 'https://evil.test' }],
    ['Sec-Fetch-Site: cross-site', { csrf }, { 'sec-fetch-site': 'cross-site' }]
  ] as const) {
    const res = await browser.post('/logout', fields, headers)
    t.equal(res.statusCode, 403, `${label}: 403`)
    t.match(String(res.headers['content-type']), /^text\/html/, `${label}: an HTML page`)
    t.ok(await signedIn(browser), `${label}: still signed in`)
  }
  signedOutPage(t, await browser.post('/logout', { csrf }, { origin: 'http://gatehouse.test' }), 'the right token from the issuer\'s origin')
  t.notOk(await signedIn(browser))
})

t.test('a hint from another session of the same user (another sid) asks first: it is not this browser\'s logout', async (t) => {
  const { app, webAuth } = await setup(t)
  const laptop = new InjectBrowser(app)
  const laptopsHint = await signInWithIdToken(app, laptop, webAuth)
  const phone = new InjectBrowser(app)
  const phonesHint = await signInWithIdToken(app, phone, webAuth)
  const page = await phone.get(logoutUrl({ id_token_hint: laptopsHint, post_logout_redirect_uri: 'https://app.test/bye', state: 's' }))
  t.equal(page.statusCode, 200)
  t.match(page.body, /Sign out\?/, 'asked first')
  t.ok(await signedIn(phone), 'the phone is still signed in')
  const res = await phone.get(logoutUrl({ id_token_hint: phonesHint, post_logout_redirect_uri: 'https://app.test/bye', state: 's' }))
  t.equal(res.headers.location, 'https://app.test/bye?state=s', 'its own hint signs it out at once')
  t.notOk(await signedIn(phone))
  t.ok(await signedIn(laptop), 'the laptop\'s session is another')
})

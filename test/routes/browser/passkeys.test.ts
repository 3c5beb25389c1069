import t, { type Test } from 'tap'
import { build, ISSUER } from '../../support/helper.js'
import { InjectBrowser, PASSWORD, browserFixtures, callbackParams, field, webRequest } from '../../support/browser.js'
import { addPasskey, postAssertion, signInChallenge, signInWithPasskey } from '../../support/passkeys.js'
import { SoftAuthenticator } from '../../support/webauthn.js'
import { PASSKEY_CEREMONIES } from '../../../lib/mfa/webauthn.js'

// Passkeys through app.inject: "Add a passkey" on the account page, the list and removal, "Sign in with a passkey"
// on the login page (no password) continuing a pending /authorize, the scripts and the page's CSP. The rules alone:
// test/lib/mfa/webauthn.test.ts; the attack cases (SECURITY-CASES Q3): test/security/q-passkeys.test.ts.

const RP = new URL(ISSUER)

async function signedIn (t: Test) {
  const app = await build(t, { ISSUER })
  const fixtures = await browserFixtures(app, { skipConsent: true })
  const browser = new InjectBrowser(app)
  const login = await browser.get('/login?return_to=/account')
  await browser.post('/login', { username: 'alice', password: PASSWORD, csrf: field(login.body, 'csrf'), return_to: '/account' })
  return { app, browser, ...fixtures }
}

t.test('Add a passkey, then sign in with it and no password: the pending /authorize gets its code', async (t) => {
  const { app, browser, alice } = await signedIn(t)
  const account = await browser.get('/account')
  t.match(account.body, /<button type="submit">Add a passkey<\/button>/)
  t.match(account.body, /No passkey yet/)
  const authenticator = new SoftAuthenticator(RP.hostname, RP.origin)
  const added = await addPasskey(browser, authenticator, 'My laptop')
  t.equal(added.statusCode, 303)
  t.equal(added.headers.location, '/account?done=passkey')
  const listed = await browser.get(added.headers.location as string)
  t.match(listed.body, /The passkey is added/)
  t.match(listed.body, /<span class="value">My laptop<\/span>\s*<small>added \d{4}-\d\d-\d\d \d\d:\d\d UTC · last used never<\/small>/)
  t.equal(await app.storage.factors.countConfirmed(alice.id), 1)

  const fresh = new InjectBrowser(app)
  const request = webRequest()
  const login = await fresh.get(request.url)
  t.match(login.body, /Sign in with a passkey/)
  t.match(login.body, /autocomplete="username webauthn"/, 'conditional UI: the username field offers passkeys')
  const res = await signInWithPasskey(fresh, authenticator, request.url)
  t.equal(res.statusCode, 303)
  t.ok(callbackParams(res).get('code'), 'a code for the client, with no password')
  const [session] = await app.storage.sessions.listForUser(alice.id, Math.floor(Date.now() / 1000) + 1).then((s) => s.filter((x) => x.amr.includes('hwk')))
  t.same(session?.amr, ['hwk', 'user', 'mfa'], 'the session says a device-bound passkey with its user verified: two factors')
  t.match((await fresh.get('/account')).body, /with a passkey/, 'the account page names how the session signed in')
  t.match((await fresh.get('/account')).body, /last used \d{4}/)
})

t.test('the login page loads the passkey scripts with its nonce; CSP allows them and calls back here only', async (t) => {
  const app = await build(t, { ISSUER })
  const page = await app.inject({ url: '/login' })
  const csp = String(page.headers['content-security-policy'])
  const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1]
  t.ok(nonce)
  t.match(csp, /connect-src 'self'/)
  const scripts = [...page.body.matchAll(/<script src="([^"]+)" nonce="([^"]+)"><\/script>/g)]
  t.equal(scripts.length, 2)
  t.notOk(/<script>/.test(page.body), 'no inline script')
  for (const [, src, n] of scripts) {
    t.equal(n, nonce)
    const asset = await app.inject({ url: src! })
    t.equal(asset.statusCode, 200)
    t.equal(asset.headers['content-type'], 'text/javascript; charset=utf-8')
    t.match(asset.headers['cache-control'], /max-age=31536000/)
  }
  t.match((await app.inject({ url: scripts[0]![1]! })).body, /SimpleWebAuthnBrowser/)
  const missing = await app.inject({ url: '/assets/nothing.js' })
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().error, 'not_found')
})

t.test('removing a passkey asks for the current password', async (t) => {
  const { app, browser, alice } = await signedIn(t)
  await addPasskey(browser, new SoftAuthenticator(RP.hostname, RP.origin), 'Key')
  const [factor] = await app.storage.factors.list(alice.id)
  const csrf = field((await browser.get('/account')).body, 'csrf')
  const wrong = await browser.post('/account/passkeys/remove', { csrf, id: factor!.id, current_password: 'not it' })
  t.equal(wrong.statusCode, 401)
  t.match(wrong.body, /nothing was removed/)
  t.equal(await app.storage.factors.countConfirmed(alice.id), 1)
  const removed = await browser.post('/account/passkeys/remove', { csrf, id: factor!.id, current_password: PASSWORD })
  t.equal(removed.headers.location, '/account?done=passkey_removed')
  t.equal(await app.storage.factors.countConfirmed(alice.id), 0)
})

t.test('refusals are pages, never a 500: garbage, no response, a registration without user verification, too many ceremonies', async (t) => {
  const { app, browser } = await signedIn(t)
  const csrf = field((await browser.get('/account')).body, 'csrf')
  const none = await browser.post('/account/passkeys', { csrf, name: 'x' })
  t.equal(none.statusCode, 400)
  t.match(none.body, /did not create a passkey/)
  const noUv = await addPasskey(browser, new SoftAuthenticator(RP.hostname, RP.origin), 'x', { userVerified: false })
  t.equal(noUv.statusCode, 400)
  t.match(noUv.body, /must verify you/)
  const anonymous = new InjectBrowser(app)
  const page = await anonymous.get('/login')
  for (const response of ['not json', { id: 'x' }, null]) {
    const res = await postAssertion(anonymous, page.body, response)
    t.equal(res.statusCode, 401)
    t.match(res.body, /That passkey was not accepted/)
  }
  // The address's budget: each ceremony one, each failure one more.
  let status = 200
  for (let i = 0; i < PASSKEY_CEREMONIES.max && status === 200; i++) status = (await anonymous.post('/login/passkey/options', { csrf: field(page.body, 'csrf') })).statusCode
  t.equal(status, 429, 'the address ran out of ceremonies')
  await t.rejects(signInChallenge(anonymous, page.body))
})

t.test('a passkey as the second factor: after the password, the second-factor page offers it; the session has pwd, hwk, mfa', async (t) => {
  const { app, browser, alice } = await signedIn(t)
  const authenticator = new SoftAuthenticator(RP.hostname, RP.origin)
  await addPasskey(browser, authenticator)
  await app.storage.sessions.deleteForUser(alice.id)

  const fresh = new InjectBrowser(app)
  const request = webRequest()
  const login = await fresh.get(request.url)
  const posted = await fresh.post('/login', { username: 'alice', password: PASSWORD, csrf: field(login.body, 'csrf'), return_to: field(login.body, 'return_to') })
  t.equal(posted.statusCode, 303)
  t.match(posted.headers.location, /^\/login\/factor\?return_to=/, 'the password alone: on to the second factor')
  const page = await fresh.get(posted.headers.location as string)
  t.match(page.body, /action="\/login\/factor\/passkey"/)
  t.match(page.body, /Sign in with a passkey/)
  t.match(String(page.headers['content-security-policy']), /script-src 'nonce-/)
  const options = await fresh.post('/login/factor/passkey/options', { csrf: field(page.body, 'csrf') })
  t.equal(options.statusCode, 200)
  const { challenge, allowCredentials } = options.json() as { challenge: string, allowCredentials: Array<{ id: string }> }
  t.same(allowCredentials.map((c) => c.id), [authenticator.id], 'alice\'s passkeys only')
  const done = await fresh.post('/login/factor/passkey', { csrf: field(page.body, 'csrf'), return_to: field(page.body, 'return_to'), response: JSON.stringify(authenticator.assert(challenge)) })
  t.equal(done.statusCode, 303)
  t.ok(callbackParams(done).get('code'), 'the code for the client')
  const sessions = await app.storage.sessions.listForUser(alice.id, Math.floor(Date.now() / 1000))
  t.same(sessions.map((s) => s.amr), [['pwd', 'hwk', 'mfa']])
})

t.test('the second-factor passkey routes without a password step: to the login page', async (t) => {
  const app = await build(t, { ISSUER })
  const browser = new InjectBrowser(app)
  const csrf = field((await browser.get('/login')).body, 'csrf')
  for (const path of ['/login/factor/passkey/options', '/login/factor/passkey']) {
    const res = await browser.post(path, { csrf, response: '{}' })
    t.equal(res.statusCode, 303, path)
    t.equal(res.headers.location, '/login')
  }
})

import t, { type Test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { ISSUER, addUser, build } from '../support/helper.js'
import { InjectBrowser, PASSWORD, browserFixtures, callbackParams, field, webRequest } from '../support/browser.js'
import { addPasskey, postAssertion, signInChallenge } from '../support/passkeys.js'
import { SoftAuthenticator } from '../support/webauthn.js'

// SECURITY-CASES Q3 (W3C WebAuthn Level 2 §7.2): "Sign in with a passkey" on the login page, attacked with real
// assertions from a software authenticator (ES256, CBOR; test/support/webauthn.ts) and verified by the server's real
// library: an assertion for another user's credential, one replayed with the same challenge (from an authenticator
// that keeps no counter, so the challenge alone must stop it; also ten at once), a wrong origin or RP ID, a signature
// counter going back. Each is refused (the login page again, 401), and no session starts: nobody is signed in, and the
// user holds no session. A right one then signs in, so the refusals are not a broken sign-in.

const RP = new URL(ISSUER)
const MALLORY_PASSWORD = 'mallory has her own passphrase'

async function setUp (t: Test) {
  const app = await build(t, { ISSUER })
  const { alice } = await browserFixtures(app, { skipConsent: true })
  const mallory = await addUser(app, 'mallory', MALLORY_PASSWORD)
  // Alice adds her passkey on her account page, then signs out of everything.
  const own = new InjectBrowser(app)
  const login = await own.get('/login?return_to=/account')
  await own.post('/login', { username: 'alice', password: PASSWORD, csrf: field(login.body, 'csrf'), return_to: '/account' })
  const passkey = new SoftAuthenticator(RP.hostname, RP.origin)
  t.equal((await addPasskey(own, passkey)).statusCode, 303, '(alice adds a passkey)')
  // And one that keeps no counter (many synced passkeys report 0 always): only the challenge stops its replay.
  const counterless = new SoftAuthenticator(RP.hostname, RP.origin)
  t.equal((await addPasskey(own, counterless, 'No counter', { counter: 0 })).statusCode, 303, '(and a counterless one)')
  await app.storage.sessions.deleteForUser(alice.id)
  return { app, alice, mallory, passkey, counterless }
}

/** Nobody is signed in: the browser's account page sends it to the login page, and the user has no session at all. */
async function noSession (t: Test, app: FastifyInstance, browser: InjectBrowser, userId: string) {
  t.equal((await browser.get('/account')).statusCode, 303, 'this browser is not signed in')
  t.same(await app.storage.sessions.listForUser(userId, Math.floor(Date.now() / 1000)), [], 'the user holds no session')
}

/** A fresh browser on the login page of a pending /authorize, with a challenge for it. */
async function atLogin (app: FastifyInstance) {
  const browser = new InjectBrowser(app)
  const page = (await browser.get(webRequest().url)).body
  return { browser, page, challenge: await signInChallenge(browser, page) }
}

const refused = (t: Test, res: LightMyRequestResponse, what: string) => {
  t.equal(res.statusCode, 401, `${what}: refused`)
  t.match(res.body, /That passkey was not accepted/)
  t.equal(res.headers.location, undefined, 'no redirect')
}

t.test('Q3: an assertion for another user\'s credential is refused; no session', async (t) => {
  const { app, alice, mallory, passkey } = await setUp(t)
  // Mallory's own key, claiming alice's credential id: the signature is not alice's key's.
  const { browser, page, challenge } = await atLogin(app)
  const forged = new SoftAuthenticator(RP.hostname, RP.origin)
  Object.defineProperty(forged, 'credentialId', { value: passkey.credentialId })
  forged.userHandle = passkey.userHandle
  refused(t, await postAssertion(browser, page, forged.assert(challenge)), 'alice\'s credential id, signed by another key')
  await noSession(t, app, browser, alice.id)
  // Alice's real assertion naming mallory as its user (the user handle): the credential is not mallory's.
  const second = await atLogin(app)
  refused(t, await postAssertion(second.browser, second.page, passkey.assert(second.challenge, { userHandle: Buffer.from(mallory.id).toString('base64url') })), 'alice\'s passkey naming mallory')
  await noSession(t, app, second.browser, alice.id)
  t.same(await app.storage.sessions.listForUser(mallory.id, Math.floor(Date.now() / 1000)), [], 'mallory holds no session either')
})

t.test('Q3: a replayed assertion (the same challenge) is refused, even from an authenticator without a counter; of ten at once one signs in', async (t) => {
  const { app, alice, counterless } = await setUp(t)
  const { browser, page, challenge } = await atLogin(app)
  const assertion = counterless.assert(challenge, { counter: 0 })
  // The attacker holds a copy of this browser's cookies and the posted form.
  const copy = new InjectBrowser(app)
  for (const [name, value] of browser.cookies) copy.cookies.set(name, value)
  const first = await postAssertion(browser, page, assertion)
  t.equal(first.statusCode, 303, 'the first presentation signs in')
  t.ok(callbackParams(first).get('code'))
  await app.storage.sessions.deleteForUser(alice.id)
  refused(t, await postAssertion(copy, page, assertion), 'the same assertion again')
  await noSession(t, app, copy, alice.id)

  // Ten presentations of one assertion at once: exactly one signs in.
  const race = await atLogin(app)
  const raced = race.browser.cookies
  const answer = counterless.assert(race.challenge, { counter: 0 })
  const results = await Promise.all(Array.from({ length: 10 }, () => {
    const b = new InjectBrowser(app)
    for (const [name, value] of raced) b.cookies.set(name, value)
    return postAssertion(b, race.page, answer)
  }))
  t.same(results.map((r) => r.statusCode).sort(), [303, 401, 401, 401, 401, 401, 401, 401, 401, 401])
  t.equal((await app.storage.sessions.listForUser(alice.id, Math.floor(Date.now() / 1000))).length, 1, 'one session')
})

t.test('Q3: a wrong origin or RP ID is refused; no session', async (t) => {
  const { app, alice, passkey } = await setUp(t)
  for (const [what, over] of [
    ['another origin (a phishing page)', { origin: 'https://gatehouse.test.evil.example' }],
    ['the right host over another scheme', { origin: RP.origin.replace('http:', 'https:') }],
    ['another RP ID', { rpId: 'evil.example' }],
    ['a parent domain as RP ID', { rpId: 'test' }]
  ] as const) {
    const { browser, page, challenge } = await atLogin(app)
    refused(t, await postAssertion(browser, page, passkey.assert(challenge, over)), what)
    await noSession(t, app, browser, alice.id)
  }
})

t.test('Q3: a signature counter going back (a cloned authenticator) is refused; no session', async (t) => {
  const { app, alice, passkey } = await setUp(t)
  const ok = await atLogin(app)
  t.equal((await postAssertion(ok.browser, ok.page, passkey.assert(ok.challenge, { counter: 10 }))).statusCode, 303, '(counter 10: signed in)')
  await app.storage.sessions.deleteForUser(alice.id)
  for (const counter of [9, 10]) {
    const { browser, page, challenge } = await atLogin(app)
    refused(t, await postAssertion(browser, page, passkey.assert(challenge, { counter })), `counter ${counter} after 10`)
    await noSession(t, app, browser, alice.id)
  }
  const again = await atLogin(app)
  t.equal((await postAssertion(again.browser, again.page, passkey.assert(again.challenge, { counter: 11 }))).statusCode, 303, 'counter 11: signed in')
})

t.test('Q3: a passkey of a disabled user, and one without user verification, are refused; no session', async (t) => {
  const { app, alice, passkey } = await setUp(t)
  const noUv = await atLogin(app)
  refused(t, await postAssertion(noUv.browser, noUv.page, passkey.assert(noUv.challenge, { userVerified: false })), 'no user verification')
  await app.storage.users.update('alice', { disabled: true })
  const disabled = await atLogin(app)
  refused(t, await postAssertion(disabled.browser, disabled.page, passkey.assert(disabled.challenge)), 'a disabled user')
  await noSession(t, app, disabled.browser, alice.id)
})

t.test('Q3: at the second factor after alice\'s password, mallory\'s own passkey (another user\'s credential) is refused; no session', async (t) => {
  const { app, alice } = await setUp(t)
  // Mallory has a passkey of her own, added on her own account page.
  const hers = new SoftAuthenticator(RP.hostname, RP.origin)
  const own = new InjectBrowser(app)
  const ownLogin = await own.get('/login?return_to=/account')
  await own.post('/login', { username: 'mallory', password: MALLORY_PASSWORD, csrf: field(ownLogin.body, 'csrf'), return_to: '/account' })
  t.equal((await addPasskey(own, hers)).statusCode, 303, '(mallory adds her passkey)')
  // Mallory knows alice's password: the password step is done, the second factor is asked.
  const browser = new InjectBrowser(app)
  const request = webRequest()
  const login = await browser.get(request.url)
  const posted = await browser.post('/login', { username: 'alice', password: PASSWORD, csrf: field(login.body, 'csrf'), return_to: field(login.body, 'return_to') })
  const page = await browser.get(posted.headers.location as string)
  const challenge = (await browser.post('/login/factor/passkey/options', { csrf: field(page.body, 'csrf') })).json().challenge as string
  const res = await browser.post('/login/factor/passkey', { csrf: field(page.body, 'csrf'), return_to: field(page.body, 'return_to'), response: JSON.stringify(hers.assert(challenge)) })
  t.equal(res.statusCode, 401)
  t.match(res.body, /That passkey was not accepted/)
  await noSession(t, app, browser, alice.id)
})

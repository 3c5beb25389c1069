import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, testBackend } from '../../support/helper.js'
import { InjectBrowser, PASSWORD, authorizeThrough, browserFixtures, field, webRequest } from '../../support/browser.js'
import { addTotp, codeNow } from '../../support/factors.js'
import { totpCode, totpStep } from '../../../lib/mfa/totp.js'

// The account page's authenticator-app section and /login/enroll (routes/browser/account-factors.ts,
// login-enroll.ts; the rules: lib/mfa/enrolment.ts). Runs on both stores (test/postgres/list.ts).

const attr = (html: string, name: string): string[] => [...html.matchAll(new RegExp(`${name}="([^"]*)"`, 'g'))].map((m) => m[1]!.replace(/&amp;/g, '&'))
const secretOf = (html: string): string => new URL(attr(html, 'data-otpauth-uri')[0]!).searchParams.get('secret')!

async function signedIn (app: FastifyInstance): Promise<InjectBrowser> {
  const browser = new InjectBrowser(app)
  await authorizeThrough(browser, webRequest().url)
  return browser
}

t.test('add an app: QR code, key and URI; it counts only once confirmed; then ten recovery codes, shown once', async (t) => {
  const app = await build(t)
  const { alice } = await browserFixtures(app, { skipConsent: true })
  const browser = await signedIn(app)
  let page = await browser.get('/account')
  t.match(page.body, /<h2 id="factors-h">Authenticator app<\/h2>/)
  t.match(page.body, /action="\/account\/factors\/totp"/)

  const started = await browser.post('/account/factors/totp', { csrf: field(page.body, 'csrf'), name: 'My phone' })
  t.equal(started.statusCode, 200)
  const [uri] = attr(started.body, 'data-otpauth-uri')
  t.match(uri, /^otpauth:\/\/totp\/Gatehouse:alice\?/, 'the otpauth URI, labelled with the issuer name and the username')
  t.match(started.body, /<svg role="img"/, 'the QR code inline')
  const secret = secretOf(started.body)
  t.match(started.body, new RegExp(secret.slice(0, 4) + ' ' + secret.slice(4, 8)), 'the key as text, in groups')
  t.equal(await app.storage.factors.countConfirmed(alice.id), 0, 'not a factor yet')
  const [stored] = await app.storage.factors.list(alice.id)
  t.equal(stored?.name, 'My phone')
  t.notMatch(stored?.secret, new RegExp(secret), 'the secret is sealed in the store')

  const again = await browser.post('/account/factors/totp', { csrf: field(page.body, 'csrf') })
  t.equal(secretOf(again.body), secret, 'starting again shows the enrolment still waiting, no second row')
  t.equal((await app.storage.factors.list(alice.id)).length, 1)

  const wrong = await browser.post('/account/factors/totp/confirm', { csrf: field(page.body, 'csrf'), factor_id: field(started.body, 'factor_id'), code: totpCode(secret, totpStep(app.clock.now()) - 3) })
  t.equal(wrong.statusCode, 400)
  t.match(wrong.body, /That code is not right/)
  t.equal(secretOf(wrong.body), secret, 'the same app to add, shown again')

  const confirmed = await browser.post('/account/factors/totp/confirm', { csrf: field(page.body, 'csrf'), factor_id: field(started.body, 'factor_id'), code: codeNow(app, secret) })
  t.equal(confirmed.statusCode, 200)
  const codes = attr(confirmed.body, 'data-recovery-code')
  t.equal(codes.length, 10, 'ten recovery codes')
  t.equal(await app.storage.factors.countConfirmed(alice.id), 1)
  t.equal(await app.storage.factors.recoveryCodesLeft(alice.id), 10)
  page = await browser.get('/account')
  t.same(attr(page.body, 'data-recovery-code'), [], 'shown once only')
  t.match(page.body, /My phone/)
  t.match(page.body, /10 of 10 recovery codes left/)
})

t.test('new recovery codes need the password or a code; the old set stops working', async (t) => {
  const app = await build(t)
  const { alice } = await browserFixtures(app, { skipConsent: true })
  const browser = await signedIn(app)
  const { secret, recoveryCodes } = await addTotp(app, alice)
  const csrf = field((await browser.get('/account')).body, 'csrf')
  const none = await browser.post('/account/factors/recovery-codes', { csrf })
  t.equal(none.statusCode, 400)
  t.match(none.body, /Enter your current password/)
  t.equal((await browser.post('/account/factors/recovery-codes', { csrf, current_password: 'wrong password' })).statusCode, 401)
  const byPassword = await browser.post('/account/factors/recovery-codes', { csrf, current_password: PASSWORD })
  t.equal(byPassword.statusCode, 200)
  const fresh = attr(byPassword.body, 'data-recovery-code')
  t.equal(fresh.length, 10)
  t.same(fresh.filter((c) => recoveryCodes.includes(c)), [], 'all new')
  const { recoveryCodeDigest } = await import('../../../lib/mfa/recovery-codes.js')
  t.equal(await app.storage.factors.useRecoveryCode(alice.id, recoveryCodeDigest(recoveryCodes[0]!)!, app.clock.now()), false, 'an old code is void')
  const byCode = await browser.post('/account/factors/recovery-codes', { csrf, code: codeNow(app, secret) })
  t.equal(byCode.statusCode, 200, 'or a code from the app')
})

t.test('remove an app: the password is required; with the last factor the recovery codes go', async (t) => {
  const app = await build(t)
  const { alice } = await browserFixtures(app, { skipConsent: true })
  const browser = await signedIn(app)
  const { factorId, secret } = await addTotp(app, alice)
  const csrf = field((await browser.get('/account')).body, 'csrf')
  const byCode = await browser.post('/account/factors/remove', { csrf, factor_id: factorId, code: codeNow(app, secret) })
  t.equal(byCode.statusCode, 400, 'a code from the app itself does not remove it: the password does')
  t.equal((await browser.post('/account/factors/remove', { csrf, factor_id: factorId, current_password: 'nope nope' })).statusCode, 401)
  t.equal(await app.storage.factors.countConfirmed(alice.id), 1)
  const removed = await browser.post('/account/factors/remove', { csrf, factor_id: factorId, current_password: PASSWORD })
  t.equal(removed.statusCode, 303)
  t.equal(removed.headers.location, '/account?done=factor_removed')
  t.equal(await app.storage.factors.countConfirmed(alice.id), 0)
  t.equal(await app.storage.factors.recoveryCodesLeft(alice.id), 0, 'the recovery codes went with the last factor')
  const gone = await browser.post('/account/factors/remove', { csrf, factor_id: factorId, current_password: PASSWORD })
  t.match(gone.body, /not one of yours/)
})

t.test('at most 5 factors per user: the sixth is refused with a page', async (t) => {
  const app = await build(t)
  const { alice } = await browserFixtures(app, { skipConsent: true })
  const browser = await signedIn(app)
  for (let i = 0; i < 5; i++) await addTotp(app, alice, { recoveryCodes: false })
  const res = await browser.post('/account/factors/totp', { csrf: field((await browser.get('/account')).body, 'csrf') })
  t.equal(res.statusCode, 409)
  t.match(res.body, /as many second factors as an account may hold/)
})

t.test('/login/enroll: add an app in the flow, see the codes once, go on with two factors', async (t) => {
  const app = await build(t)
  const { alice } = await browserFixtures(app, { skipConsent: true })
  t.equal((await app.inject('/login/enroll?return_to=/account')).headers.location, '/login?return_to=%2Faccount', 'nobody signed in: the login page')
  const browser = await signedIn(app)
  const { url } = webRequest()
  const intro = await browser.get(`/login/enroll?return_to=${encodeURIComponent(url)}`)
  t.equal(intro.statusCode, 200)
  t.match(intro.body, /Set up an authenticator app/)
  const started = await browser.post('/login/enroll', { csrf: field(intro.body, 'csrf'), return_to: field(intro.body, 'return_to') })
  t.equal(started.statusCode, 200)
  const secret = secretOf(started.body)
  const done = await browser.post('/login/enroll/confirm', { csrf: field(intro.body, 'csrf'), return_to: url, factor_id: field(started.body, 'factor_id'), code: codeNow(app, secret) })
  t.equal(done.statusCode, 200)
  t.equal(attr(done.body, 'data-recovery-code').length, 10)
  t.equal(attr(done.body, 'href').find((h) => h.startsWith('/authorize')), url, 'a link on to the request')
  const [session] = await app.storage.sessions.listForUser(alice.id, app.clock.now())
  t.same(session?.amr, ['pwd', 'otp', 'mfa'], 'the session now has two factors')
  t.equal((await browser.get(`/login/enroll?return_to=${encodeURIComponent(url)}`)).headers.location, `/login/factor?return_to=${encodeURIComponent(url)}`, 'a factor now: nothing to enrol')
})

t.test('without SECRETS_KEY (PostgreSQL): the section says so, and adding an app is refused with a page', { skip: testBackend !== 'postgres' && 'a SQLite app always has a key (generated beside the file)' }, async (t) => {
  const app = await build(t, { SECRETS_KEY: '' })
  t.equal(app.secrets, undefined)
  await browserFixtures(app, { skipConsent: true })
  const browser = await signedIn(app)
  const page = await browser.get('/account')
  t.match(page.body, /Authenticator apps need <code>SECRETS_KEY<\/code>/)
  const res = await browser.post('/account/factors/totp', { csrf: field(page.body, 'csrf') })
  t.equal(res.statusCode, 409)
  t.match(res.headers['content-type'], /^text\/html/)
  t.match(res.body, /no SECRETS_KEY/)
  const enrol = await browser.post('/login/enroll', { csrf: field(page.body, 'csrf') })
  t.equal(enrol.statusCode, 409)
})

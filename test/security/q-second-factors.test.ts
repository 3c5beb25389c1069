import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { ACCOUNT_FAILURES } from '../../lib/oauth/brute-force.js'
import { totpCode, totpStep } from '../../lib/mfa/totp.js'
import { build, manualClock } from '../support/helper.js'
import { InjectBrowser, PASSWORD, browserFixtures, callbackParams, exchange, field, webRequest } from '../support/browser.js'
import { addTotp, codeNow } from '../support/factors.js'

// SECURITY-CASES Q1 (TOTP and recovery codes: brute force under concurrency, replays, old steps) and Q2 (nothing
// before the second factor). The pages: routes/browser/login-factor.ts; the rules: lib/mfa/second-factor.ts.

/** A browser that got through the password (a password step, no session), at the factor page of `url`. */
async function passwordStepDone (app: FastifyInstance, url = '/login'): Promise<{ browser: InjectBrowser, csrf: string, returnTo: string | undefined }> {
  const browser = new InjectBrowser(app)
  const page = await browser.get(url)
  const returnTo = url === '/login' ? undefined : field(page.body, 'return_to')
  const posted = await browser.post('/login', { username: 'alice', password: PASSWORD, csrf: field(page.body, 'csrf'), ...(returnTo ? { return_to: returnTo } : {}) })
  if (posted.statusCode !== 303 || !String(posted.headers.location).startsWith('/login/factor')) throw new Error(`no password step: ${posted.statusCode} ${String(posted.headers.location)}`)
  return { browser, csrf: field(page.body, 'csrf'), returnTo }
}

const sendCode = (step: { browser: InjectBrowser, csrf: string, returnTo: string | undefined }, code: string) =>
  step.browser.post('/login/factor', { code, csrf: step.csrf, ...(step.returnTo ? { return_to: step.returnTo } : {}) })

t.test('Q1: 12 wrong codes at once: no more checked than the account limit allows, the rest 429', async (t) => {
  const app = await build(t)
  const { alice } = await browserFixtures(app)
  await addTotp(app, alice)
  let checked = 0
  const list = app.storage.factors.list.bind(app.storage.factors)
  app.storage.factors.list = async (...args) => { checked++; return list(...args) }
  const step = await passwordStepDone(app)
  const answers = await Promise.all(Array.from({ length: 12 }, () => sendCode(step, '000000')))
  const statuses = answers.map((r) => r.statusCode)
  t.equal(statuses.filter((s) => s === 401).length, ACCOUNT_FAILURES.max, `${ACCOUNT_FAILURES.max} checked and wrong`)
  t.equal(statuses.filter((s) => s === 429).length, 12 - ACCOUNT_FAILURES.max, 'the rest refused before any check')
  t.equal(checked, ACCOUNT_FAILURES.max, 'the factors were read for the admitted attempts only')
  t.ok(answers.filter((r) => r.statusCode === 429).every((r) => Number(r.headers['retry-after']) > 0), 'Retry-After')
  t.same(await app.storage.sessions.listForUser(alice.id, app.clock.now()), [], 'no session')
})

t.test('Q1: a right password does not clear the account\'s failures while the second factor is to come', async (t) => {
  const app = await build(t)
  const { alice } = await browserFixtures(app)
  const { secret } = await addTotp(app, alice)
  const guesser = new InjectBrowser(app)
  const csrf = field((await guesser.get('/login')).body, 'csrf')
  for (let i = 0; i < ACCOUNT_FAILURES.max - 1; i++) {
    t.equal((await guesser.post('/login', { username: 'alice', password: `guess ${i}`, csrf })).statusCode, 401)
  }
  const step = await passwordStepDone(app)
  t.equal((await sendCode(step, '000000')).statusCode, 401, 'the tenth failure: a wrong code')
  const right = await sendCode(step, codeNow(app, secret))
  t.equal(right.statusCode, 429, 'the limit holds: the right password before did not reset it')
})

t.test('Q1: the same right code twice (at once, and later within its 30 s), and a code from 2 steps ago', async (t) => {
  const clock = manualClock(1_800_000_000)
  const app = await build(t, {}, { clock })
  const { alice } = await browserFixtures(app)
  const { secret } = await addTotp(app, alice)
  const code = codeNow(app, secret)
  const [a, b] = await Promise.all([passwordStepDone(app), passwordStepDone(app)])
  const both = await Promise.all([sendCode(a!, code), sendCode(b!, code)])
  t.same(both.map((r) => r.statusCode).sort(), [303, 401], 'sent at once: accepted once')
  const c = await passwordStepDone(app)
  clock.advance(10)
  t.equal((await sendCode(c, code)).statusCode, 401, 'again 10 s later, still within its step: refused')
  t.equal((await sendCode(c, totpCode(secret, totpStep(clock.now()) - 2))).statusCode, 401, 'a code from two steps ago')
  t.equal((await sendCode(c, totpCode(secret, totpStep(clock.now()) - 1))).statusCode, 401, 'the previous step, older than the one accepted: refused')
  clock.advance(30)
  t.equal((await sendCode(c, codeNow(app, secret))).statusCode, 303, 'the next step\'s code works')
})

t.test('Q1: a recovery code twice (at once): accepted once', async (t) => {
  const app = await build(t)
  const { alice } = await browserFixtures(app)
  const { recoveryCodes } = await addTotp(app, alice)
  const [a, b] = await Promise.all([passwordStepDone(app), passwordStepDone(app)])
  const both = await Promise.all([sendCode(a!, recoveryCodes[3]!), sendCode(b!, recoveryCodes[3]!)])
  t.same(both.map((r) => r.statusCode).sort(), [303, 401])
  const c = await passwordStepDone(app)
  t.equal((await sendCode(c, recoveryCodes[3]!)).statusCode, 401, 'and later')
  t.equal(await app.storage.factors.recoveryCodesLeft(alice.id), 9)
})

t.test('Q2: the password step alone gets no code and no token', async (t) => {
  const app = await build(t)
  const { alice, webAuth } = await browserFixtures(app, { skipConsent: true })
  await addTotp(app, alice)
  const { url } = webRequest()
  const step = await passwordStepDone(app, url)

  const silent = await step.browser.get(webRequest({ prompt: 'none' }).url)
  t.equal(silent.statusCode, 303)
  const error = callbackParams(silent).get('error')
  t.ok(error === 'login_required' || error === 'interaction_required', `prompt=none: ${String(error)}`)
  t.notOk(callbackParams(silent).get('code'), 'no code')

  const again = await step.browser.get(url)
  t.equal(again.statusCode, 200)
  t.match(again.body, /name="password"/, '/authorize asks for the password again: nobody is signed in')

  const consent = await step.browser.post('/consent', { decision: 'allow', csrf: step.csrf, return_to: step.returnTo! })
  t.equal(consent.statusCode, 303)
  t.match(consent.headers.location, /^\/authorize\?/, 'a direct POST to /consent: back to the request, no code')
  t.notMatch(String(consent.headers.location), /code=/)

  const token = await exchange(app, { code: 'none-was-issued', code_verifier: 'x'.repeat(43) }, webAuth)
  t.equal(token.statusCode, 400)
  t.equal(token.json().error, 'invalid_grant')
  t.same(await app.storage.sessions.listForUser(alice.id, app.clock.now()), [], 'no session anywhere')
  t.notOk(step.browser.cookies.has('gatehouse-session'))
})

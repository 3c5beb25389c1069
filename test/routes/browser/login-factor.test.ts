import t from 'tap'
import { build, manualClock } from '../../support/helper.js'
import { InjectBrowser, PASSWORD, authorizeThrough, browserFixtures, callbackParams, exchange, field, signInAt, webRequest } from '../../support/browser.js'
import { addTotp, codeNow } from '../../support/factors.js'
import { cookieNames } from '../../../lib/browser/cookies.js'
import { ISSUER } from '../../support/helper.js'
import { updateUser } from '../../../lib/admin/users.js'

// The second factor after the password, and the step-up of a session (routes/browser/login-factor.ts,
// second-factor.ts). Attack cases: test/security/q-second-factors.test.ts. In Chromium: test/e2e/second-factor.test.ts.

const names = cookieNames(ISSUER)
const sessionsOf = async (app: Awaited<ReturnType<typeof build>>, userId: string) => app.storage.sessions.listForUser(userId, app.clock.now())

t.test('a right password for a user with an app: no session, a password step, then the code signs in (amr pwd, otp, mfa)', async (t) => {
  const clock = manualClock()
  const app = await build(t, {}, { clock })
  const { alice, webAuth } = await browserFixtures(app, { skipConsent: true })
  const { secret } = await addTotp(app, alice)
  const browser = new InjectBrowser(app)
  const { url, verifier } = webRequest()

  const posted = await signInAt(browser, url)
  t.equal(posted.statusCode, 303)
  t.match(posted.headers.location, /^\/login\/factor\?return_to=%2Fauthorize%3F/, 'on to the second factor, keeping the request')
  t.notOk(browser.cookies.has(names.session), 'no session cookie')
  t.ok(browser.cookies.has(names.step), 'a password step cookie')
  t.same(await sessionsOf(app, alice.id), [], 'no session stored')
  t.match((await browser.get(url)).body, /name="password"/, '/authorize sees nobody signed in')

  const page = await browser.get(posted.headers.location as string)
  t.equal(page.statusCode, 200)
  t.match(page.body, /<input type="text" id="code" name="code" autocomplete="one-time-code"/)
  t.match(page.body, /Your password was right, <strong>alice<\/strong>/)
  t.match(page.headers['content-security-policy'], /form-action 'self' https:\/\/app\.test/, 'the right code 303s on to the client: allowed')

  const wrong = await browser.post('/login/factor', { code: '000000', csrf: field(page.body, 'csrf'), return_to: field(page.body, 'return_to') })
  t.equal(wrong.statusCode, 401)
  t.match(wrong.body, /That code is not right/)
  t.same(await sessionsOf(app, alice.id), [], 'still no session')

  const right = await browser.post('/login/factor', { code: codeNow(app, secret), csrf: field(page.body, 'csrf'), return_to: field(page.body, 'return_to') })
  t.equal(right.statusCode, 303, right.body)
  const code = callbackParams(right).get('code')
  t.ok(code, 'straight on to the client with a code')
  t.notOk(browser.cookies.has(names.step), 'the password step is forgotten')
  const [session] = await sessionsOf(app, alice.id)
  t.same(session?.amr, ['pwd', 'otp', 'mfa'])
  const tokens = await exchange(app, { code: code as string, code_verifier: verifier }, webAuth)
  t.equal(tokens.statusCode, 200, 'the code redeems')
})

t.test('from the bare login page: back to the signed-in page; a recovery code works once', async (t) => {
  const app = await build(t)
  const { alice } = await browserFixtures(app)
  const { recoveryCodes } = await addTotp(app, alice)
  const browser = new InjectBrowser(app)
  let page = await browser.get('/login')
  const posted = await browser.post('/login', { username: 'alice', password: PASSWORD, csrf: field(page.body, 'csrf') })
  t.equal(posted.headers.location, '/login/factor')
  page = await browser.get('/login/factor')
  const used = await browser.post('/login/factor', { code: recoveryCodes[0]!.toUpperCase().replace('-', ' '), csrf: field(page.body, 'csrf') })
  t.equal(used.statusCode, 303)
  t.equal(used.headers.location, '/login')
  t.match((await browser.get('/login')).body, /You are signed in/)
  t.equal(await app.storage.factors.recoveryCodesLeft(alice.id), 9)

  const other = new InjectBrowser(app)
  page = await other.get('/login')
  await other.post('/login', { username: 'alice', password: PASSWORD, csrf: field(page.body, 'csrf') })
  page = await other.get('/login/factor')
  const again = await other.post('/login/factor', { code: recoveryCodes[0]!, csrf: field(page.body, 'csrf') })
  t.equal(again.statusCode, 401, 'the same recovery code again: refused')
})

t.test('the password step lasts 5 minutes, and ends with a password change', async (t) => {
  const clock = manualClock()
  const app = await build(t, {}, { clock })
  const { alice } = await browserFixtures(app)
  const { secret } = await addTotp(app, alice)
  const browser = new InjectBrowser(app)
  const page = await browser.get('/login')
  await browser.post('/login', { username: 'alice', password: PASSWORD, csrf: field(page.body, 'csrf') })
  const csrf = field((await browser.get('/login/factor')).body, 'csrf')
  clock.advance(301)
  const late = await browser.post('/login/factor', { code: codeNow(app, secret), csrf })
  t.equal(late.statusCode, 303)
  t.equal(late.headers.location, '/login', 'expired: back to the password')
  t.same(await sessionsOf(app, alice.id), [])

  const again = await browser.get('/login')
  await browser.post('/login', { username: 'alice', password: PASSWORD, csrf: field(again.body, 'csrf') })
  t.equal((await browser.get('/login/factor')).statusCode, 200)
  await updateUser({ storage: app.storage, passwords: app.passwords, clock: app.clock, config: app.config }, 'alice', { password: 'a whole new password 42' })
  t.equal((await browser.get('/login/factor')).headers.location, '/login', 'a password changed since: the step is void')
})

t.test('step-up: a session that used a password only adds the factor, and gets a new session with both', async (t) => {
  const clock = manualClock()
  const app = await build(t, {}, { clock })
  const { alice } = await browserFixtures(app, { skipConsent: true })
  const browser = new InjectBrowser(app)
  await authorizeThrough(browser, webRequest().url)
  const before = browser.cookies.get(names.session)
  const [first] = await sessionsOf(app, alice.id)
  t.same(first?.amr, ['pwd'])
  const { secret } = await addTotp(app, alice)
  clock.advance(60)

  const { url } = webRequest()
  const returnTo = url
  const page = await browser.get(`/login/factor?return_to=${encodeURIComponent(returnTo)}`)
  t.equal(page.statusCode, 200)
  t.match(page.body, /needs a second factor on top of how you signed in/)
  t.notMatch(page.body, /name="password"/, 'no password asked')
  const done = await browser.post('/login/factor', { code: codeNow(app, secret), csrf: field(page.body, 'csrf'), return_to: field(page.body, 'return_to') })
  t.equal(done.statusCode, 303)
  t.ok(callbackParams(done).get('code'), 'on to the client')
  t.not(browser.cookies.get(names.session), before, 'a new session cookie')
  const sessions = await sessionsOf(app, alice.id)
  t.equal(sessions.length, 1, 'the old session ended')
  t.same(sessions[0]?.amr, ['pwd', 'otp', 'mfa'])
  t.equal(sessions[0]?.authTime, clock.now(), 'auth_time now')

  const twice = await browser.get(`/login/factor?return_to=${encodeURIComponent(returnTo)}`)
  t.equal(twice.statusCode, 303, 'two factors already: straight on')
  t.equal(twice.headers.location, returnTo)
})

t.test('step-up of a user with no factor: to enrolment; nobody signed in: to the login page', async (t) => {
  const app = await build(t)
  await browserFixtures(app, { skipConsent: true })
  t.equal((await app.inject('/login/factor')).headers.location, '/login')
  const browser = new InjectBrowser(app)
  await authorizeThrough(browser, webRequest().url)
  const res = await browser.get('/login/factor?return_to=/account')
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, '/login/enroll?return_to=%2Faccount')
})

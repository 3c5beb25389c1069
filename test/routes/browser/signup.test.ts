import t, { type Test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { ISSUER, build, manualClock, sharedDatabaseUrl } from '../../support/helper.js'
import { InjectBrowser, REDIRECT, browserFixtures, callbackParams, exchange, field, webRequest } from '../../support/browser.js'
import { startSmtp, type TestSmtp } from '../../support/smtp.js'
import { checkSignupForm, requestSignup } from '../../../lib/accounts/signup.js'
import { enqueue } from '../../../lib/ops/outbox.js'
import { openStorage } from '../../../lib/stores/index.js'
import { SIGNUP_REQUEST_KIND } from '../../../plugins/account-requests.js'

// Self-service sign-up through the pages (app.inject), mail read at a real SMTP server. The rules alone:
// test/lib/accounts/signup.test.ts; Chromium end to end: test/e2e/signup.test.ts; U1/U4/U5: test/security/u-signup.test.ts.

const NEW = { username: 'dora', email: 'dora@example.test', password: 'a long enough passphrase', full_name: 'Dora Explorer' }

async function setUp (t: Test, env: Record<string, string> = { SIGNUP: 'open' }) {
  const smtp = await startSmtp(t)
  const clock = manualClock()
  const app = await build(t, { SMTP_URL: smtp.url, MAIL_POLL_MS: '60000', ...env }, { clock })
  const fixtures = await browserFixtures(app, { skipConsent: true })
  return { app, smtp, clock, ...fixtures }
}

/** The sign-up form in `browser` (its CSRF cookie set), then its post; `returnTo` as the login page passes it. */
async function signUp (browser: InjectBrowser, fields: Record<string, string>, returnTo?: string): Promise<LightMyRequestResponse> {
  const page = await browser.get(returnTo === undefined ? '/signup' : `/signup?return_to=${encodeURIComponent(returnTo)}`)
  if (page.statusCode !== 200) throw new Error(`sign-up page: ${page.statusCode}`)
  const hidden: Record<string, string> = returnTo === undefined ? {} : { return_to: field(page.body, 'return_to') }
  return browser.post('/signup', { ...fields, ...hidden, csrf: field(page.body, 'csrf') })
}

/**
 * Answers the queued sign-ups (plugins/account-requests.ts: after the reply, so a test waits for it) and sends
 * the messages they queued, now.
 */
async function drain (app: FastifyInstance) {
  await app.accountRequests.run()
  await app.mail.run()
}

/** Runs the senders, waits for `n` messages in all; the last one. */
async function lastMessage (app: FastifyInstance, smtp: TestSmtp, n: number) {
  await drain(app)
  const messages = await smtp.waitFor(n)
  return messages.at(-1)!
}

function linkIn (text: string | undefined): string {
  const link = new RegExp(`${ISSUER}/verify-email\\?token=[A-Za-z0-9_-]{43}(?=\\s)`).exec(text ?? '')?.[0]
  if (link === undefined) throw new Error(`no link in ${text}`)
  return link.slice(ISSUER.length)
}

const pendingSignups = (app: FastifyInstance) => app.storage.accountLinks.countPending('signup', app.clock.now())

t.test('SIGNUP=off (the default): no link on the login page; GET and POST /signup are a 404 page', async (t) => {
  const { app, smtp } = await setUp(t, {})
  const browser = new InjectBrowser(app)
  const login = await browser.get(webRequest().url)
  t.equal(login.statusCode, 200)
  t.notMatch(login.body, '/signup')
  const page = await browser.get('/signup')
  t.equal(page.statusCode, 404)
  t.match(page.headers['content-type'], /text\/html/)
  t.match(page.body, 'sign-up is not open')
  const post = await browser.post('/signup', { ...NEW, csrf: field(login.body, 'csrf') })
  t.equal(post.statusCode, 404)
  t.match(post.body, 'sign-up is not open')
  await drain(app)
  t.equal(smtp.messages.length, 0)
  t.equal(await pendingSignups(app), 0)
})

t.test('SIGNUP=open: the login page links to /signup keeping return_to; the form has labelled inputs with autocomplete', async (t) => {
  const { app } = await setUp(t)
  const browser = new InjectBrowser(app)
  const { url } = webRequest()
  const login = await browser.get(url)
  const href = /<a href="([^"]*)">Create an account<\/a>/.exec(login.body)?.[1]?.replace(/&amp;/g, '&')
  t.equal(href, `/signup?return_to=${encodeURIComponent(url)}`)
  const page = await browser.get(href!)
  t.equal(page.statusCode, 200)
  t.equal(field(page.body, 'return_to'), url)
  t.ok(field(page.body, 'csrf'))
  for (const [name, autocomplete, type] of [['username', 'username', 'text'], ['email', 'email', 'email'], ['full_name', 'name', 'text'], ['password', 'new-password', 'password']]) {
    t.match(page.body, new RegExp(`<label for="${name}">`), `a label for ${name}`)
    t.match(page.body, new RegExp(`<input type="${type}" id="${name}" name="${name}" autocomplete="${autocomplete}"`), `${name}: autocomplete ${autocomplete}`)
  }
  t.match(page.body, 'name="viewport" content="width=device-width')
  const stray = await browser.get('/signup?return_to=https%3A%2F%2Fevil.test%2F')
  t.notMatch(stray.body, 'evil.test', 'a return_to that is not /authorize is dropped')
})

t.test('bad forms: the form again (400) with a message, nothing stored or sent', async (t) => {
  const { app, smtp } = await setUp(t)
  const browser = new InjectBrowser(app)
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ ...NEW, username: 'alice' }, /The username alice is taken/],
    [{ ...NEW, username: 'Alice' }, /The username alice is taken/],
    [{ ...NEW, password: 'short' }, /at least 8 characters/],
    [{ ...NEW, password: 'password123' }, /too common/],
    [{ ...NEW, password: 'dora@example.test' }, /not your username or e-mail/],
    [{ ...NEW, email: 'not an address' }, /Enter one e-mail address/],
    [{ ...NEW, username: 'no spaces please' }, /Choose a username/],
    [{ ...NEW, password: 'x'.repeat(1025) }, /at most 1024/]
  ]
  for (const [fields, message] of cases) {
    const res = await signUp(browser, fields)
    t.equal(res.statusCode, 400, JSON.stringify(fields).slice(0, 80))
    t.match(res.body, message)
    t.match(res.body, '<form method="post" action="/signup"')
    if (fields.password !== fields.email) t.notMatch(res.body, fields.password!, 'the password is never put back into the page')
  }
  await drain(app)
  t.equal(smtp.messages.length, 0)
  t.equal(await pendingSignups(app), 0)
  t.equal(await app.storage.users.findByUsername('dora'), undefined)
  const typed = await signUp(browser, { ...NEW, username: 'alice' })
  t.match(typed.body, 'value="dora@example.test"', 'what was typed stays in the form')
})

t.test('a new and a taken e-mail: the same page and status; a link or an account-exists note, one message each', async (t) => {
  const { app, smtp } = await setUp(t)
  const browser = new InjectBrowser(app)
  const fresh = await signUp(browser, NEW)
  const taken = await signUp(browser, { ...NEW, username: 'dora2', email: 'alice@example.test' })
  t.equal(fresh.statusCode, 200)
  t.equal(taken.statusCode, 200)
  t.match(fresh.body, 'Check your e-mail')
  // The page names the address typed, and carries a per-reply style nonce: nothing else may differ.
  const normal = (body: string, email: string) => body.replaceAll(email, 'EMAIL').replace(/nonce="[^"]*"/g, 'nonce=""')
  t.equal(normal(fresh.body, NEW.email), normal(taken.body, 'alice@example.test'), 'identical pages')
  t.same(Object.keys(fresh.headers).sort(), Object.keys(taken.headers).sort(), 'the same headers')
  t.equal(fresh.headers['set-cookie'], taken.headers['set-cookie'])

  await drain(app)
  const to = (address: string) => (m: { to?: unknown }) => m.to !== undefined && typeof m.to === 'object' && m.to !== null && 'text' in m.to && m.to.text === address
  // Answered after the replies, side by side: in whichever order.
  const messages = await smtp.waitFor(2)
  const signup = messages.find(to(NEW.email))
  const exists = messages.find(to('alice@example.test'))
  t.equal(smtp.messages.length, 2, 'exactly one message each')
  t.equal(signup!.to && 'text' in signup!.to ? signup!.to.text : '', NEW.email)
  t.equal(signup!.subject, 'Confirm your e-mail to finish creating your account at Gatehouse')
  t.ok(linkIn(signup!.text), 'the whole link in the text part')
  t.match(signup!.html, `${ISSUER}/verify-email?token=`)
  t.equal(exists!.to && 'text' in exists!.to ? exists!.to.text : '', 'alice@example.test')
  t.match(exists!.subject, 'You already have an account')
  t.match(exists!.text, `${ISSUER}/forgot-password`)
  t.notMatch(exists!.text, 'verify-email')
  t.equal(await pendingSignups(app), 1, 'a link for the new address only')
  t.equal(await app.storage.users.findByUsername('dora'), undefined, 'no account yet')
})

t.test('the link: GET shows a button and makes nothing; the button makes the account (verified), signs in and continues /authorize', async (t) => {
  const { app, smtp, webAuth } = await setUp(t)
  const browser = new InjectBrowser(app)
  const req = webRequest({ scope: 'openid email', claims: JSON.stringify({ id_token: { email_verified: null, email: null } }) })
  await browser.get(req.url)
  t.equal((await signUp(browser, NEW, req.url)).statusCode, 200)
  const link = linkIn((await lastMessage(app, smtp, 1)).text)

  const scanned = await new InjectBrowser(app).get(link)
  t.equal(scanned.statusCode, 200, 'a mail scanner fetching the link')
  t.equal(await app.storage.users.findByUsername('dora'), undefined, 'GET never makes the account')
  const page = await browser.get(link)
  t.match(page.body, 'Finish creating your account dora')
  t.match(page.body, '<form method="post" action="/verify-email"')
  t.equal(field(page.body, 'token'), link.split('token=')[1])
  t.match(page.headers['content-security-policy'], /form-action [^;]*https:\/\/app\.test/, 'its form may end up at the client (a 303 there)')

  const noCsrf = await browser.post('/verify-email', { token: field(page.body, 'token') })
  t.equal(noCsrf.statusCode, 403, 'the button is CSRF-checked')
  const done = await browser.post('/verify-email', { token: field(page.body, 'token'), csrf: field(page.body, 'csrf') })
  t.equal(done.statusCode, 303)
  t.ok(done.headers.location?.startsWith(`${REDIRECT}?`), 'on to the client')
  const params = callbackParams(done)
  t.equal(params.get('state'), 'st-1')
  const user = await app.storage.users.findByUsername('dora')
  t.match(user, { email: NEW.email, emailVerified: true, fullName: 'Dora Explorer', scope: '' })
  const tokens = (await exchange(app, { code: params.get('code')!, code_verifier: req.verifier }, webAuth)).json() as { id_token: string }
  const idToken = JSON.parse(Buffer.from(tokens.id_token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>
  t.match(idToken, { sub: user!.id, email: NEW.email, email_verified: true })

  const signedIn = await browser.get('/login')
  t.match(signedIn.body, 'dora', 'the browser is signed in as dora')
  const again = await browser.post('/verify-email', { token: field(page.body, 'token'), csrf: field(signedIn.body, 'csrf') })
  t.equal(again.statusCode, 400, 'a link works once')
  t.match(again.body, 'This link does not work')
  t.equal((await browser.get(link)).statusCode, 400, 'and its GET is the error page too')
})

t.test('the link in another browser: the stored request continues; a username taken meanwhile: an error page, nothing made', async (t) => {
  const { app, smtp } = await setUp(t)
  const req = webRequest()
  await signUp(new InjectBrowser(app), NEW, req.url)
  await signUp(new InjectBrowser(app), { ...NEW, username: 'dora3', email: 'dora3@example.test' })
  const [first, second] = [linkIn((await lastMessage(app, smtp, 2)).text), linkIn(smtp.messages[0]!.text)].reverse()
  const other = new InjectBrowser(app)
  const page = await other.get(first!)
  const done = await other.post('/verify-email', { token: field(page.body, 'token'), csrf: field(page.body, 'csrf') })
  t.equal(done.statusCode, 303)
  t.ok(done.headers.location?.startsWith(`${REDIRECT}?`))

  await app.storage.users.create({ username: 'dora3', passwordHash: null })
  const late = new InjectBrowser(app)
  const latePage = await late.get(second!)
  const taken = await late.post('/verify-email', { token: field(latePage.body, 'token'), csrf: field(latePage.body, 'csrf') })
  t.equal(taken.statusCode, 409)
  t.match(taken.body, 'That username was taken meanwhile')
  t.equal((await app.storage.users.findByUsername('dora3'))!.email, null, 'nothing changed')
  t.equal((await late.get(second!)).statusCode, 400, 'the link is used up')
})

t.test('limits: 5 messages an hour per e-mail, 20 sign-ups per address: beyond, 429 and nothing more sent', async (t) => {
  const { app, smtp } = await setUp(t)
  const browser = new InjectBrowser(app)
  for (let i = 0; i < 5; i++) t.equal((await signUp(browser, { ...NEW, username: `dora${i}` })).statusCode, 200)
  const over = await signUp(browser, { ...NEW, username: 'dora9' })
  t.equal(over.statusCode, 429)
  t.match(over.body, 'try again later')
  t.ok(Number(over.headers['retry-after']) > 0)
  const overTaken = await signUp(browser, { ...NEW, username: 'dora9', email: 'ALICE@example.test' })
  t.equal(overTaken.statusCode, 200, 'another e-mail still goes')
  for (let i = 0; i < 5; i++) await signUp(browser, { ...NEW, username: `alice${i}`, email: 'alice@example.test' })
  const overExisting = await signUp(browser, { ...NEW, username: 'dora9', email: 'alice@example.test' })
  t.equal(overExisting.statusCode, 429, 'a taken e-mail is limited alike')
  await drain(app)
  await smtp.waitFor(10)
  t.equal(smtp.messages.length, 10, '5 to each address, no more')
  t.equal(await pendingSignups(app), 5)

  const { app: app2, smtp: smtp2 } = await setUp(t)
  const b2 = new InjectBrowser(app2)
  for (let i = 0; i < 20; i++) t.equal((await signUp(b2, { ...NEW, username: `u${i}`, email: `u${i}@example.test` })).statusCode, 200)
  const overAddress = await signUp(b2, { ...NEW, username: 'u20', email: 'u20@example.test' })
  t.equal(overAddress.statusCode, 429, 'the 21st from one address in 15 minutes')
  await drain(app2)
  await smtp2.waitFor(20)
  t.equal(smtp2.messages.length, 20)
  t.equal(await pendingSignups(app2), 20)
})

t.test('a sign-up stored by a process that stopped before answering it: the next server on the database answers it on start', async (t) => {
  const DATABASE_URL = await sharedDatabaseUrl(t)
  // What POST /signup leaves when its process ends right after the reply: one outbox row, no link, no message.
  const storage = await openStorage(DATABASE_URL)
  const check = checkSignupForm({ username: NEW.username, email: NEW.email, password: NEW.password, fullName: NEW.full_name, returnTo: undefined })
  if (!check.ok) throw new Error(check.message)
  const now = Math.floor(Date.now() / 1000)
  await requestSignup({ storage, passwords: { hash: async () => '$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g' }, queue: async (signup) => { await enqueue(storage.outbox, SIGNUP_REQUEST_KIND, signup, now) } }, check.request, now)
  t.equal(await storage.outbox.pending(SIGNUP_REQUEST_KIND), 1, 'queued')
  t.equal(await storage.accountLinks.countPending('signup', now), 0, 'no link yet')
  await storage.close()

  const smtp = await startSmtp(t)
  const app = await build(t, { DATABASE_URL, SIGNUP: 'open', SMTP_URL: smtp.url, MAIL_POLL_MS: '60000' })
  // No run() here: the server's first round, at start, answers it; the message it queues is sent at once.
  const [message] = await smtp.waitFor(1)
  t.equal(message!.subject, 'Confirm your e-mail to finish creating your account at Gatehouse')
  const page = await new InjectBrowser(app).get(linkIn(message!.text))
  t.match(page.body, 'Finish creating your account dora')
  t.equal(await app.storage.outbox.pending(SIGNUP_REQUEST_KIND), 0, 'answered once')
})

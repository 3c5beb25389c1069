import t, { type Test } from 'tap'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { FORM, ISSUER, build, form } from '../support/helper.js'
import { InjectBrowser, field } from '../support/browser.js'
import { startSmtp } from '../support/smtp.js'
import { comparePaired, measure, turn, type Took } from '../support/timing.js'
import { ADDRESS_ACTIONS, EMAIL_MESSAGES } from '../../lib/accounts/limits.js'

// SECURITY-CASES U1, U4 and U5, the sign-up part (the forgotten-password part has its own file). Messages are
// counted at a real SMTP server (U1: as files, see there); every request carries a real CSRF token and cookie.

const PASSWORD = 'a long enough passphrase'
/** Users with a taken e-mail, one per taken try of U1 (its rounds at most), and taken usernames. */
const TAKEN_USERS = 320

/** The app, with messages sent to a real SMTP server, or written as .eml files into `mailDir`. */
async function setUp (t: Test, mailDir?: string) {
  const smtp = await startSmtp(t)
  const app = await build(t, { SIGNUP: 'open', MAIL_POLL_MS: '60000', ...(mailDir === undefined ? { SMTP_URL: smtp.url } : { MAIL_DIR: mailDir }) })
  const browser = new InjectBrowser(app)
  const page = await browser.get('/signup')
  const csrf = field(page.body, 'csrf')
  /** POST /signup as this browser, from `ip`. */
  const post = (fields: Record<string, string>, ip = '10.0.0.1', headers: Record<string, string> = {}) => app.inject({
    method: 'POST', url: '/signup', remoteAddress: ip, headers: { ...FORM, cookie: browser.cookieHeader, ...headers }, payload: form({ password: PASSWORD, csrf, ...fields })
  })
  /**
   * Answers every queued sign-up (plugins/account-requests.ts: after the reply, each round a batch), sends every
   * message they queued, then counts them (at the SMTP server, or the files).
   */
  const delivered = async () => {
    while (await app.accountRequests.run() > 0);
    while ((await app.mail.run()).length > 0);
    // mail.send's nudge (a setImmediate) can still be queued: let its round start, and wait for it here, or it runs
    // (finding nothing) inside the next timed request.
    await turn()
    while ((await app.mail.run()).length > 0);
    return mailDir === undefined ? smtp.messages.length : readdirSync(mailDir).length
  }
  return { app, smtp, browser, post, delivered }
}

/** The parts of a reply an observer compares: status, headers that do not change per reply, the page without its nonce and the address typed. */
function observed (res: LightMyRequestResponse, email: string) {
  // content-length follows the address typed (shown on the page); the body is compared without it.
  const { date, 'x-request-id': _id, 'content-length': _length, 'content-security-policy': csp, ...headers } = res.headers
  return {
    status: res.statusCode,
    headers,
    csp: String(csp).replace(/'nonce-[^']*'/g, "'nonce'"),
    body: res.body.replaceAll(email, 'EMAIL').replace(/nonce="[^"]*"/g, 'nonce=""')
  }
}

async function addTakenUsers (app: FastifyInstance, n: number) {
  for (let i = 0; i < n; i++) await app.storage.users.create({ username: `taken${i}`, passwordHash: null, email: `taken${i}@example.test`, emailVerified: true })
}

t.test('U1: sign-up with a taken and a new e-mail: the same page, status and headers; medians within 10 %', async (t) => {
  // Messages written as files, not sent over SMTP: the test server's parsing of a message, and the connection's
  // closing, would still be running in this process when the next try starts, and land in one side's timings.
  const mailDir = mkdtempSync(join(tmpdir(), 'gatehouse-u1-signup-'))
  t.teardown(() => rmSync(mailDir, { recursive: true, force: true }))
  const { app, post, delivered } = await setUp(t, mailDir)
  // A taken e-mail of its own for every taken try, as every new try has one (a prober tries each address once).
  await addTakenUsers(app, TAKEN_USERS)
  let n = 0
  let takenTries = 0
  // Each try from an address of its own, with a username and an e-mail of its own: no limit answers.
  const timed = async (taken: boolean): Promise<Took & { res: LightMyRequestResponse, email: string }> => {
    n++
    const email = taken ? `taken${takenTries++}@example.test` : `new${n}@example.test`
    // Each try starts on a quiet process: the message the last one queued is delivered first, outside the timing.
    await delivered()
    const { result: res, wall, cpu } = await measure(() => post({ username: `user${n}`, email }, `10.1.${n >> 8}.${n & 255}`))
    if (res.statusCode !== 200) throw new Error(`unexpected ${res.statusCode}: ${res.body.slice(0, 300)}`)
    return { wall, cpu, res, email }
  }
  const first = { taken: await timed(true), fresh: await timed(false) }
  t.same(observed(first.taken.res, first.taken.email), observed(first.fresh.res, first.fresh.email), 'identical answers')
  t.notMatch(observed(first.taken.res, first.taken.email).body, /already|exists|taken/i, 'nothing on the page hints at an account')

  // Inside the request both branches do the same work (a hash, one outbox row); the link or the note is made after
  // the reply (plugins/account-requests.ts), and the try after waits for it, outside its timing. Judged on paired
  // tries (test/support/timing.ts: on a busy machine two plain medians were seen 24 % apart, either way round).
  const took = async (taken: boolean): Promise<Took> => { const { wall, cpu } = await timed(taken); return { wall, cpu } }
  const timing = await comparePaired({ a: () => took(true), b: () => took(false), pairs: 100, warmUp: 5, within: 0.10 })
  t.ok(timing.estimates.wall.gap < 0.10, `wall clock within 10 %: ${timing.describe('wall', ['taken', 'new'])}`)
  t.ok(timing.estimates.cpu.gap < 0.10, `CPU time within 10 %: ${timing.describe('cpu', ['taken', 'new'])}`)

  t.equal(await delivered(), n, 'one message for every try, either way')
  const subjects = readdirSync(mailDir).map((file) => /^Subject: (.*)$/m.exec(readFileSync(join(mailDir, file), 'utf8'))?.[1] ?? '')
  t.equal(subjects.filter((subject) => /already have an account/.test(subject)).length, takenTries, 'the taken ones got the note')

  // The measurement can see a leak of the kind it guards against: an answer that skips the hash and the queued row
  // for some addresses. The form does that for a taken username (allowed: usernames are public), so a taken and a
  // free username stand for a taken and a new e-mail answered early.
  const usernameTaken = async (): Promise<Took> => {
    n++
    await delivered()
    const { result: res, wall, cpu } = await measure(() => post({ username: `taken${n % TAKEN_USERS}`, email: `early${n}@example.test` }, `10.1.${n >> 8}.${n & 255}`))
    if (res.statusCode !== 400) throw new Error(`unexpected ${res.statusCode}: ${res.body.slice(0, 300)}`)
    return { wall, cpu }
  }
  const early = await comparePaired({ a: () => took(false), b: usernameTaken, pairs: 40, within: 0.10, maxRounds: 1 })
  // Outside the bound in either measure fails the judgement above.
  const shows = (key: 'wall' | 'cpu') => early.estimates[key].gap >= 0.10 && early.estimates[key].paired > 0
  t.ok(shows('wall') || shows('cpu'), `an early answer would show: wall clock ${early.describe('wall', ['hashed', 'early'])}; CPU time ${early.describe('cpu', ['hashed', 'early'])}`)
})

t.test('U4: 100 sign-ups for one e-mail, and 100 e-mails from one address, at once: at most the limits\' messages, the rest 429, no 5xx', async (t) => {
  const { app, smtp, post, delivered } = await setUp(t)
  await addTakenUsers(app, 1)
  const started = Date.now()
  const oneEmail = await Promise.all(Array.from({ length: 100 }, (_, i) => post({ username: `one${i}`, email: 'victim@example.test' }, `10.2.0.${i}`)))
  const oneTaken = await Promise.all(Array.from({ length: 100 }, (_, i) => post({ username: `two${i}`, email: 'taken0@example.test' }, `10.3.0.${i}`)))
  const oneAddress = await Promise.all(Array.from({ length: 100 }, (_, i) => post({ username: `three${i}`, email: `e${i}@example.test` }, '10.4.0.1')))
  t.ok(Date.now() - started < 10_000, 'within 10 s')
  const statuses = (replies: LightMyRequestResponse[]) => replies.reduce<Record<number, number>>((acc, r) => ({ ...acc, [r.statusCode]: (acc[r.statusCode] ?? 0) + 1 }), {})
  t.same(statuses(oneEmail), { 200: EMAIL_MESSAGES.max, 429: 100 - EMAIL_MESSAGES.max }, 'one e-mail: 5 go, the rest told to try later')
  t.same(statuses(oneTaken), { 200: EMAIL_MESSAGES.max, 429: 100 - EMAIL_MESSAGES.max }, 'one taken e-mail: the same')
  t.same(statuses(oneAddress), { 200: ADDRESS_ACTIONS.max, 429: 100 - ADDRESS_ACTIONS.max }, 'one address: 20 go')
  for (const res of [...oneEmail, ...oneTaken, ...oneAddress].filter((r) => r.statusCode === 429)) {
    t.match(res.body, 'try again later')
    t.ok(Number(res.headers['retry-after']) > 0)
  }
  t.equal(await delivered(), 2 * EMAIL_MESSAGES.max + ADDRESS_ACTIONS.max, 'the limits\' messages, no more, at the SMTP server')
  t.equal(smtp.messages.filter((m) => m.to && 'text' in m.to && m.to.text === 'victim@example.test').length, EMAIL_MESSAGES.max)
  t.equal(await app.storage.accountLinks.countPending('signup', app.clock.now()), EMAIL_MESSAGES.max + ADDRESS_ACTIONS.max)
})

t.test('U5: Host and X-Forwarded-Host: evil on /signup: the link uses ISSUER; a return_to of https://evil is never followed', async (t) => {
  const { smtp, post, browser, delivered } = await setUp(t)
  const evil = 'evil.example'
  const res = await post({ username: 'dora', email: 'dora@example.test', return_to: `https://${evil}/` }, '10.5.0.1', { host: evil, 'x-forwarded-host': evil, 'x-forwarded-proto': 'https' })
  t.equal(res.statusCode, 200)
  await delivered()
  const [message] = await smtp.waitFor(1)
  t.notMatch(`${message!.text}${message!.html}`, evil, 'nothing of the request\'s host in the message')
  const link = new RegExp(`${ISSUER}/verify-email\\?token=[A-Za-z0-9_-]{43}`).exec(message!.text ?? '')?.[0]
  t.ok(link, 'the link is built from ISSUER')

  const form = await browser.get(`/signup?return_to=${encodeURIComponent(`https://${evil}/`)}`)
  t.notMatch(form.body, evil, 'the form does not carry it')
  for (const returnTo of [`//${evil}/authorize?x=1`, `/authorize/../\\${evil}`, `https://${evil}/authorize?x=1`]) {
    t.notMatch((await browser.get(`/signup?return_to=${encodeURIComponent(returnTo)}`)).body, evil, returnTo)
  }
  const page = await browser.get(link!.slice(ISSUER.length), { host: evil })
  t.notMatch(String(page.headers['content-security-policy']), evil)
  const done = await browser.post('/verify-email', { token: field(page.body, 'token'), csrf: field(page.body, 'csrf') }, { host: evil })
  t.equal(done.statusCode, 303)
  t.equal(done.headers.location, '/login', 'the signed-in page of this server, not the return_to')
})

import t from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ADDRESS_ACTIONS, EMAIL_MESSAGES } from '../../lib/accounts/limits.js'
import { ISSUER, addUser, build, manualClock, post } from '../support/helper.js'
import { InjectBrowser, PASSWORD, authorizeThrough, browserFixtures, exchange, field, webRequest } from '../support/browser.js'
import { comparePaired, measure, turn, type Took } from '../support/timing.js'
import { forgotPassword, NEW_PASSWORD, resetPath, resetSetUp, resetThrough, signsIn, withoutNonce } from '../support/password-reset.js'

// SECURITY-CASES U1–U5, the forgotten-password part: /forgot-password and /reset-password against enumeration,
// replayed and forged links, sessions and tokens that outlive a reset, floods, and poisoned hosts and redirects.

/** U1's timing: pairs per round, rounds at most, pairs of warm-up. */
const PAIRS = 100
const ROUNDS = 3
const WARM_UP = 10

t.test('U1: /forgot-password for an existing and an unknown e-mail: identical page and status, medians within 10%', async (t) => {
  // Messages written as files (MAIL_DIR), not sent over SMTP: a connection's closing would still be running in this
  // process when the next try starts, and land in one side's timings or the other's.
  const mailDir = mkdtempSync(join(tmpdir(), 'gatehouse-u1-'))
  t.teardown(() => rmSync(mailDir, { recursive: true, force: true }))
  const clock = manualClock()
  const app = await build(t, { MAIL_DIR: mailDir, MAIL_POLL_MS: '60000' }, { clock })
  await browserFixtures(app)
  // An account of its own for every known try, as an unknown try has an address of its own: both then count a
  // fresh e-mail in the limits' counters (a prober tries each address once), and only whether an account uses it differs.
  const TRIES = 2 * (WARM_UP + ROUNDS * PAIRS)
  for (let i = 1; i <= TRIES; i++) await app.storage.users.create({ username: `known${i}`, passwordHash: null, email: `known-${i}@example.test` })
  let n = 0
  let knownTries = 0
  const pages = new Set<string>()
  const statuses = new Set<number>()
  // Each try from an address of its own, the clock an hour on (so neither limit answers: they are U4's), and the
  // queued work done before the next try (outside the timed part: it is not the answer's, which is what is measured).
  const timed = async (known: boolean): Promise<Record<'wall' | 'cpu' | 'inlineWall' | 'inlineCpu', number>> => {
    n++
    if (known) knownTries++
    clock.advance(EMAIL_MESSAGES.windowSeconds + 1)
    const browser = new InjectBrowser(app)
    const page = await browser.get('/forgot-password')
    const fields = { csrf: field(page.body, 'csrf'), email: known ? `known-${n}@example.test` : `ghost-${n}@example.test` }
    const remoteAddress = `10.201.${(n >> 8) & 255}.${n & 255}`
    let request: Took | undefined
    // What the answer would have cost had the lookup, the link and the message been made inside the request.
    const inline = await measure(async () => {
      request = await measure(() => app.inject({ method: 'POST', url: '/forgot-password', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: browser.cookieHeader }, payload: new URLSearchParams(fields).toString(), remoteAddress }))
      await app.passwordResets.run()
    })
    const { result: res, wall, cpu } = request as Took & { result: LightMyRequestResponse }
    await app.mail.run()
    // mail.send's nudge may still be queued: its round runs here, not inside the next try's request.
    await turn()
    await app.mail.run()
    statuses.add(res.statusCode)
    pages.add(withoutNonce(res.body))
    return { wall, cpu, inlineWall: inline.wall, inlineCpu: inline.cpu }
  }
  // Judged on paired tries (test/support/timing.ts); the inline measures are reported, not judged: they are the leak.
  const timing = await comparePaired({ a: () => timed(true), b: () => timed(false), pairs: PAIRS, warmUp: WARM_UP, within: 0.10, maxRounds: ROUNDS, judge: ['wall', 'cpu'] })
  t.same([...statuses], [200], 'every answer 200')
  t.equal(pages.size, 1, 'one page for both (but its nonce)')
  t.match([...pages][0], 'If an account uses this address, we sent it a link')
  t.ok(timing.estimates.wall.gap < 0.10, `wall clock within 10%: ${timing.describe('wall', ['known', 'unknown'], 3)}`)
  t.ok(timing.estimates.cpu.gap < 0.10, `CPU time within 10%: ${timing.describe('cpu', ['known', 'unknown'], 3)}`)
  t.equal(readdirSync(mailDir).length, knownTries, 'a message for every try with a known address, none for the others')
  // The measurement can see the leak it guards against: with the work inside the request, the known address is slower.
  // On a loaded machine the wall clock's median (what a gap is measured against) stretches; CPU time does not.
  const shows = (key: 'inlineWall' | 'inlineCpu') => timing.estimates[key].gap >= 0.10 && timing.estimates[key].paired > 0
  t.ok(shows('inlineWall') || shows('inlineCpu'), `the work done inline would show: wall clock ${timing.describe('inlineWall', ['known', 'unknown'], 3)}; CPU time ${timing.describe('inlineCpu', ['known', 'unknown'], 3)}`)
})

t.test('U2: a link used twice, after 30 min, the older of two, with a character changed, another user\'s: error page, password unchanged', async (t) => {
  const { app, clock, drain, linkOf } = await resetSetUp(t)
  await addUser(app, 'bob', PASSWORD, { email: 'bob@example.test' })
  const request = async (email: string) => { await forgotPassword(new InjectBrowser(app), email); await drain() }
  /** The link refused: the error page, and alice's password still `current`. */
  const refused = async (path: string, label: string, current = PASSWORD) => {
    const res = await resetThrough(new InjectBrowser(app), path, 'an attacker chose this one')
    t.equal(res.statusCode, 400, `${label}: 400`)
    t.match(res.headers['content-type'], /text\/html/, `${label}: an HTML page`)
    t.match(res.body, 'This link does not work', `${label}: the error page`)
    t.ok(await signsIn(app, 'alice', current), `${label}: password unchanged`)
  }

  await request('alice@example.test')
  const late = await linkOf(1)
  clock.advance(30 * 60)
  await refused(late, 'after 30 min')

  await request('alice@example.test')
  const older = await linkOf(2)
  await request('alice@example.test')
  const newer = await linkOf(3)
  await refused(older, 'the older of two')
  const token = newer.split('token=')[1]!
  for (let i = 0; i < token.length; i += 7) {
    const changed = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1)
    await refused(`/reset-password?token=${changed}`, `character ${i} changed`)
  }
  // The form's token, not any field naming a user, says whose password changes.
  await request('bob@example.test')
  const bobs = await linkOf(4)
  const browser = new InjectBrowser(app)
  const page = await browser.get(bobs)
  t.match(page.body, '<strong>bob</strong>', 'bob\'s link is bob\'s form')
  const res = await browser.post('/reset-password', { csrf: field(page.body, 'csrf'), token: field(page.body, 'token'), username: 'alice', user: 'alice', password: NEW_PASSWORD })
  t.equal(res.statusCode, 200)
  t.ok(await signsIn(app, 'alice', PASSWORD), 'alice\'s password unchanged by bob\'s token')
  t.ok(await signsIn(app, 'bob', NEW_PASSWORD), 'bob\'s changed')

  t.equal((await resetThrough(new InjectBrowser(app), newer, NEW_PASSWORD)).statusCode, 200, 'the newest link works')
  await refused(newer, 'used twice', NEW_PASSWORD)
})

t.test('U3: two devices\' sessions, a refresh token and an access token: a reset through the link ends and refuses them all at once', async (t) => {
  const { app, drain, linkOf, webAuth } = await resetSetUp(t)
  const device = async () => {
    const browser = new InjectBrowser(app)
    const req = webRequest({ scope: 'openid profile' })
    const tokens = (await exchange(app, { code: await authorizeThrough(browser, req.url), code_verifier: req.verifier }, webAuth)).json() as { access_token: string, refresh_token: string }
    return { browser, ...tokens }
  }
  const signedIn = async (browser: InjectBrowser) => (await browser.get('/login')).body.includes('You are signed in')
  const phone = await device()
  const laptop = await device()
  t.ok(await signedIn(phone.browser) && await signedIn(laptop.browser), 'both devices signed in')
  t.equal((await app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${phone.access_token}` } })).statusCode, 200)

  await forgotPassword(new InjectBrowser(app), 'alice@example.test')
  await drain()
  t.equal((await resetThrough(new InjectBrowser(app), await linkOf(1), NEW_PASSWORD)).statusCode, 200)

  for (const [name, d] of [['phone', phone], ['laptop', laptop]] as const) {
    t.notOk(await signedIn(d.browser), `${name}: the session ended`)
    const userinfo = await app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${d.access_token}` } })
    t.equal(userinfo.statusCode, 401, `${name}: the access token is refused at /userinfo`)
    const refresh = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: d.refresh_token }, { authorization: webAuth })
    t.equal(refresh.json().error, 'invalid_grant', `${name}: the refresh token is refused`)
  }
  t.equal((await app.inject({ url: '/users/me', headers: { authorization: `Bearer ${laptop.access_token}` } })).statusCode, 401)
})

t.test('U4: 100 requests for one e-mail, and for 100 e-mails from one address: at most the limits\' messages, the rest 429, no 5xx', async (t) => {
  const { app, smtp, drain } = await resetSetUp(t)
  const one = async (email: string, remoteAddress: string) => {
    const browser = new InjectBrowser(app)
    const page = await browser.get('/forgot-password')
    return app.inject({ method: 'POST', url: '/forgot-password', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: browser.cookieHeader }, payload: new URLSearchParams({ csrf: field(page.body, 'csrf'), email }).toString(), remoteAddress })
  }
  const statuses = (answers: Array<{ statusCode: number }>) => answers.reduce<Record<number, number>>((acc, r) => ({ ...acc, [r.statusCode]: (acc[r.statusCode] ?? 0) + 1 }), {})

  // One e-mail, each request from an address of its own: the per-e-mail limit answers.
  const forOne = await Promise.all(Array.from({ length: 100 }, (_, i) => one('alice@example.test', `10.202.0.${i + 1}`)))
  t.same(statuses(forOne), { 200: EMAIL_MESSAGES.max, 429: 100 - EMAIL_MESSAGES.max }, `${EMAIL_MESSAGES.max} accepted, the rest 429`)
  t.ok(forOne.filter((r) => r.statusCode === 429).every((r) => Number(r.headers['retry-after']) > 0 && r.body.includes('Try again later')), '429 says when, and to try later')
  await drain()
  await smtp.waitFor(EMAIL_MESSAGES.max)

  // 100 accounts' e-mails from one address: the per-address limit answers.
  for (let i = 0; i < 100; i++) await app.storage.users.create({ username: `user${i}`, passwordHash: null, email: `user${i}@example.test` })
  const fromOne = await Promise.all(Array.from({ length: 100 }, (_, i) => one(`user${i}@example.test`, '10.203.0.1')))
  t.same(statuses(fromOne), { 200: ADDRESS_ACTIONS.max, 429: 100 - ADDRESS_ACTIONS.max }, `${ADDRESS_ACTIONS.max} accepted, the rest 429`)
  await drain()
  await smtp.waitFor(EMAIL_MESSAGES.max + ADDRESS_ACTIONS.max)
  await drain()
  t.equal(smtp.messages.length, EMAIL_MESSAGES.max + ADDRESS_ACTIONS.max, 'the SMTP server counted only the limits\' messages')
})

t.test('U5: Host and X-Forwarded-Host: evil on /forgot-password: the link uses ISSUER; a return_to or next of https://evil is never followed', async (t) => {
  const { app, smtp, drain } = await resetSetUp(t)
  const evil = { host: 'evil.test', 'x-forwarded-host': 'evil.test', 'x-forwarded-proto': 'https', forwarded: 'host=evil.test' }
  const res = await forgotPassword(new InjectBrowser(app), 'alice@example.test', { headers: evil })
  t.equal(res.statusCode, 200)
  await drain()
  const [message] = await smtp.waitFor(1)
  t.notMatch(message!.text, 'evil', 'no evil host in the text part')
  t.notMatch(message!.html, 'evil', 'nor in the HTML part')
  const path = resetPath(ISSUER, message!)

  const browser = new InjectBrowser(app)
  for (const url of ['/login?return_to=https://evil.test/', '/login?next=https://evil.test/', '/forgot-password?return_to=https://evil.test/', '/forgot-password?next=https://evil.test/',
    `${path}&return_to=https://evil.test/`, `${path}&next=https://evil.test/`]) {
    const page = await browser.get(url)
    t.equal(page.statusCode, 200, url)
    t.notMatch(page.body, 'evil.test', `${url}: nothing of it on the page`)
  }
  const forgot = await browser.get('/forgot-password')
  const posted = await browser.post('/forgot-password', { csrf: field(forgot.body, 'csrf'), email: 'alice@example.test', return_to: 'https://evil.test/authorize?x', next: 'https://evil.test/' })
  t.equal(posted.statusCode, 200)
  t.notMatch(posted.body, 'evil.test')
  await drain()
  const latest = resetPath(ISSUER, (await smtp.waitFor(2))[1]!)
  const page = await browser.get(latest)
  const done = await browser.post(`/reset-password?return_to=${encodeURIComponent('https://evil.test/')}`, { csrf: field(page.body, 'csrf'), token: field(page.body, 'token'), password: NEW_PASSWORD, return_to: 'https://evil.test/', next: 'https://evil.test/' })
  t.equal(done.statusCode, 200, 'a page, not a redirect')
  t.equal(done.headers.location, undefined)
  t.notMatch(done.body, 'evil.test')
  t.match(done.body, '<a href="/login">Sign in</a>')
})

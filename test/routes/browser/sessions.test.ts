import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, manualClock } from '../../support/helper.js'
import {
  InjectBrowser, PASSWORD, browserFixtures, callbackParams, exchange, field, webRequest
} from '../../support/browser.js'
import { CODES_PER_SESSION, SESSIONS_PER_USER } from '../../../lib/limits/table-bounds.js'

// Browser sessions and what they may hold, on the server's side: the bounds on codes per session and sessions
// per user, expiry by the server's clock, and logout ending the session itself (not only the cookie). On SQLite
// here; test/postgres/ runs it again on PostgreSQL.

/** A sign-in on the bare login page (no authorization request): the browser ends up signed in. */
async function signIn (app: FastifyInstance): Promise<InjectBrowser> {
  const browser = new InjectBrowser(app)
  const page = await browser.get('/login')
  const res = await browser.post('/login', { username: 'alice', password: PASSWORD, csrf: field(page.body, 'csrf') })
  if (res.statusCode !== 303) throw new Error(`login: ${res.statusCode} ${res.body.slice(0, 200)}`)
  return browser
}

/** prompt=none for `web` in this browser: the code, or the error the client gets back. */
async function silently (browser: InjectBrowser): Promise<{ code?: string, error?: string, verifier: string }> {
  const request = webRequest({ prompt: 'none' })
  const back = callbackParams(await browser.get(request.url))
  return { code: back.get('code') ?? undefined, error: back.get('error') ?? undefined, verifier: request.verifier }
}

t.test('22.7: 30 codes from one session: the newest 10 redeem, the oldest 20 are invalid_grant', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app, { skipConsent: true })
  const browser = await signIn(app)
  const issued: Array<{ code: string, verifier: string }> = []
  for (let i = 0; i < 30; i++) {
    const { code, verifier } = await silently(browser)
    if (code === undefined) throw new Error(`no code for request ${i}`)
    issued.push({ code, verifier })
  }
  t.equal(CODES_PER_SESSION, 10)
  const answers = []
  for (const { code, verifier } of issued) {
    const res = await exchange(app, { code, code_verifier: verifier }, webAuth)
    answers.push(res.statusCode === 200 ? 'ok' : `${res.statusCode} ${String(res.json().error)}`)
  }
  t.same(answers, [...Array<string>(20).fill('400 invalid_grant'), ...Array<string>(10).fill('ok')], 'issued in one second: still the oldest ended first')
})

t.test('22.7: codes of another session of the same user are not ended by this one\'s', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app, { skipConsent: true })
  const first = await signIn(app)
  const kept = await silently(first)
  const second = await signIn(app)
  for (let i = 0; i < 15; i++) await silently(second)
  t.equal((await exchange(app, { code: kept.code as string, code_verifier: kept.verifier }, webAuth)).statusCode, 200, 'the other browser\'s code still redeems')
})

t.test('22.7: 60 sign-ins of one user: 50 sessions, the oldest 10 signed out', async (t) => {
  const app = await build(t)
  const { alice } = await browserFixtures(app, { skipConsent: true })
  const browsers: InjectBrowser[] = []
  for (let i = 0; i < 60; i++) browsers.push(await signIn(app))
  t.equal(SESSIONS_PER_USER, 50)
  t.equal((await app.storage.sessions.listForUser(alice.id, app.clock.now())).length, 50, '50 sessions stored')
  const outcomes = []
  for (const browser of browsers) outcomes.push((await silently(browser)).error ?? 'code')
  t.same(outcomes, [...Array<string>(10).fill('login_required'), ...Array<string>(50).fill('code')], 'the first ten are signed out, the last fifty are not')
})

t.test('sessions expire on the server: SESSION_TTL=3600, prompt=none gives a code at 3,599 s and login_required at 3,601 s', async (t) => {
  const clock = manualClock()
  const app = await build(t, { SESSION_TTL: '3600' }, { clock })
  await browserFixtures(app, { skipConsent: true })
  const browser = await signIn(app)
  const cookies = new Map(browser.cookies)
  clock.advance(3599)
  t.ok((await silently(browser)).code, 'at 3,599 s: a code')
  clock.advance(2)
  t.same([...browser.cookies], [...cookies], 'the browser still sends the same session cookie')
  t.equal((await silently(browser)).error, 'login_required', 'at 3,601 s: the server has ended it')
})

t.test('logout ends the session on the server: the same cookie in a second browser is signed out too', async (t) => {
  const app = await build(t)
  await browserFixtures(app, { skipConsent: true })
  const first = await signIn(app)
  const copy = new InjectBrowser(app)
  for (const [name, value] of first.cookies) copy.cookies.set(name, value)
  t.ok((await silently(copy)).code, 'the copy is signed in')
  const signedInPage = await first.get('/login')
  const out = await first.post('/logout', { csrf: field(signedInPage.body, 'csrf') })
  t.equal(out.statusCode, 200)
  t.match(out.body, /signed out/)
  t.equal((await silently(first)).error, 'login_required')
  t.equal((await silently(copy)).error, 'login_required', 'the copied cookie names a session that is gone')
})

import t from 'tap'
import { addUser, build, ISSUER, manualClock } from '../../support/helper.js'
import { addTotp } from '../../support/factors.js'
import { consoleSignIn, field, InjectBrowser, untilCallback } from '../../support/console.js'
import { cookieNames } from '../../../lib/browser/cookies.js'
import { CONSOLE_CLIENT_ID } from '../../../lib/console/client.js'
import { CONSOLE_IDLE_SECONDS } from '../../../lib/console/sessions.js'
import { updateUser } from '../../../lib/admin/users.js'

// The admin console's sign-in (routes/console/sign-in.ts, lib/console/): an ordinary OpenID client of this server.
// Runs on SQLite, and on PostgreSQL (test/postgres/list.ts).

const names = cookieNames(ISSUER)
const PW = 'root password 1'

t.test('GET /console without a session: 303 to /authorize as the console client, with state, nonce and PKCE in a sealed cookie', async (t) => {
  const app = await build(t)
  const browser = new InjectBrowser(app)
  const res = await browser.get('/console/users?limit=5')
  t.equal(res.statusCode, 303)
  const location = new URL(res.headers.location as string, ISSUER)
  t.equal(location.pathname, '/authorize')
  const q = location.searchParams
  t.equal(q.get('client_id'), CONSOLE_CLIENT_ID)
  t.equal(q.get('redirect_uri'), `${ISSUER}/console/callback`)
  t.equal(q.get('scope'), 'openid admin')
  t.equal(q.get('code_challenge_method'), 'S256')
  for (const name of ['state', 'nonce', 'code_challenge']) t.match(q.get(name), /^[A-Za-z0-9_-]{43}$/, name)
  t.equal(q.get('acr_values'), null, 'two factors are not asked of everyone by default')
  const cookie = browser.cookies.get(names.consoleSignIn)
  t.ok(cookie?.startsWith('v1.'), 'sealed')
  t.notOk(cookie?.includes(q.get('state') as string), 'the state is not readable in it')
  t.match(String(res.headers['set-cookie']), /HttpOnly; SameSite=Lax/)
  t.equal(res.headers['cache-control'], 'no-store')
})

t.test('an admin signs in: admitted, back to the page asked for, a Strict console cookie, an event', async (t) => {
  const app = await build(t)
  await addUser(app, 'root', PW, { scope: 'admin' })
  const events: string[] = []
  const emit = app.events.emit
  app.events.emit = (event, log) => { events.push(event.type); emit.call(app.events, event, log) }
  const browser = new InjectBrowser(app)
  const res = await consoleSignIn(app, browser, 'root', PW, undefined, '/console/users')
  t.equal(res.statusCode, 200, res.body.slice(0, 300))
  t.match(res.body, /<h1>Users<\/h1>/)
  t.match(res.body, /Signed in as <strong>root<\/strong>/)
  t.ok(browser.cookies.has(names.console))
  t.notOk(browser.cookies.has(names.consoleSignIn), 'the sign-in cookie is spent')
  t.ok(events.includes('console_signin'))
  // The console's pages carry the HTML security headers.
  t.match(res.headers['content-security-policy'], /default-src 'none'; style-src 'nonce-/)
  t.equal(res.headers['x-frame-options'], 'DENY')
  t.notOk(res.headers['access-control-allow-origin'], 'not a CORS route')
})

t.test('the console cookie is SameSite=Strict and HttpOnly', async (t) => {
  const app = await build(t)
  await addUser(app, 'root', PW, { scope: 'admin' })
  const browser = new InjectBrowser(app)
  const callback = await untilCallback(browser, 'root', PW)
  t.ok(callback.searchParams.get('code'))
  const res = await browser.get(callback.pathname + callback.search)
  t.equal(res.statusCode, 303)
  t.match(String(res.headers['set-cookie']), /gatehouse-console=[A-Za-z0-9_-]{43}; Max-Age=28800; Path=\/; HttpOnly; SameSite=Strict/)
})

t.test('a user without admin is refused with a 403 page, and gets no console session', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', PW, { scope: 'items:read' })
  const browser = new InjectBrowser(app)
  const res = await consoleSignIn(app, browser, 'alice', PW)
  t.equal(res.statusCode, 403)
  t.match(res.headers['content-type'], /text\/html/)
  t.match(res.body, /Only administrators/)
  t.notOk(browser.cookies.has(names.console))
})

t.test('the state or the sign-in cookie tampered with or missing: an error page, no session', async (t) => {
  const app = await build(t)
  await addUser(app, 'root', PW, { scope: 'admin' })
  for (const spoil of ['state', 'cookie', 'missing'] as const) {
    const browser = new InjectBrowser(app)
    const callback = await untilCallback(browser, 'root', PW)
    if (spoil === 'state') callback.searchParams.set('state', 'x'.repeat(43))
    const sealed = browser.cookies.get(names.consoleSignIn) as string
    if (spoil === 'cookie') browser.cookies.set(names.consoleSignIn, sealed.slice(0, -4) + (sealed.endsWith('AAAA') ? 'BBBB' : 'AAAA'))
    if (spoil === 'missing') browser.cookies.delete(names.consoleSignIn)
    const res = await browser.get(callback.pathname + callback.search)
    t.equal(res.statusCode, 400, spoil)
    t.match(res.body, /was not started in this browser/, spoil)
    t.notOk(browser.cookies.has(names.console), `${spoil}: no session`)
  }
})

t.test('an admin with an authenticator app passes the factor page; the session shows two factors', async (t) => {
  const app = await build(t)
  const root = await addUser(app, 'root', PW, { scope: 'admin' })
  const { secret } = await addTotp(app, root)
  const browser = new InjectBrowser(app)
  const stuck = await consoleSignIn(app, new InjectBrowser(app), 'root', PW)
  t.match(stuck.body, /name="code"/, 'without the code: the factor page, not the console')
  const res = await consoleSignIn(app, browser, 'root', PW, secret)
  t.equal(res.statusCode, 200, res.body.slice(0, 300))
  t.match(res.body, /<h1>Overview<\/h1>/)
  const sessions = await app.storage.sessions.listForUser(root.id, app.clock.now())
  t.ok(sessions.some((s) => s.amr.includes('mfa')))
})

t.test('an admin with a factor but a one-factor ID token is refused (the acr check)', async (t) => {
  const app = await build(t)
  const root = await addUser(app, 'root', PW, { scope: 'admin' })
  const browser = new InjectBrowser(app)
  // Signed in with the password alone, then a factor appears before the callback is reached.
  const callback = await untilCallback(browser, 'root', PW)
  await addTotp(app, root)
  const res = await browser.get(callback.pathname + callback.search)
  t.equal(res.statusCode, 403)
  t.match(res.body, /needs a second factor/)
  t.notOk(browser.cookies.has(names.console))
})

t.test('CONSOLE_REQUIRE_MFA=on: acr_values asks for two factors; an admin without one is sent to enrol', async (t) => {
  const app = await build(t, { CONSOLE_REQUIRE_MFA: 'on' })
  await addUser(app, 'root', PW, { scope: 'admin' })
  const browser = new InjectBrowser(app)
  const start = await browser.get('/console')
  t.equal(new URL(start.headers.location as string, ISSUER).searchParams.get('acr_values'), 'urn:gatehouse:acr:mfa')
  const res = await consoleSignIn(app, browser, 'root', PW)
  t.equal(res.statusCode, 200)
  t.match(res.body, /\/login\/enroll/, 'the enrolment page, not the console')
  t.notOk(browser.cookies.has(names.console))
})

t.test('logout (a form with CSRF) ends the session on the server', async (t) => {
  const app = await build(t)
  const root = await addUser(app, 'root', PW, { scope: 'admin' })
  const browser = new InjectBrowser(app)
  const page = await consoleSignIn(app, browser, 'root', PW)
  const cookie = browser.cookies.get(names.console) as string
  const refused = await browser.post('/console/logout', {})
  t.equal(refused.statusCode, 403, 'no CSRF field: refused')
  const out = await browser.post('/console/logout', { csrf: field(page.body, 'csrf') })
  t.equal(out.statusCode, 200)
  t.match(out.body, /Signed out of the console/)
  t.notOk(browser.cookies.has(names.console))
  const replay = new InjectBrowser(app)
  replay.cookies.set(names.console, cookie)
  t.equal((await replay.get('/console')).statusCode, 303, 'the old cookie is no session')
  t.equal((await app.storage.sessions.listForUser(root.id, app.clock.now())).length, 1, 'only the sign-in pages\' session is left')
})

t.test('a disabled admin, one who loses admin, or changes password: the console session dies at once', async (t) => {
  const app = await build(t)
  await addUser(app, 'root', PW, { scope: 'admin' })
  const deps = { storage: app.storage, passwords: app.passwords, clock: app.clock, config: app.config }
  for (const [what, change] of [
    ['disabled', { disabled: true }],
    ['loses admin', { scope: 'items:read' }],
    ['new password', { password: 'another password 2' }]
  ] as const) {
    await updateUser(deps, 'root', { disabled: false, scope: 'admin', password: PW })
    const browser = new InjectBrowser(app)
    t.equal((await consoleSignIn(app, browser, 'root', PW)).statusCode, 200, `${what}: signed in`)
    await updateUser(deps, 'root', change)
    const res = await browser.get('/console')
    t.equal(res.statusCode, 303, `${what}: no session, a new sign-in`)
    t.match(res.headers.location, /^\/authorize\?/, what)
    t.equal((await browser.post('/console/logout', { csrf: browser.cookies.get(names.csrf) as string })).statusCode, 403, `${what}: forms refused`)
  }
})

t.test('idle for 15 minutes, or 8 hours after sign-in: the session is over; use slides the idle deadline', async (t) => {
  const clock = manualClock()
  const app = await build(t, {}, { clock })
  await addUser(app, 'root', PW, { scope: 'admin' })
  const browser = new InjectBrowser(app)
  t.equal((await consoleSignIn(app, browser, 'root', PW)).statusCode, 200)
  clock.advance(CONSOLE_IDLE_SECONDS - 60)
  t.equal((await browser.get('/console')).statusCode, 200, 'used before the idle deadline')
  clock.advance(CONSOLE_IDLE_SECONDS - 60)
  t.equal((await browser.get('/console')).statusCode, 200, 'the deadline moved with the use')
  clock.advance(CONSOLE_IDLE_SECONDS + 1)
  t.equal((await browser.get('/console')).statusCode, 303, 'idle too long')

  const busy = new InjectBrowser(app)
  t.equal((await consoleSignIn(app, busy, 'root', PW)).statusCode, 200)
  for (let i = 0; i < 8 * 6; i++) { clock.advance(600); await busy.get('/console') }
  t.equal((await busy.get('/console')).statusCode, 303, 'eight hours after the sign-in, however busy')
})

import t, { type Test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { build, FORM, form } from '../../support/helper.js'
import { InjectBrowser, PASSWORD, authorizeThrough, browserFixtures, exchange, field, webRequest } from '../../support/browser.js'
import { startUpstreamOp } from '../../support/upstream/op.js'
import { addOidcProvider, callbackUrl, deliver } from '../../support/upstream/flow.js'
import { CookieJar } from '../../support/upstream/jar.js'
import { ACCOUNT_FAILURES } from '../../../lib/oauth/brute-force.js'

// The account page (GET /account and its forms) through app.inject with a cookie jar: the redirect to the login
// page and back, each form's happy path and its errors, and what a password change ends. The rules alone:
// lib/accounts/ (email-change, password-change, account-access); U6 (the e-mail change): test/security/u-account-page.test.ts.

const NEW_PASSWORD = 'a much longer passphrase of mine'

async function setUp (t: Test) {
  const app = await build(t)
  const fixtures = await browserFixtures(app)
  return { app, ...fixtures }
}

/** Signs `browser` in through the login page the account page sends it to; the account page it lands on. */
async function signInForAccount (t: Test, browser: InjectBrowser, password = PASSWORD): Promise<LightMyRequestResponse> {
  const start = await browser.get('/account')
  t.equal(start.statusCode, 303, 'signed out: to the login page')
  t.equal(start.headers.location, '/login?return_to=/account')
  const login = await browser.get(start.headers.location as string)
  t.equal(field(login.body, 'return_to'), '/account', 'the login form carries where to come back')
  const posted = await browser.post('/login', { username: 'alice', password, csrf: field(login.body, 'csrf'), return_to: '/account' })
  t.equal(posted.statusCode, 303)
  t.equal(posted.headers.location, '/account', 'and back to the account page')
  const page = await browser.get('/account')
  t.equal(page.statusCode, 200)
  return page
}

/** Posts one of the page's forms with this browser's CSRF token (read from the page). */
async function submit (browser: InjectBrowser, path: string, fields: Record<string, string>): Promise<LightMyRequestResponse> {
  const page = await browser.get('/account')
  return browser.post(path, { csrf: field(page.body, 'csrf'), ...fields })
}

/** A refresh token of `web` for alice, through this browser's session. */
async function refreshTokenOf (app: FastifyInstance, browser: InjectBrowser, webAuth: string): Promise<string> {
  const request = webRequest({ scope: 'openid' })
  const code = await authorizeThrough(browser, request.url)
  const body = (await exchange(app, { code, code_verifier: request.verifier }, webAuth)).json() as { refresh_token: string }
  return body.refresh_token
}

const refresh = (app: FastifyInstance, token: string, webAuth: string) =>
  app.inject({ method: 'POST', url: '/token', headers: { ...FORM, authorization: webAuth }, payload: form({ grant_type: 'refresh_token', refresh_token: token }) })

t.test('signed out: every account path goes to the login page, which comes back; the page shows the account', async (t) => {
  const { app } = await setUp(t)
  const browser = new InjectBrowser(app)
  const login = await browser.get('/login')
  const early = await browser.post('/account/profile', { csrf: field(login.body, 'csrf'), full_name: 'X' })
  t.equal(early.statusCode, 303)
  t.equal(early.headers.location, '/login?return_to=/account', 'a form posted without a session changes nothing')
  const page = await signInForAccount(t, browser)
  t.match(page.body, 'Signed in as <strong>alice</strong>')
  t.match(page.body, 'value="Alice Liddell"')
  t.match(page.body, 'alice@example.test')
  t.match(page.body, '(this device)')
  for (const name of ['full_name', 'email', 'current_password', 'new_password']) t.match(page.body, `name="${name}"`, name)
  t.equal((page.body.match(/name="csrf"/g) ?? []).length, (page.body.match(/<form /g) ?? []).length, 'every form has the CSRF field')
  const again = await browser.get('/login?return_to=/account')
  t.equal(again.headers.location, '/account', 'signed in already: straight back')
  const evil = await browser.get('/login?return_to=https%3A%2F%2Fevil.test%2Faccount')
  t.equal(evil.statusCode, 200, 'any other return_to is no place to go')
})

t.test('profile: saved, too long refused, CSRF required', async (t) => {
  const { app } = await setUp(t)
  const browser = new InjectBrowser(app)
  await signInForAccount(t, browser)
  const saved = await submit(browser, '/account/profile', { full_name: '  Alice P. Liddell ' })
  t.equal(saved.statusCode, 303)
  t.equal(saved.headers.location, '/account?done=profile')
  t.equal((await app.storage.users.findByUsername('alice'))?.fullName, 'Alice P. Liddell')
  t.match((await browser.get('/account?done=profile')).body, 'Your profile is saved.')
  const long = await submit(browser, '/account/profile', { full_name: 'x'.repeat(300) })
  t.equal(long.statusCode, 400)
  t.match(long.body, 'at most 256 characters')
  const noCsrf = await browser.post('/account/profile', { full_name: 'Mallory' })
  t.equal(noCsrf.statusCode, 403, 'no CSRF field: refused')
  t.match(noCsrf.headers['content-type'], /text\/html/)
  const otherSite = await submit(browser, '/account/profile', { full_name: 'Mallory' })
  t.equal(otherSite.statusCode, 303, '(the same form with its field works)')
  const crossSite = await browser.post('/account/profile', { csrf: browser.cookies.get('gatehouse-csrf') ?? '', full_name: 'Eve' }, { origin: 'https://evil.test' })
  t.equal(crossSite.statusCode, 403, 'from another origin: refused')
  t.equal((await app.storage.users.findByUsername('alice'))?.fullName, 'Mallory')
})

t.test('e-mail: a bad address, the same address, then a change that waits for its link', async (t) => {
  const { app } = await setUp(t)
  const browser = new InjectBrowser(app)
  await signInForAccount(t, browser)
  for (const email of ['not an address', 'a@b@c', '', 'x'.repeat(70) + '@example.test']) {
    const res = await submit(browser, '/account/email', { email })
    t.equal(res.statusCode, 400, JSON.stringify(email))
    t.match(res.body, 'Enter an e-mail address')
  }
  const same = await submit(browser, '/account/email', { email: 'ALICE@example.test' })
  t.equal(same.statusCode, 400)
  t.match(same.body, 'That is your address already.')
  const asked = await submit(browser, '/account/email', { email: 'alice.new@example.test' })
  t.equal(asked.headers.location, '/account?done=email')
  t.equal((await app.storage.users.findByUsername('alice'))?.email, 'alice@example.test', 'unchanged until the link is followed')
  t.match((await browser.get('/account')).body, /Pending: <span class="value">alice\.new@example\.test<\/span> \(check that inbox/)
  const noCsrf = await browser.post('/account/email', { email: 'eve@evil.test' })
  t.equal(noCsrf.statusCode, 403)
})

t.test('password: wrong current (counted), weak new, different confirmation; then changed', async (t) => {
  const { app, webAuth } = await setUp(t)
  const browser = new InjectBrowser(app)
  await signInForAccount(t, browser)
  const refreshToken = await refreshTokenOf(app, browser, webAuth)
  const other = new InjectBrowser(app)
  await signInForAccount(t, other)

  const weak = await submit(browser, '/account/password', { current_password: PASSWORD, new_password: 'password1', new_password_confirmation: 'password1' })
  t.equal(weak.statusCode, 400)
  t.match(weak.body, 'too common')
  const short = await submit(browser, '/account/password', { current_password: PASSWORD, new_password: 'short' })
  t.match(short.body, 'at least 8 characters')
  const differ = await submit(browser, '/account/password', { current_password: PASSWORD, new_password: NEW_PASSWORD, new_password_confirmation: `${NEW_PASSWORD}!` })
  t.match(differ.body, 'not the same')
  const wrong = await submit(browser, '/account/password', { current_password: 'not my password', new_password: NEW_PASSWORD })
  t.equal(wrong.statusCode, 401)
  t.match(wrong.body, 'Your current password is not right.')
  t.equal((await browser.get('/account')).statusCode, 200, 'a wrong password does not sign this browser out')

  const changed = await submit(browser, '/account/password', { current_password: PASSWORD, new_password: NEW_PASSWORD, new_password_confirmation: NEW_PASSWORD })
  t.equal(changed.statusCode, 303)
  t.equal(changed.headers.location, '/account?done=password')
  const after = await browser.get('/account?done=password')
  t.equal(after.statusCode, 200, 'this browser is still signed in')
  t.match(after.body, 'Your password is changed.')
  t.equal((await other.get('/account')).statusCode, 303, 'the other session ended')
  const refused = await refresh(app, refreshToken, webAuth)
  t.equal(refused.statusCode, 400)
  t.equal(refused.json().error, 'invalid_grant', 'a refresh token issued before is refused')
  t.equal((await signInForAccount(t, new InjectBrowser(app), NEW_PASSWORD)).statusCode, 200, 'the new password signs in')
})

t.test('password: wrong current passwords count toward the account\'s sign-in limit', async (t) => {
  const { app } = await setUp(t)
  const browser = new InjectBrowser(app)
  await signInForAccount(t, browser)
  const statuses: number[] = []
  for (let i = 0; i < ACCOUNT_FAILURES.max; i++) {
    statuses.push((await submit(browser, '/account/password', { current_password: `wrong ${i}`, new_password: NEW_PASSWORD })).statusCode)
  }
  t.same(statuses, Array(ACCOUNT_FAILURES.max).fill(401))
  const limited = await submit(browser, '/account/password', { current_password: PASSWORD, new_password: NEW_PASSWORD })
  t.equal(limited.statusCode, 429, 'past the limit even the right password is not checked')
  t.ok(limited.headers['retry-after'])
  const fresh = new InjectBrowser(app)
  const page = await fresh.get('/login')
  t.equal((await fresh.post('/login', { username: 'alice', password: PASSWORD, csrf: field(page.body, 'csrf') })).statusCode, 429, 'the login page counts the same failures')
})

t.test('sessions: device and sign-in time listed, one ended by its sid, then all the others', async (t) => {
  const { app } = await setUp(t)
  const firefox = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0'
  const browser = new InjectBrowser(app)
  await signInForAccount(t, browser)
  const b = new InjectBrowser(app)
  const c = new InjectBrowser(app)
  for (const other of [b, c]) {
    const login = await other.get('/login?return_to=/account')
    await other.post('/login', { username: 'alice', password: PASSWORD, csrf: field(login.body, 'csrf'), return_to: '/account' }, { 'user-agent': firefox })
  }
  const page = await browser.get('/account')
  t.equal((page.body.match(/Firefox on Windows/g) ?? []).length, 2, 'each session by its device')
  t.match(page.body, /signed in \d{4}-\d\d-\d\d \d\d:\d\d UTC with password/)
  const sids = [...page.body.matchAll(/name="sid" value="([^"]+)"/g)].map((m) => m[1] as string)
  t.equal(sids.length, 2, 'the other two can be ended one by one (not this one)')
  t.notMatch(page.body, browser.cookies.get('gatehouse-session') as string, 'the page never shows a session cookie')
  const one = await submit(browser, '/account/sessions/end', { sid: sids[0]! })
  t.equal(one.headers.location, '/account?done=session')
  const live = [(await b.get('/account')).statusCode, (await c.get('/account')).statusCode].sort()
  t.same(live, [200, 303], 'one of the two ended')
  const gone = await submit(browser, '/account/sessions/end', { sid: sids[0]! })
  t.equal(gone.statusCode, 400, 'an ended one: the page says so')
  const all = await submit(browser, '/account/sessions/end-others', {})
  t.equal(all.headers.location, '/account?done=sessions')
  t.equal((await b.get('/account')).statusCode, 303)
  t.equal((await c.get('/account')).statusCode, 303)
  t.equal((await browser.get('/account')).statusCode, 200, 'this one is kept')
  t.equal((await app.storage.sessions.listForUser((await app.storage.users.findByUsername('alice'))!.id, app.clock.now())).length, 1)
  t.equal((await browser.post('/account/sessions/end-others', {})).statusCode, 403, 'CSRF required')
})

t.test('apps: listed with their scopes; revoke ends the consent and the refresh tokens', async (t) => {
  const { app, webAuth } = await setUp(t)
  const browser = new InjectBrowser(app)
  await signInForAccount(t, browser)
  const refreshToken = await refreshTokenOf(app, browser, webAuth)
  t.equal((await refresh(app, refreshToken, webAuth)).statusCode, 200, '(the refresh token works before)')
  const rotated = await refreshTokenOf(app, browser, webAuth)
  const page = await browser.get('/account')
  t.match(page.body, /<span class="value client">web<\/span>\s*<small>openid<\/small>/)
  const unknown = await submit(browser, '/account/apps/revoke', { client_id: 'nobody' })
  t.equal(unknown.statusCode, 400)
  t.match(unknown.body, 'no access to revoke')
  const revoked = await submit(browser, '/account/apps/revoke', { client_id: 'web' })
  t.equal(revoked.headers.location, '/account?done=app')
  t.equal(await app.storage.consents.find((await app.storage.users.findByUsername('alice'))!.id, 'web'), undefined, 'the consent is gone')
  t.equal((await refresh(app, rotated, webAuth)).json().error, 'invalid_grant', 'its refresh token is refused')
  t.equal((await browser.get('/account')).statusCode, 200, 'the session stays')
  t.notMatch((await browser.get('/account')).body, 'class="value client">web<')
})

t.test('providers: link another through the provider, unlink, never the only way to sign in', async (t) => {
  const { app } = await setUp(t)
  const op = await startUpstreamOp({ redirectUris: callbackUrl('corp') })
  t.teardown(() => op.close())
  await addOidcProvider(app, 'corp', op, { displayName: 'Corp SSO' })
  const browser = new InjectBrowser(app)
  const page = await signInForAccount(t, browser)
  t.match(page.body, 'Link Corp SSO')
  const noCsrf = await browser.post('/account/providers/link', { provider: 'corp' })
  t.equal(noCsrf.statusCode, 403, 'a link is started by this page\'s form only')
  const started = await submit(browser, '/account/providers/link', { provider: 'corp' })
  t.equal(started.statusCode, 303)
  const back = await deliver(browser, await op.signInAt(started.headers.location as string, 'verified', new CookieJar()))
  t.equal(back.headers.location, '/account?done=linked')
  const alice = (await app.storage.users.findByUsername('alice'))!
  t.match(await app.storage.identities.listForUser(alice.id), [{ provider: 'corp', subject: op.accounts.verified.sub }])
  t.match((await browser.get('/account?done=linked')).body, 'Unlink Corp SSO')
  t.equal(await app.storage.users.findByUsername('vera'), undefined, 'no user was created')

  // A user the provider created (no password) with only that provider: unlinking it is refused.
  const vic = new InjectBrowser(app)
  const started2 = await vic.get('/login/corp?return_to=/account')
  const back2 = await deliver(vic, await op.signInAt(started2.headers.location as string, 'unverified', new CookieJar()))
  t.equal(back2.headers.location, '/account', 'a provider sign-in asked for by the account page comes back to it')
  const created = (await vic.get('/account')).body
  t.match(created, 'this account has no password')
  t.notMatch(created, 'name="current_password"')
  const onlyWay = await submit(vic, '/account/providers/unlink', { provider: 'corp' })
  t.equal(onlyWay.statusCode, 409, 'its only way to sign in: refused')
  t.match(onlyWay.body, 'only way to sign in')
  const victor = await app.storage.identities.find('corp', op.issuer, op.accounts.unverified.sub)
  t.ok(victor, 'still linked')

  // alice's browser links the same provider account another user holds: refused, nothing moves.
  const taken = await submit(browser, '/account/providers/link', { provider: 'corp' })
  const refusedLink = await deliver(browser, await op.signInAt(taken.headers.location as string, 'unverified', new CookieJar()))
  t.equal(refusedLink.statusCode, 409, 'linked to another user: refused')
  t.equal((await app.storage.identities.find('corp', op.issuer, op.accounts.unverified.sub))?.userId, victor?.userId)

  const unlinked = await submit(browser, '/account/providers/unlink', { provider: 'corp' })
  t.equal(unlinked.headers.location, '/account?done=unlinked', 'alice has a password: unlinked')
  t.same(await app.storage.identities.listForUser(alice.id), [])
  const notLinked = await submit(browser, '/account/providers/unlink', { provider: 'corp' })
  t.equal(notLinked.statusCode, 400)
})

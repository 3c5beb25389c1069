import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { ISSUER, build } from '../support/helper.js'
import { InjectBrowser, PASSWORD, authorizeThrough, browserFixtures, exchange, field, webRequest } from '../support/browser.js'
import { startSmtp } from '../support/smtp.js'
import { forgotPassword, NEW_PASSWORD, resetPath, resetThrough, signsIn } from '../support/password-reset.js'

// SECURITY-CASES U6 (ASVS 6.3.7): the e-mail change on the account page. Someone holding a session (a stolen one, a
// shared computer) asks to move the account to their own address without following the link: the old address stays
// everywhere (ID token, /userinfo, the account page) and its owner is told, read back from a real SMTP server. Only
// following the link mailed to the new address moves it, verified, and the old address is told again. Then the
// second half of U6: a password reset goes to the address the account holds, so it reaches the new address only
// once its link is followed, and never the old one after.

async function claims (app: FastifyInstance, webAuth: string) {
  const browser = new InjectBrowser(app)
  const request = webRequest({ scope: 'openid email', claims: JSON.stringify({ id_token: { email: null, email_verified: null } }) })
  const code = await authorizeThrough(browser, request.url)
  const body = (await exchange(app, { code, code_verifier: request.verifier }, webAuth)).json() as { access_token: string, id_token: string }
  const idToken = JSON.parse(Buffer.from(body.id_token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>
  const userinfo = (await app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${body.access_token}` } })).json() as Record<string, unknown>
  return { idToken: [idToken.email, idToken.email_verified], userinfo: [userinfo.email, userinfo.email_verified] }
}

t.test('U6: a change to another address without its link changes nothing but telling the old address; the link moves it, verified', async (t) => {
  const smtp = await startSmtp(t)
  const app = await build(t, { SMTP_URL: smtp.url, MAIL_POLL_MS: '60000' })
  const { webAuth } = await browserFixtures(app, { skipConsent: true })
  const before = { idToken: ['alice@example.test', false], userinfo: ['alice@example.test', false] }
  t.same(await claims(app, webAuth), before)

  // The attacker's browser: signed in as alice, asks for their own address.
  const attacker = new InjectBrowser(app)
  const login = await attacker.get('/login?return_to=/account')
  await attacker.post('/login', { username: 'alice', password: PASSWORD, csrf: field(login.body, 'csrf'), return_to: '/account' })
  const page = await attacker.get('/account')
  const asked = await attacker.post('/account/email', { csrf: field(page.body, 'csrf'), email: 'mallory@evil.test' })
  t.equal(asked.statusCode, 303)

  const messages = await smtp.waitFor(2)
  const toNew = messages.find((m) => m.to !== undefined && JSON.stringify(m.to).includes('mallory@evil.test'))
  const toOld = messages.find((m) => m.to !== undefined && JSON.stringify(m.to).includes('alice@example.test'))
  t.ok(toNew, 'a link went to the new address')
  t.ok(toOld, 'a note went to the old address')
  t.match(toOld?.text, 'mallory@evil.test', 'naming the address asked for')
  t.notMatch(toOld?.text, /token=/, 'with no link that would change anything')
  const link = new RegExp(`${ISSUER}/verify-email\\?token=[A-Za-z0-9_-]{43}`).exec(toNew?.text ?? '')?.[0]
  t.ok(link, 'the link, whole, in the text part, built from ISSUER')

  // Not followed: the old address everywhere.
  t.same(await claims(app, webAuth), before, 'ID token and /userinfo: the old address')
  const stillOld = await attacker.get('/account')
  t.match(stillOld.body, /alice@example\.test<\/span> · not verified/, '/account: the old address')
  t.match(stillOld.body, 'Pending: <span class="value">mallory@evil.test</span>')
  t.equal((await app.storage.users.findByUsername('alice'))?.email, 'alice@example.test')

  // A tampered link moves nothing.
  const token = link!.split('token=')[1]!
  const tampered = await app.inject({ url: `/verify-email?token=${token[0] === 'A' ? 'B' : 'A'}${token.slice(1)}` })
  t.equal(tampered.statusCode, 400)
  t.equal((await app.storage.users.findByUsername('alice'))?.email, 'alice@example.test')

  // Followed: the new address, verified; the old address is told it happened.
  const followed = await app.inject({ url: link!.slice(ISSUER.length) })
  t.equal(followed.statusCode, 200)
  t.same(await claims(app, webAuth), { idToken: ['mallory@evil.test', true], userinfo: ['mallory@evil.test', true] }, 'the new address, verified')
  const done = await smtp.waitFor(3)
  t.match(JSON.stringify(done[2]?.to), 'alice@example.test', 'the old address is told of the change')
  t.match(done[2]?.text, 'is now mallory@evil.test')
  t.equal((await app.inject({ url: link!.slice(ISSUER.length) })).statusCode, 400, 'the link works once')
})

t.test('U6: a newer request voids the older link; an address another account took meanwhile is not given to a second one', async (t) => {
  const smtp = await startSmtp(t)
  const app = await build(t, { SMTP_URL: smtp.url, MAIL_POLL_MS: '60000' })
  await browserFixtures(app)
  const browser = new InjectBrowser(app)
  const login = await browser.get('/login?return_to=/account')
  await browser.post('/login', { username: 'alice', password: PASSWORD, csrf: field(login.body, 'csrf'), return_to: '/account' })
  const ask = async (email: string) => {
    const page = await browser.get('/account')
    await browser.post('/account/email', { csrf: field(page.body, 'csrf'), email })
    const messages = await smtp.waitFor(smtp.messages.length + 2)
    const text = messages.find((m) => JSON.stringify(m.to).includes(email) && m.text?.includes('token='))?.text ?? ''
    return /\/verify-email\?token=[A-Za-z0-9_-]{43}/.exec(text)?.[0] ?? ''
  }
  const first = await ask('first@example.test')
  const second = await ask('second@example.test')
  t.equal((await app.inject({ url: first })).statusCode, 400, 'the older link is void')
  await app.storage.users.create({ username: 'bob', passwordHash: null, email: 'second@example.test' })
  const taken = await app.inject({ url: second })
  t.equal(taken.statusCode, 409, 'taken meanwhile: refused')
  t.equal((await app.storage.users.findByUsername('alice'))?.email, 'alice@example.test', 'nothing changed')
})

t.test('U6: a reset through /forgot-password reaches the new address only once its link is followed, never the old one', async (t) => {
  const smtp = await startSmtp(t)
  const app = await build(t, { SMTP_URL: smtp.url, MAIL_POLL_MS: '60000' })
  await browserFixtures(app)
  const to = (m: { to?: unknown }) => JSON.stringify(m.to)
  /** Answers every queued /forgot-password request and sends every queued message now; the messages so far. */
  const drain = async () => { await app.passwordResets.run(); await app.mail.run(); return smtp.messages.length }

  const browser = new InjectBrowser(app)
  const login = await browser.get('/login?return_to=/account')
  await browser.post('/login', { username: 'alice', password: PASSWORD, csrf: field(login.body, 'csrf'), return_to: '/account' })
  const page = await browser.get('/account')
  t.equal((await browser.post('/account/email', { csrf: field(page.body, 'csrf'), email: 'alice.new@example.test' })).statusCode, 303)
  const [toNew] = (await smtp.waitFor(2)).filter((m) => to(m).includes('alice.new@example.test'))
  const change = new RegExp(`${ISSUER}/verify-email\\?token=[A-Za-z0-9_-]{43}`).exec(toNew?.text ?? '')?.[0]
  t.ok(change, 'the change link went to the new address')
  t.equal(await drain(), 2)

  // Not followed yet: the new address is nobody's, so a reset for it sends nothing (the page is the same as ever).
  const early = await forgotPassword(new InjectBrowser(app), 'alice.new@example.test')
  t.equal(early.statusCode, 200)
  t.match(early.body, 'If an account uses this address, we sent it a link')
  t.equal(await drain(), 2, 'nothing sent for the new address before its link is followed')
  t.equal(await app.storage.outbox.pending(), 0, 'nothing waiting either')

  // Followed: the address moves; the old one is told.
  t.equal((await app.inject({ url: change!.slice(ISSUER.length) })).statusCode, 200)
  t.equal(await drain(), 3)
  t.match(to(smtp.messages[2]!), 'alice@example.test', 'the old address is told of the change')
  t.notMatch(smtp.messages[2]!.text, /token=/)

  // The reset for the new address arrives there, and only there.
  await forgotPassword(new InjectBrowser(app), 'alice.new@example.test')
  t.equal(await drain(), 4, 'one message for the reset')
  const reset = smtp.messages[3]!
  t.match(to(reset), 'alice.new@example.test', 'the reset link goes to the new address')
  t.notMatch(to(reset), 'alice@example.test')
  t.notOk(smtp.messages.slice(2).some((m) => to(m).includes('"alice@example.test"') && /reset-password/.test(m.text ?? '')), 'the old address gets nothing for the reset')

  // And the old address no longer reaches the account.
  await forgotPassword(new InjectBrowser(app), 'alice@example.test')
  t.equal(await drain(), 4, 'a reset asked for the old address sends nothing')

  const done = await resetThrough(new InjectBrowser(app), resetPath(ISSUER, reset), NEW_PASSWORD)
  t.equal(done.statusCode, 200)
  t.match(done.body, 'Your password was changed')
  t.ok(await signsIn(app, 'alice', NEW_PASSWORD), 'the new password signs in')
  t.notOk(await signsIn(app, 'alice', PASSWORD), 'the old one does not')
  const user = await app.storage.users.findByUsername('alice')
  t.same([user?.email, user?.emailVerified], ['alice.new@example.test', true])
})

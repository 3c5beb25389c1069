import t from 'tap'
import { addUser, ISSUER, post } from '../../support/helper.js'
import { field, InjectBrowser, PASSWORD, webRequest } from '../../support/browser.js'
import { forgotPassword, NEW_PASSWORD, resetSetUp, resetThrough, signsIn, withoutNonce } from '../../support/password-reset.js'
import { parseExposition, sampleValue } from '../../support/prometheus.js'

// /forgot-password and /reset-password through app.inject, the messages read at a real SMTP server; the admin
// endpoint. The security cases (U1–U5) are test/security/u-accounts.test.ts; Chromium: test/e2e/password-reset.test.ts.

t.test('the login page links to /forgot-password, keeping return_to', async (t) => {
  const { app } = await resetSetUp(t)
  const browser = new InjectBrowser(app)
  const req = webRequest()
  const login = await browser.get(req.url)
  const returnTo = field(login.body, 'return_to')
  t.match(login.body, `<a href="/forgot-password?return_to=${encodeURIComponent(returnTo).replace(/&/g, '&amp;')}">Forgot your password?</a>`)
  const page = await browser.get(`/forgot-password?return_to=${encodeURIComponent(returnTo)}`)
  t.equal(page.statusCode, 200)
  t.equal(field(page.body, 'return_to'), returnTo)
  t.match(page.body, 'name="email"')
  t.match((await browser.get('/login')).body, '<a href="/forgot-password">Forgot your password?</a>')
})

t.test('a known and an unknown e-mail get the same page; only the known one a message, with the whole link', async (t) => {
  const { app, smtp, drain } = await resetSetUp(t)
  const known = await forgotPassword(new InjectBrowser(app), 'Alice@Example.test')
  const unknown = await forgotPassword(new InjectBrowser(app), 'nobody@example.test')
  t.equal(known.statusCode, 200)
  t.equal(unknown.statusCode, 200)
  t.equal(withoutNonce(known.body), withoutNonce(unknown.body), 'the same page')
  t.match(known.body, 'If an account uses this address, we sent it a link')
  await drain()
  const [message] = await smtp.waitFor(1)
  await drain()
  t.equal(smtp.messages.length, 1, 'exactly one message')
  t.equal(message!.to && 'value' in message!.to ? message!.to.value[0]!.address : '', 'alice@example.test', 'to the address the account holds')
  t.match(message!.text, new RegExp(`${ISSUER}/reset-password\\?token=[A-Za-z0-9_-]{43}\\n`), 'the whole link in the text part')
  t.match(message!.subject, /Reset your .* password/)
})

t.test('not an e-mail address: the form again (400), nothing sent', async (t) => {
  const { app, smtp, drain } = await resetSetUp(t)
  for (const email of ['', 'alice', 'a@b@c', 'alice@example.test\r\nbcc: x@evil.test']) {
    const res = await forgotPassword(new InjectBrowser(app), email)
    t.equal(res.statusCode, 400, JSON.stringify(email))
    t.match(res.body, 'Enter the e-mail address of your account.')
  }
  await drain()
  t.equal(smtp.messages.length, 0)
})

t.test('a weak password shows the form again and leaves the link working; a good one changes the password', async (t) => {
  const { app, drain, linkOf } = await resetSetUp(t)
  await forgotPassword(new InjectBrowser(app), 'alice@example.test')
  await drain()
  const link = await linkOf(1)
  const browser = new InjectBrowser(app)
  for (const [password, problem] of [['short', 'at least 8 characters'], ['password123', 'too common'], ['alice@example.test', 'not your username or e-mail']] as const) {
    const res = await resetThrough(browser, link, password)
    t.equal(res.statusCode, 400, password)
    t.match(res.body, problem)
    t.match(res.body, 'name="password"', 'the form again')
  }
  const differ = await resetThrough(browser, link, NEW_PASSWORD, NEW_PASSWORD + '!')
  t.equal(differ.statusCode, 400)
  t.match(differ.body, 'The two passwords differ')
  t.equal((await browser.get(link)).statusCode, 200, 'the link still works')
  t.ok(await signsIn(app, 'alice', PASSWORD), 'the old password still works until the reset')

  const done = await resetThrough(browser, link, NEW_PASSWORD)
  t.equal(done.statusCode, 200)
  t.match(done.body, 'Your password was changed')
  t.match(done.body, '<a href="/login">Sign in</a>')
  t.ok(await signsIn(app, 'alice', NEW_PASSWORD), 'the new password works')
  t.notOk(await signsIn(app, 'alice', PASSWORD), 'the old one does not')
  t.equal((await app.storage.users.findByUsername('alice'))!.emailVerified, true, 'the link proved the address')

  const again = await browser.get(link)
  t.equal(again.statusCode, 400, 'a link works once')
  t.match(again.body, 'This link does not work')
})

t.test('the page after the reset continues the pending /authorize request through the login page', async (t) => {
  const { app, drain, linkOf } = await resetSetUp(t)
  const browser = new InjectBrowser(app)
  const returnTo = field((await browser.get(webRequest().url)).body, 'return_to')
  await forgotPassword(browser, 'alice@example.test', { returnTo })
  await drain()
  const done = await resetThrough(browser, await linkOf(1), NEW_PASSWORD)
  t.match(done.body, `<a href="${returnTo.replace(/&/g, '&amp;')}">Sign in and continue</a>`, 'back to the request, which shows the login page')
})

t.test('a newer link voids the older; a link posted twice changes the password once', async (t) => {
  const { app, drain, linkOf } = await resetSetUp(t)
  await forgotPassword(new InjectBrowser(app), 'alice@example.test')
  await drain()
  const older = await linkOf(1)
  await forgotPassword(new InjectBrowser(app), 'alice@example.test')
  await drain()
  const newer = await linkOf(2)
  const browser = new InjectBrowser(app)
  t.equal((await resetThrough(browser, older, NEW_PASSWORD)).statusCode, 400, 'the older link is void')
  t.ok(await signsIn(app, 'alice', PASSWORD), 'password unchanged')
  const page = await browser.get(newer)
  const post = (password: string) => browser.post('/reset-password', { csrf: field(page.body, 'csrf'), token: field(page.body, 'token'), password })
  const [a, b] = await Promise.all([post(NEW_PASSWORD), post('another long passphrase here')])
  t.same([a!.statusCode, b!.statusCode].sort(), [200, 400], 'one post wins')
  t.ok(await signsIn(app, 'alice', a!.statusCode === 200 ? NEW_PASSWORD : 'another long passphrase here'), 'the winner\'s password is set')
})

t.test('a mail server that refuses for a minute: the reset message is tried again on its schedule, arrives once, its link works', async (t) => {
  const { app, clock, smtp, linkOf } = await resetSetUp(t)
  smtp.refuseWith = 451
  const start = clock.now()
  t.equal((await forgotPassword(new InjectBrowser(app), 'alice@example.test')).statusCode, 200)
  await app.passwordResets.run()
  t.equal(await app.storage.outbox.pending('mail'), 1, 'the request answered into a queued message')

  // The app's clock moves a second at a time for 90 s, a round of the sender each second; the SMTP server answers
  // 451 for the first minute, then accepts.
  for (let elapsed = 0; elapsed <= 90; elapsed++) {
    if (elapsed > 60) smtp.refuseWith = undefined
    await app.mail.run()
    clock.advance(1)
  }
  t.equal(smtp.refused.length, 2, 'refused at 0 s and 10 s (the schedule: 10 s, then 60 s)')
  t.equal(smtp.messages.length, 1, 'sent at 70 s')
  clock.advance(600)
  await app.mail.run()
  t.equal(smtp.messages.length, 1, 'once')
  t.equal(await app.storage.outbox.pending(), 0)
  const e = parseExposition((await app.inject({ url: '/metrics' })).body)
  t.same(['retried', 'sent', 'failed'].map((result) => sampleValue(e, 'gatehouse_mail_messages_total', { result }) ?? 0), [2, 1, 0])

  t.ok(clock.now() - start < 30 * 60, 'still within the link\'s 30 minutes')
  const browser = new InjectBrowser(app)
  t.equal((await resetThrough(browser, await linkOf(1), NEW_PASSWORD)).statusCode, 200, 'the link works')
  t.ok(await signsIn(app, 'alice', NEW_PASSWORD))
  t.notOk(await signsIn(app, 'alice', PASSWORD))
})

t.test('several accounts with one address each get a link; a disabled one gets nothing', async (t) => {
  const { app, smtp, drain } = await resetSetUp(t)
  await addUser(app, 'bob', PASSWORD, { email: 'shared@example.test' })
  await addUser(app, 'carol', PASSWORD, { email: 'SHARED@example.test' })
  await addUser(app, 'dave', PASSWORD, { email: 'shared@example.test', disabled: true })
  await addUser(app, 'erin', PASSWORD, { email: 'erin@example.test', disabled: true })
  const shared = await forgotPassword(new InjectBrowser(app), 'shared@example.test')
  const disabled = await forgotPassword(new InjectBrowser(app), 'erin@example.test')
  t.equal(withoutNonce(shared.body), withoutNonce(disabled.body), 'the same page for a disabled user')
  await drain()
  await smtp.waitFor(2)
  await drain()
  t.same(smtp.messages.map((m) => /^Hello (\w+),/m.exec(m.text ?? '')?.[1]).sort(), ['bob', 'carol'])
})

t.test('bad links: missing, malformed, unknown, of another purpose: one error page (400), never a 500', async (t) => {
  const { app } = await resetSetUp(t)
  const browser = new InjectBrowser(app)
  for (const url of ['/reset-password', '/reset-password?token=', '/reset-password?token=abc', `/reset-password?token=${'A'.repeat(43)}`, `/reset-password?token=${'A'.repeat(43)}&token=${'B'.repeat(43)}`]) {
    const res = await browser.get(url)
    t.equal(res.statusCode, 400, url)
    t.match(res.headers['content-type'], /text\/html/)
    t.match(res.body, 'This link does not work')
  }
  const csrf = field((await browser.get('/forgot-password')).body, 'csrf')
  for (const fields of [{}, { token: 'x', password: NEW_PASSWORD }, { token: 'A'.repeat(43), password: NEW_PASSWORD }] as Array<Record<string, string>>) {
    const res = await browser.post('/reset-password', { csrf, ...fields })
    t.equal(res.statusCode, 400, JSON.stringify(fields))
    t.match(res.body, 'This link does not work')
  }
  t.equal((await browser.post('/reset-password', { token: 'A'.repeat(43), password: NEW_PASSWORD })).statusCode, 403, 'no CSRF field: refused')
})

t.test('admin: POST /admin/users/{username}/reset-password sends the link; 404, 409, 401/403', async (t) => {
  const { app, smtp, drain, linkOf } = await resetSetUp(t)
  await addUser(app, 'root', PASSWORD, { scope: 'admin' })
  await addUser(app, 'nomail', PASSWORD)
  await addUser(app, 'off', PASSWORD, { email: 'off@example.test', disabled: true })
  const token = async (username: string) => (await post(app, '/token', { grant_type: 'password', username, password: PASSWORD })).json().access_token as string
  const admin = { authorization: `Bearer ${await token('root')}` }
  const call = (username: string, headers: Record<string, string> = admin) => app.inject({ method: 'POST', url: `/admin/users/${username}/reset-password`, headers })

  const sent = await call('alice')
  t.equal(sent.statusCode, 200)
  t.same(Object.keys(sent.json()).sort(), ['email', 'expires_at'])
  t.equal(sent.json().email, 'alice@example.test')
  t.equal(sent.json().expires_at, app.clock.now() + 30 * 60)
  await drain()
  const link = await linkOf(1)
  t.ok(await signsIn(app, 'alice', PASSWORD), 'the password is unchanged until the link is followed')
  t.equal((await resetThrough(new InjectBrowser(app), link, NEW_PASSWORD)).statusCode, 200)
  t.ok(await signsIn(app, 'alice', NEW_PASSWORD))

  t.match((await call('nobody')).json(), { error: 'not_found' })
  t.equal((await call('nobody')).statusCode, 404)
  const noMail = await call('nomail')
  t.equal(noMail.statusCode, 409)
  t.match(noMail.json(), { error: 'conflict', error_description: /no e-mail address/ })
  const off = await call('off')
  t.equal(off.statusCode, 409)
  t.match(off.json(), { error: 'conflict', error_description: /disabled/ })
  t.equal((await call('alice', {})).statusCode, 401)
  t.equal((await call('alice', { authorization: `Bearer ${await token('nomail')}` })).statusCode, 403)
  await drain()
  t.equal(smtp.messages.length, 1, 'only the one message')
})

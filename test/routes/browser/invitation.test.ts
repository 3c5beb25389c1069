import t, { type Test } from 'tap'
import { ISSUER, build, manualClock } from '../../support/helper.js'
import { InjectBrowser, browserFixtures, callbackParams, exchange, field, webRequest } from '../../support/browser.js'
import { startSmtp } from '../../support/smtp.js'
import { invite } from '../../../lib/accounts/invitations.js'

// GET/POST /invitation: the page an invitation's link opens (the link read at a real SMTP server). The admin API:
// test/routes/admin/invitations.test.ts; the rules alone: test/lib/accounts/invitations.test.ts; in Chromium:
// test/e2e/invitation.test.ts.

const CHOSEN = 'a long enough passphrase'

async function setUp (t: Test, env: Record<string, string> = {}) {
  const smtp = await startSmtp(t)
  const clock = manualClock()
  const app = await build(t, { SMTP_URL: smtp.url, MAIL_POLL_MS: '60000', ...env }, { clock })
  const fixtures = await browserFixtures(app, { skipConsent: true })
  /** Invites `email`; the path of the link its message holds. */
  const invited = async (email: string, scope?: string): Promise<string> => {
    const before = smtp.messages.length
    await invite({ storage: app.storage, send: app.mail.send, now: clock.now() }, { email, scope })
    await app.mail.run()
    const text = (await smtp.waitFor(before + 1)).at(-1)!.text ?? ''
    const link = new RegExp(`${ISSUER}/invitation\\?token=[A-Za-z0-9_-]+`).exec(text)?.[0]
    if (link === undefined) throw new Error(`no link in ${text}`)
    return link.slice(ISSUER.length)
  }
  /** Opens the link and posts the form with `fields` over the page's own. */
  const submit = async (browser: InjectBrowser, link: string, fields: Record<string, string>) => {
    const page = await browser.get(link)
    t.equal(page.statusCode, 200, 'the form')
    const own: Record<string, string> = { csrf: field(page.body, 'csrf'), token: field(page.body, 'token') }
    if (page.body.includes('name="return_to"')) own.return_to = field(page.body, 'return_to')
    return browser.post('/invitation', { ...own, ...fields })
  }
  return { app, clock, smtp, invited, submit, ...fixtures }
}

t.test('the form: the invited address shown, not a field; the inputs the contract names, with autocomplete', async (t) => {
  const { app, invited } = await setUp(t)
  t.equal(app.config.signup, 'off', 'SIGNUP is off')
  const page = await app.inject({ url: await invited('bob@example.test') })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /text\/html/)
  t.match(page.body, '<strong id="invited-email">bob@example.test</strong>')
  t.notMatch(page.body, /name="email"/, 'the address cannot be edited')
  t.match(page.body, /<form method="post" action="\/invitation"/)
  for (const [name, autocomplete] of [['username', 'username'], ['full_name', 'name'], ['password', 'new-password'], ['password_confirmation', 'new-password']]) {
    t.match(page.body, new RegExp(`<input [^>]*name="${name}" autocomplete="${autocomplete}"`), `${name}: autocomplete ${autocomplete}`)
    t.match(page.body, new RegExp(`<label for="${name}">`), `${name}: labelled`)
  }
  t.match(page.body, /name="csrf" value="[^"]+"/)
  t.match(page.body, /<input type="hidden" name="token" value="[A-Za-z0-9_-]{43}">/)
  t.match(page.body, '<meta name="viewport" content="width=device-width, initial-scale=1">', 'laid out for a phone')
})

t.test('accept: the user exists with the address verified and the invitation\'s scopes, is signed in; the link works once', async (t) => {
  const { app, invited, submit } = await setUp(t)
  const link = await invited('bob@example.test', 'items:read items:write')
  const browser = new InjectBrowser(app)
  const done = await submit(browser, link, { username: 'bob', password: CHOSEN, password_confirmation: CHOSEN, full_name: 'Bob Builder' })
  t.equal(done.statusCode, 303)
  t.equal(done.headers.location, '/login', 'no pending request: the signed-in page')
  const signedIn = await browser.get('/login')
  t.match(signedIn.body, 'bob', 'signed in as bob')
  t.match(signedIn.body, /name="csrf"/)
  t.notMatch(signedIn.body, /name="password"/, 'no login form: a session')
  const bob = await app.storage.users.findByUsername('bob')
  t.match(bob, { email: 'bob@example.test', emailVerified: true, scope: 'items:read items:write', fullName: 'Bob Builder', disabled: false })
  t.same(await app.storage.accountLinks.listPending('invitation', app.clock.now(), 10), [], 'the invitation is no longer pending')

  const again = await new InjectBrowser(app).get(link)
  t.equal(again.statusCode, 400, 'the link twice: the error page')
  t.match(again.body, 'This invitation link does not work')
  const replay = await browser.post('/invitation', { csrf: field(signedIn.body, 'csrf'), token: link.split('token=')[1]!, username: 'bob2', password: CHOSEN })
  t.equal(replay.statusCode, 400, 'posting it again: the error page')
  t.equal(await app.storage.users.findByUsername('bob2'), undefined, 'no second account')

  const token = await app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `username=bob&password=${encodeURIComponent(CHOSEN)}` })
  t.equal(token.statusCode, 200, 'the chosen password signs in')
  t.equal(token.json().scope, 'items:read items:write')
})

t.test('a taken username, a weak password, differing passwords: the form again with a message, the link still works', async (t) => {
  const { app, invited, submit } = await setUp(t)
  const link = await invited('bob@example.test')
  const browser = new InjectBrowser(app)
  const cases: Array<[Record<string, string>, RegExp, string]> = [
    [{ username: 'alice', password: CHOSEN }, /This username is taken/, 'taken'],
    [{ username: 'Bob', password: CHOSEN }, /lowercase letters/, 'not lowercase'],
    [{ username: 'bob', password: 'password1' }, /too common/, 'a breached password'],
    [{ username: 'bob', password: 'short' }, /at least 8/, 'too short'],
    [{ username: 'bob', password: 'bob@example.test' }, /not your username or e-mail/, 'the address'],
    [{ username: 'bob', password: CHOSEN, password_confirmation: 'something else here' }, /differ/, 'differing'],
    [{ username: 'bob' }, /at least 8/, 'no password']
  ]
  for (const [fields, message, label] of cases) {
    const res = await submit(browser, link, { full_name: 'Bob <B>', ...fields })
    t.equal(res.statusCode, 400, label)
    t.match(res.body, message, label)
    t.match(res.body, /role="alert"/, `${label}: announced`)
    t.match(res.body, `value="${fields.username}"`, `${label}: the username kept`)
    t.match(res.body, 'value="Bob &lt;B&gt;"', `${label}: the full name kept, escaped`)
    t.notMatch(res.body, CHOSEN, `${label}: the password is not sent back`)
  }
  t.equal(await app.storage.users.findByUsername('bob'), undefined, 'no account yet')
  const done = await submit(browser, link, { username: 'bob', password: CHOSEN })
  t.equal(done.statusCode, 303, 'the link still works (no confirmation field: fine)')
  t.match(await app.storage.users.findByUsername('bob'), { email: 'bob@example.test', emailVerified: true, scope: '' })
})

t.test('a pending authorization request continues after the account is made: a code for the new user', async (t) => {
  const { app, invited, submit, webAuth } = await setUp(t)
  const link = await invited('bob@example.test')
  const req = webRequest({ scope: 'openid email', claims: JSON.stringify({ id_token: { email: null, email_verified: null } }) })
  const done = await submit(new InjectBrowser(app), `${link}&return_to=${encodeURIComponent(req.url)}`, { username: 'bob', password: CHOSEN })
  t.equal(done.statusCode, 303)
  const code = callbackParams(done).get('code')
  t.ok(code, 'straight back to the client with a code')
  const tokens = (await exchange(app, { code: code!, code_verifier: req.verifier }, webAuth)).json() as { id_token: string }
  const claims = JSON.parse(Buffer.from(tokens.id_token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>
  t.match(claims, { email: 'bob@example.test', email_verified: true })
})

t.test('bad links: tampered, missing, expired, revoked, for an address a user took since; no CSRF; all without an account', async (t) => {
  const { app, clock, invited, submit } = await setUp(t)
  const link = await invited('bob@example.test')
  const token = link.split('token=')[1]!
  for (const url of [`/invitation?token=${token[0] === 'A' ? 'B' : 'A'}${token.slice(1)}`, '/invitation', '/invitation?token=', `/invitation?token=${token}&token=${token}`]) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 400, url)
    t.match(res.headers['content-type'], /text\/html/)
    if (!url.includes('&token=')) t.match(res.body, 'This invitation link does not work', url)
  }
  const browser = new InjectBrowser(app)
  const page = await browser.get(link)
  const noCsrf = await browser.post('/invitation', { token, username: 'bob', password: CHOSEN })
  t.equal(noCsrf.statusCode, 403, 'no CSRF field')
  const forged = await browser.post('/invitation', { csrf: field(page.body, 'csrf'), token: token.replace(/.$/, (c) => c === 'a' ? 'b' : 'a'), username: 'bob', password: CHOSEN })
  t.equal(forged.statusCode, 400, 'another token in the form')

  clock.advance(7 * 86400)
  const late = await submit(browser, await invited('carol@example.test'), { username: 'carol', password: CHOSEN })
  t.equal(late.statusCode, 303, 'a fresh one works')
  t.equal((await app.inject({ url: link })).statusCode, 400, 'after 7 days')

  const dave = await invited('dave@example.test')
  const davePage = await browser.get(dave)
  await app.storage.users.create({ username: 'dave', passwordHash: null, email: 'Dave@example.test' })
  const taken = await app.inject({ url: dave })
  t.equal(taken.statusCode, 400, 'the address belongs to a user now')
  t.match(taken.body, 'An account with this e-mail address exists already')
  const post = await browser.post('/invitation', { csrf: field(davePage.body, 'csrf'), token: dave.split('token=')[1]!, username: 'dave2', password: CHOSEN })
  t.equal(post.statusCode, 409, 'posted anyway: the error page')
  t.equal(await app.storage.users.findByUsername('bob'), undefined)
  t.equal(await app.storage.users.findByUsername('dave2'), undefined)
})

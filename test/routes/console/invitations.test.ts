import t, { type Test } from 'tap'
import { addUser, ISSUER } from '../../support/helper.js'
import { field, InjectBrowser, signedInAdmin } from '../../support/console.js'
import { startSmtp } from '../../support/smtp.js'

// The console's invitations page (routes/console/invitations.ts): invite, refusals on the page, revoke; the rules are
// lib/admin/invitations.ts's (shared with POST /admin/invitations), the messages read at a real SMTP server. Runs on
// SQLite, and on PostgreSQL (test/postgres/list.ts).

const LINK = new RegExp(`${ISSUER.replace(/\./g, '\\.')}(/invitation\\?token=[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])`)

async function setup (t: Test) {
  const smtp = await startSmtp(t)
  const signedIn = await signedInAdmin(t, 'root password 1', { SMTP_URL: smtp.url })
  /** The link of the n-th message at the SMTP server (a path on this server). */
  const mailedLink = async (n: number): Promise<string> => {
    await signedIn.app.mail.run()
    const message = (await smtp.waitFor(n))[n - 1]!
    const link = LINK.exec(message.text ?? '')?.[1]
    if (link === undefined) throw new Error(`no link in ${message.text}`)
    return link
  }
  return { ...signedIn, smtp, mailedLink }
}

t.test('invite: the message arrives, the page lists the invitation; invitation_sent and admin_change name root and the invitation', async (t) => {
  const { app, browser, events, csrf, smtp, mailedLink } = await setup(t)
  const empty = await browser.get('/console/invitations')
  t.equal(empty.statusCode, 200)
  t.match(empty.body, /No pending invitations/)
  t.match(empty.body, /<a href="\/console\/invitations" aria-current="page">Invitations<\/a>/, 'the nav link, current')
  t.match(empty.body, /<label for="email">/)

  const res = await browser.post('/console/invitations', { csrf, email: ' bob@example.test ', scope: 'items:read' })
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, '/console/invitations?done=invited')
  const link = await mailedLink(1)
  const message = smtp.messages[0]!
  t.same(message.to && 'value' in message.to ? message.to.value.map((a) => a.address) : [], ['bob@example.test'])
  t.equal((await app.inject({ url: link })).statusCode, 200, 'the mailed link opens the invitation form')

  const page = await browser.get('/console/invitations?done=invited')
  t.match(page.body, /role="status">Invitation sent/)
  t.match(page.body, /<td>bob@example\.test<\/td>/)
  t.match(page.body, /<code>items:read<\/code>/)
  t.notOk(page.body.includes(link.split('=')[1]!), 'the page never holds the token')
  const [pending] = await app.storage.accountLinks.listPending('invitation', app.clock.now(), 10)
  t.equal(pending?.scope, 'items:read')
  t.match(page.body, `action="/console/invitations/${pending!.id}/revoke"`)

  const sent = events.filter((e) => e.type === 'invitation_sent')
  t.same(sent, [{ type: 'invitation_sent', actor: 'root', invitationId: pending!.id }])
  t.same(events.filter((e) => e.type === 'admin_change'), [{ type: 'admin_change', actor: 'root', action: 'POST /console/invitations', target: pending!.id, fields: ['email', 'scope'] }])
})

t.test('refused: a bad address or scope, a user\'s address, the sixth message in an hour: the message on the page, nothing sent', async (t) => {
  const { app, browser, events, csrf, smtp, mailedLink } = await setup(t)
  await addUser(app, 'plain', 'pw', { email: 'plain@example.test' })
  const refused = async (fields: Record<string, string>, status: number, message: string, label: string) => {
    const res = await browser.post('/console/invitations', { csrf, ...fields })
    t.equal(res.statusCode, status, label)
    t.match(res.headers['content-type'], /text\/html/, label)
    t.equal(/<p class="alert" role="alert" id="problem">([^<]*)<\/p>/.exec(res.body)?.[1], message, `${label}: the rule's message, as an alert`)
    return res
  }
  const bad = await refused({ email: 'not-an-email' }, 400, 'email: not an email address', 'a bad address')
  t.match(bad.body, /value="not-an-email"/, 'the form keeps what was typed')
  await refused({ email: 'a@b.test', scope: 'a\\b' }, 400, 'scope: not a space-separated list of scope tokens', 'a bad scope')
  await refused({ email: 'PLAIN@example.test' }, 409, 'a user has this e-mail', 'a user has the address')
  await refused({}, 400, 'email: not an email address', 'no address')
  await app.mail.run()
  t.equal(smtp.messages.length, 0, 'nothing sent')
  t.same(await app.storage.accountLinks.listPending('invitation', app.clock.now(), 10), [], 'no invitation made')

  for (let i = 0; i < 5; i++) t.equal((await browser.post('/console/invitations', { csrf, email: 'carol@example.test' })).statusCode, 303, `message ${i + 1}`)
  await mailedLink(5)
  const limited = await refused({ email: 'Carol@example.test' }, 429, 'this address was sent too many messages in the last hour; try again later', 'the sixth in an hour')
  t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After')
  await app.mail.run()
  t.equal(smtp.messages.length, 5, 'the sixth was not sent')
  t.equal(events.filter((e) => e.type === 'admin_change').length, 5, 'refusals are not changes')
})

t.test('revoke: the link stops working; admin_change names the invitation; an unknown one is 404', async (t) => {
  const { app, browser, events, csrf, mailedLink } = await setup(t)
  t.equal((await browser.post('/console/invitations', { csrf, email: 'dan@example.test' })).statusCode, 303)
  const link = await mailedLink(1)
  const [pending] = await app.storage.accountLinks.listPending('invitation', app.clock.now(), 10)
  const res = await browser.post(`/console/invitations/${pending!.id}/revoke`, { csrf })
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, '/console/invitations?done=revoked')
  const page = await browser.get('/console/invitations?done=revoked')
  t.match(page.body, /role="status">Invitation revoked/)
  t.match(page.body, /No pending invitations/)
  t.equal((await app.inject({ url: link })).statusCode, 400, 'the revoked link is an error page')
  t.match(events.filter((e) => e.type === 'admin_change').at(-1), { actor: 'root', action: 'POST /console/invitations/:id/revoke', target: pending!.id })

  const again = await browser.post(`/console/invitations/${pending!.id}/revoke`, { csrf })
  t.equal(again.statusCode, 404, 'twice')
  t.match(again.body, /no pending invitation with this id/)
  t.equal(events.filter((e) => e.type === 'admin_change').length, 2, 'the refused revoke is not a change')
})

t.test('without the CSRF field, or without a console session, nothing is sent or revoked', async (t) => {
  const { app, browser, csrf, smtp } = await setup(t)
  t.equal((await browser.post('/console/invitations', { email: 'eve@example.test' })).statusCode, 403, 'no CSRF field')
  t.equal((await browser.post('/console/invitations', { email: 'eve@example.test', csrf: 'A'.repeat(43) })).statusCode, 403, 'another CSRF field')
  await app.mail.run()
  t.equal(smtp.messages.length, 0)
  t.equal((await browser.post('/console/invitations', { csrf, email: 'fay@example.test' })).statusCode, 303)
  const [pending] = await app.storage.accountLinks.listPending('invitation', app.clock.now(), 10)
  t.equal((await browser.post(`/console/invitations/${pending!.id}/revoke`, {})).statusCode, 403, 'revoke without CSRF')
  const stranger = new InjectBrowser(app)
  t.equal((await stranger.get('/console/invitations')).statusCode, 303, 'the page starts a sign-in')
  const login = await stranger.get('/login')
  t.equal((await stranger.post(`/console/invitations/${pending!.id}/revoke`, { csrf: field(login.body, 'csrf') })).statusCode, 403, 'no session')
  t.equal((await app.storage.accountLinks.listPending('invitation', app.clock.now(), 10)).length, 1, 'still pending')
})

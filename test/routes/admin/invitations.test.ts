import t, { type Test } from 'tap'
import { addUser, ISSUER, post } from '../../support/helper.js'
import { assertJsonLines, buildLogged } from '../../support/security.js'
import { startSmtp } from '../../support/smtp.js'

// /admin/invitations: invite, list, revoke, through app.inject, the messages read at a real SMTP server. The page the
// link opens: test/routes/browser/invitation.test.ts; the rules alone: test/lib/accounts/invitations.test.ts.

const LINK = new RegExp(`${ISSUER.replace(/\./g, '\\.')}/invitation\\?token=[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])`)

async function setup (t: Test) {
  const smtp = await startSmtp(t)
  const { app, lines } = await buildLogged(t, { SMTP_URL: smtp.url, ACCESS_LOG: 'off', LOG_LEVEL: 'info' })
  await addUser(app, 'root', 'pw', { scope: 'admin' })
  await addUser(app, 'plain', 'pw', { scope: 'read', email: 'plain@example.test' })
  const token = async (username: string) => (await post(app, '/token', { grant_type: 'password', username, password: 'pw' })).json().access_token as string
  const admin = { authorization: `Bearer ${await token('root')}` }
  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object, headers: Record<string, string> = admin) =>
    app.inject({ method, url, headers, ...(payload ? { payload } : {}) })
  /** The link of the newest message at the SMTP server, found whole in its text part. */
  const mailedLink = async (n: number): Promise<string> => {
    await app.mail.run()
    const message = (await smtp.waitFor(n))[n - 1]!
    const link = LINK.exec(message.text ?? '')?.[0]
    if (link === undefined) throw new Error(`no whole link in ${message.text}`)
    return link.slice(ISSUER.length)
  }
  return { app, smtp, lines, call, token, mailedLink }
}

t.test('invite, list, revoke: the token only in the message, whole in its text part; a revoked link is an error page', async (t) => {
  const { app, smtp, lines, call, mailedLink } = await setup(t)
  const created = await call('POST', '/admin/invitations', { email: 'bob@example.test', scope: 'items:read' })
  t.equal(created.statusCode, 201)
  const bob = created.json()
  t.same(Object.keys(bob).sort(), ['created_at', 'email', 'expires_at', 'id', 'scope'])
  t.match(bob, { email: 'bob@example.test', scope: 'items:read' })
  t.equal(bob.expires_at - bob.created_at, 7 * 86400, '7 days')
  const bobLink = await mailedLink(1)
  const message = smtp.messages[0]!
  t.same(message.to && 'value' in message.to ? message.to.value.map((a) => a.address) : [], ['bob@example.test'])
  t.match(message.subject, /invited/)
  t.match(message.html, `href="${ISSUER}${bobLink.replace(/&/g, '&amp;')}"`, 'the HTML part links the same')
  t.notOk(created.body.includes(bobLink.split('=')[1]!), 'the reply never holds the token')

  const carol = (await call('POST', '/admin/invitations', { email: 'carol@example.test' })).json()
  t.equal(carol.scope, '', 'no scope: none')
  const listed = await call('GET', '/admin/invitations')
  t.equal(listed.statusCode, 200)
  t.same(listed.json().map((i: { email: string }) => i.email).sort(), ['bob@example.test', 'carol@example.test'])
  t.notOk(listed.body.includes(bobLink.split('=')[1]!), 'the list never holds a token')

  t.equal((await app.inject({ url: bobLink })).statusCode, 200, 'the link opens the form')
  const revoked = await call('DELETE', `/admin/invitations/${bob.id}`)
  t.equal(revoked.statusCode, 204)
  t.equal(revoked.body, '')
  const page = await app.inject({ url: bobLink })
  t.equal(page.statusCode, 400, 'a revoked link')
  t.match(page.headers['content-type'], /text\/html/)
  t.match(page.body, 'This invitation link does not work')
  t.same((await call('GET', '/admin/invitations')).json().map((i: { id: string }) => i.id), [carol.id])
  t.equal((await call('DELETE', `/admin/invitations/${bob.id}`)).statusCode, 404, 'twice')
  t.match((await call('DELETE', '/admin/invitations/nope')).json(), { error: 'not_found' })

  const events = assertJsonLines(t, lines()).filter((e) => typeof e.event === 'string')
  const sent = events.filter((e) => e.event === 'invitation_sent')
  t.same(sent.map((e) => [e.actor, e.invitationId]), [['root', bob.id], ['root', carol.id]], 'who sent which invitation')
  t.match(events.filter((e) => e.event === 'admin_change').map((e) => e.action), ['POST /admin/invitations', 'POST /admin/invitations', 'DELETE /admin/invitations/:id'])
  const log = lines().join('\n')
  t.notOk(log.includes('bob@example.test'), 'no address in the log')
  t.notOk(log.includes(bobLink.split('=')[1]!), 'no token in the log')
})

t.test('refusals: a bad e-mail or scope, unknown fields, a user\'s address, no admin token; nothing is sent', async (t) => {
  const { app, smtp, call, token } = await setup(t)
  const refused = async (payload: object, status: number, error: string, label: string) => {
    const res = await call('POST', '/admin/invitations', payload)
    t.equal(res.statusCode, status, label)
    t.equal(res.json().error, error, label)
    return res
  }
  await refused({ email: 'not-an-email' }, 400, 'invalid_request', 'a bad e-mail')
  await refused({ email: 'a@b.test\r\nBcc: x@y.test' }, 400, 'invalid_request', 'header injection')
  await refused({ email: 'a@b.test', scope: 'a\\b' }, 400, 'invalid_request', 'a bad scope')
  await refused({ email: 'a@b.test', role: 'admin' }, 400, 'invalid_request', 'an unknown field')
  await refused({}, 400, 'invalid_request', 'no e-mail')
  const taken = await refused({ email: 'PLAIN@example.test' }, 409, 'conflict', 'a user has this e-mail')
  t.match(taken.json().error_description, 'a user has this e-mail')
  t.equal((await call('POST', '/admin/invitations', { email: 'a@b.test' }, {})).statusCode, 401, 'no token')
  const plain = { authorization: `Bearer ${await token('plain')}` }
  t.equal((await call('POST', '/admin/invitations', { email: 'a@b.test' }, plain)).statusCode, 403, 'no admin scope')
  t.equal((await call('GET', '/admin/invitations', undefined, plain)).statusCode, 403)
  t.equal((await call('DELETE', '/admin/invitations/x', undefined, plain)).statusCode, 403)
  t.same((await call('GET', '/admin/invitations')).json(), [], 'no invitation made')
  await app.mail.run()
  t.equal(smtp.messages.length, 0, 'nothing sent')
})

t.test('a newer invitation to an address replaces the pending one; an address is sent at most 5 messages an hour', async (t) => {
  const { app, call, mailedLink } = await setup(t)
  const first = (await call('POST', '/admin/invitations', { email: 'bob@example.test' })).json()
  const firstLink = await mailedLink(1)
  const second = (await call('POST', '/admin/invitations', { email: 'bob@example.test' })).json()
  const secondLink = await mailedLink(2)
  t.same((await call('GET', '/admin/invitations')).json().map((i: { id: string }) => i.id), [second.id])
  t.not(first.id, second.id)
  t.equal((await app.inject({ url: firstLink })).statusCode, 400, 'the older link stops working')
  t.equal((await app.inject({ url: secondLink })).statusCode, 200)
  for (let i = 0; i < 3; i++) t.equal((await call('POST', '/admin/invitations', { email: 'bob@example.test' })).statusCode, 201)
  const limited = await call('POST', '/admin/invitations', { email: 'Bob@example.test' })
  t.equal(limited.statusCode, 429, 'the sixth in an hour')
  t.match(limited.json(), { error: 'too_many_requests' })
  t.ok(Number(limited.headers['retry-after']) > 0)
  t.equal((await call('POST', '/admin/invitations', { email: 'carol@example.test' })).statusCode, 201, 'another address is not held up')
})

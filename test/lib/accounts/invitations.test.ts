import t, { type Test } from 'tap'
import { acceptInvitation, choiceProblem, invite, toInvitationView } from '../../../lib/accounts/invitations.js'
import { createPasswordHasher } from '../../../lib/credentials/passwords.js'
import { openStorage } from '../../../lib/stores/index.js'
import { tempDatabaseUrl } from '../../support/helper.js'

// The invitation rules against a real SQLite store, no app and no mail server: `send` records what would be queued
// (the page, the API and the CLI over real SMTP: test/routes/admin/invitations.test.ts, test/routes/browser/
// invitation.test.ts, test/e2e/invitation.test.ts, test/cli/invitations.test.ts).

const now = 1_800_000_000

async function setup (t: Test) {
  const storage = await openStorage(tempDatabaseUrl(t))
  t.teardown(() => storage.close())
  await storage.users.create({ username: 'alice', passwordHash: null, email: 'Alice@Example.test' })
  const sent: Array<{ kind: string, to: string, token: string }> = []
  const send = async (kind: string, to: string, data: Record<string, unknown> = {}) => { sent.push({ kind, to, token: String(data.token) }); return 'id' }
  const passwords = await createPasswordHasher({ memoryCost: 64, timeCost: 1, parallelism: 1 })
  return { storage, sent, send, passwords }
}

t.test('invite: the message carries the token, the view never; a user\'s address, a bad address or scope is refused', async (t) => {
  const { storage, sent, send } = await setup(t)
  const link = await invite({ storage, send, now }, { email: 'bob@example.test', scope: 'b a a' })
  t.same(sent.map((s) => [s.kind, s.to]), [['invitation', 'bob@example.test']])
  t.same(toInvitationView(link), { id: link.id, email: 'bob@example.test', scope: 'b a', created_at: now, expires_at: now + 7 * 86400 })
  t.notOk(JSON.stringify(toInvitationView(link)).includes(sent[0]!.token), 'no token in the view')
  await t.rejects(invite({ storage, send, now }, { email: 'alice@example.TEST' }), { statusCode: 409, message: 'a user has this e-mail' }, 'case-insensitively')
  await t.rejects(invite({ storage, send, now }, { email: 'not-an-address' }), { statusCode: 400, message: /email/ })
  await t.rejects(invite({ storage, send, now }, { email: 'a@b.test, c@d.test' }), { statusCode: 400, message: /email/ }, 'one address only')
  await t.rejects(invite({ storage, send, now }, { email: 'c@example.test', scope: 'a "b"' }), { statusCode: 400, message: /scope/ })
  t.equal(sent.length, 1, 'nothing sent for a refusal')
})

t.test('a newer invitation to the same address replaces the pending one; a message that cannot be queued leaves the older one', async (t) => {
  const { storage, sent, send } = await setup(t)
  const first = await invite({ storage, send, now }, { email: 'bob@example.test' })
  const other = await invite({ storage, send, now }, { email: 'carol@example.test' })
  const second = await invite({ storage, send, now: now + 1 }, { email: 'BOB@example.test' })
  t.same((await storage.accountLinks.listPending('invitation', now + 2, 10)).map((l) => l.id), [second.id, other.id])
  const failing = async () => { throw new Error('outbox full') }
  await t.rejects(invite({ storage, send: failing, now: now + 2 }, { email: 'bob@example.test' }), /outbox full/)
  t.same((await storage.accountLinks.listPending('invitation', now + 3, 10)).map((l) => l.id), [second.id, other.id], 'the failed one withdrawn, the pending one kept')
  t.equal(sent.length, 3)
  t.not(first.id, second.id)
})

t.test('choiceProblem: the username rule and a taken one, the password rules, the confirmation, the full name', async (t) => {
  const { storage } = await setup(t)
  const good = { username: 'bob', password: 'a long enough passphrase' }
  const problem = (over: object) => choiceProblem(storage, { ...good, ...over }, 'bob@example.test')
  t.equal(await problem({}), undefined)
  t.match(await problem({ username: 'Bob' }), /lowercase/)
  t.match(await problem({ username: '' }), /lowercase/)
  t.match(await problem({ username: 'alice' }), /taken/)
  t.match(await problem({ password: 'short' }), /at least 8/)
  t.match(await problem({ password: 'password1' }), /too common/)
  t.match(await problem({ password: 'bob@example.test' }), /not your username or e-mail/)
  t.match(await problem({ passwordConfirmation: 'another long passphrase' }), /differ/)
  t.equal(await problem({ passwordConfirmation: good.password }), undefined)
  t.match(await problem({ fullName: 'x'.repeat(257) }), /256/)
})

t.test('acceptInvitation: one account per link, the address verified, the invitation\'s scopes; a taken address or username uses the link up', async (t) => {
  const { storage, sent, send, passwords } = await setup(t)
  await invite({ storage, send, now }, { email: 'bob@example.test', scope: 'items:read' })
  const token = sent[0]!.token
  const choice = { username: 'bob', password: 'a long enough passphrase', fullName: '  Bob B ' }
  const [a, b] = await Promise.all([acceptInvitation({ storage, passwords, now }, token, choice), acceptInvitation({ storage, passwords, now }, token, { ...choice, username: 'bob2' })])
  const made = [a, b].filter((o) => 'user' in o)
  t.equal(made.length, 1, 'of two posts at once, one makes an account')
  t.same([a, b].filter((o) => 'refused' in o), [{ refused: 'link' }])
  const user = 'user' in made[0]! ? made[0].user : undefined
  t.match(user, { email: 'bob@example.test', emailVerified: true, scope: 'items:read', fullName: 'Bob B' })
  t.ok((await passwords.verify(user!.passwordHash, choice.password)).ok, 'the chosen password')

  await invite({ storage, send, now }, { email: 'carol@example.test' })
  await storage.users.create({ username: 'carol', passwordHash: null, email: 'carol@example.test' })
  t.same(await acceptInvitation({ storage, passwords, now }, sent[1]!.token, { ...choice, username: 'carol2' }), { refused: 'email_taken' })
  await invite({ storage, send, now }, { email: 'dave@example.test' })
  t.same(await acceptInvitation({ storage, passwords, now }, sent[2]!.token, { ...choice, username: 'alice' }), { refused: 'username_taken' })
  t.same(await acceptInvitation({ storage, passwords, now }, sent[2]!.token, { ...choice, username: 'dave' }), { refused: 'link' }, 'used up')
  await invite({ storage, send, now }, { email: 'erin@example.test' })
  t.match(await acceptInvitation({ storage, passwords, now }, sent[3]!.token, { ...choice, username: 'erin', fullName: undefined }), { user: { scope: '', fullName: null } }, 'no scope: none')
  t.same(await acceptInvitation({ storage, passwords, now: now + 7 * 86400 }, sent[0]!.token, choice), { refused: 'link' })
})

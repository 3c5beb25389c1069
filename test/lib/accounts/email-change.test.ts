import t, { type Test } from 'tap'
import { askEmailChange, confirmEmailChange, emailProblem, pendingEmailChange } from '../../../lib/accounts/email-change.js'
import { EMAIL_MESSAGES } from '../../../lib/accounts/limits.js'
import { MemoryCounterStore, Throttle } from '../../../lib/limits/throttle.js'
import { openStorage } from '../../../lib/stores/index.js'
import { tempDatabaseUrl } from '../../support/helper.js'

// The e-mail change rules (U6) against a real SQLite store, no app: what is sent to whom (the messages as handed to
// the mailer; the SMTP side is test/security/u-account-page.test.ts), what changes and when.

const now = 1_800_000_000

async function setup (t: Test) {
  const storage = await openStorage(tempDatabaseUrl(t))
  t.teardown(() => storage.close())
  const counters = new MemoryCounterStore()
  t.teardown(() => counters.close())
  const sent: Array<{ kind: string, to: string, data: Record<string, unknown> }> = []
  const send = async (kind: string, to: string, data: Record<string, unknown> = {}) => { sent.push({ kind, to, data }); return String(sent.length) }
  const user = await storage.users.create({ username: 'alice', passwordHash: null, email: 'alice@example.test', emailVerified: true })
  return { storage, sent, deps: { storage, send, throttle: new Throttle(counters) }, user }
}

t.test('addresses: the store\'s rule and the mailer\'s both hold', async (t) => {
  t.equal(emailProblem('alice@example.test'), undefined)
  for (const bad of ['', 'alice', 'a b@example.test', 'a@b@c', 'a@example.test\r\nBcc: x@y', `${'x'.repeat(65)}@example.test`, 'a@example.test.']) t.ok(emailProblem(bad), JSON.stringify(bad))
})

t.test('asking sends a link to the new address and a note to the old one; nothing changes until the link is followed', async (t) => {
  const { deps, sent, storage, user } = await setup(t)
  t.same(await askEmailChange(deps, user, { email: ' new@example.test ', addressKey: 'a', now }), { outcome: 'sent', email: 'new@example.test' })
  t.same(sent.map((m) => [m.kind, m.to]), [['change-email', 'new@example.test'], ['email-change-requested', 'alice@example.test']])
  t.match(sent[1]?.data, { email: 'new@example.test' })
  t.notOk('token' in (sent[1]?.data ?? {}), 'the old address gets no link')
  t.equal(await pendingEmailChange(storage, user, now), 'new@example.test')
  t.match(await storage.users.findById(user.id), { email: 'alice@example.test', emailVerified: true }, 'unchanged')

  const result = await confirmEmailChange(deps, sent[0]?.data.token, now + 60)
  t.match(result, { outcome: 'changed', user: { email: 'new@example.test', emailVerified: true } })
  t.same(sent.slice(2).map((m) => [m.kind, m.to]), [['email-changed', 'alice@example.test']], 'the old address is told it happened')
  t.equal(await pendingEmailChange(storage, user, now), undefined)
  t.equal(await confirmEmailChange(deps, sent[0]?.data.token, now + 61), undefined, 'once')
})

t.test('refused: the same address, a bad one; throttled past the per-inbox limit (nothing sent)', async (t) => {
  const { deps, sent, user } = await setup(t)
  t.match(await askEmailChange(deps, user, { email: 'ALICE@example.test', addressKey: 'a', now }), { outcome: 'refused', message: /already/ })
  t.match(await askEmailChange(deps, user, { email: 'nope', addressKey: 'a', now }), { outcome: 'refused' })
  t.equal(sent.length, 0)
  for (let i = 0; i < EMAIL_MESSAGES.max; i++) t.match(await askEmailChange(deps, user, { email: 'new@example.test', addressKey: `a${i}`, now }), { outcome: 'sent' })
  const count = sent.length
  t.match(await askEmailChange(deps, user, { email: 'NEW@example.test', addressKey: 'other', now }), { outcome: 'throttled', retryAfter: Number })
  t.equal(sent.length, count, 'nothing sent')
})

t.test('a link for a user since disabled or deleted, or an address another user took, changes nothing', async (t) => {
  const { deps, sent, storage, user } = await setup(t)
  await askEmailChange(deps, user, { email: 'one@example.test', addressKey: 'a', now })
  await storage.users.update('alice', { disabled: true })
  t.equal(await confirmEmailChange(deps, sent[0]?.data.token, now), undefined, 'disabled')
  await storage.users.update('alice', { disabled: false })
  await askEmailChange(deps, user, { email: 'two@example.test', addressKey: 'a', now })
  await storage.users.create({ username: 'bob', passwordHash: null, email: 'TWO@example.test' })
  t.same(await confirmEmailChange(deps, sent[2]?.data.token, now), { outcome: 'taken' })
  t.equal((await storage.users.findById(user.id))?.email, 'alice@example.test')
  await askEmailChange(deps, user, { email: 'three@example.test', addressKey: 'a', now })
  await storage.users.delete('alice')
  t.equal(await confirmEmailChange(deps, sent[4]?.data.token, now), undefined, 'deleted (its links went with it)')
})

import t, { type Test } from 'tap'
import { answerResetRequest, openReset, resetPassword, sendPasswordReset } from '../../../lib/accounts/password-reset.js'
import { adminPasswordReset } from '../../../lib/admin/password-reset.js'
import { loadConfig } from '../../../lib/config.js'
import { argon2Params, createPasswordHasher } from '../../../lib/credentials/passwords.js'
import type { SecurityEvent } from '../../../lib/ops/events.js'
import { openStorage } from '../../../lib/stores/index.js'
import { FAST_HASH, ISSUER, manualClock, tempDatabaseUrl } from '../../support/helper.js'

// The forgotten-password rules against a real SQLite store, no app: who is sent a link, what a link opens, what a
// reset changes. `send` records what would be queued (the pages' tests read the real messages at an SMTP server).

const RETURN_TO = '/authorize?client_id=web&response_type=code'

async function setup (t: Test) {
  const clock = manualClock()
  const config = loadConfig({ ISSUER, ...FAST_HASH })
  const storage = await openStorage(tempDatabaseUrl(t), clock)
  t.teardown(() => storage.close())
  const passwords = await createPasswordHasher(argon2Params(config), 1)
  const sent: Array<{ kind: string, to: string, data: Record<string, unknown> }> = []
  const events: SecurityEvent[] = []
  const deps = {
    storage,
    send: async (kind: string, to: string, data: Record<string, unknown> = {}) => { sent.push({ kind, to, data }); return String(sent.length) },
    events: { emit: (event: SecurityEvent) => { events.push(event) } }
  }
  const add = (username: string, email: string | null, disabled = false) =>
    storage.users.create({ username, passwordHash: null, email, disabled })
  return { clock, config, storage, passwords, sent, events, deps, add, admin: { storage, passwords, clock, config } }
}

t.test('a request reaches every enabled account with the address (any case), at the address it holds; an unknown one nothing', async (t) => {
  const { deps, sent, events, add, clock } = await setup(t)
  const bob = await add('bob', 'Shared@example.test')
  const carol = await add('carol', 'shared@example.test')
  await add('dave', 'shared@example.test', true)
  t.equal(await answerResetRequest(deps, { email: 'SHARED@example.test', ip: '192.0.2.1' }, clock.now()), 2)
  t.same(sent.map((m) => [m.kind, m.to, m.data.username]).sort(), [['reset-password', 'Shared@example.test', 'bob'], ['reset-password', 'shared@example.test', 'carol']])
  t.ok(sent.every((m) => typeof m.data.token === 'string'))
  t.same(events, [bob, carol].map((u) => ({ type: 'password_reset_requested', userId: u.id, ip: '192.0.2.1' })))
  t.equal(await answerResetRequest(deps, { email: 'nobody@example.test', ip: '192.0.2.1' }, clock.now()), 0)
  t.equal(sent.length, 2)
})

t.test('a link opens for its user until it expires, and only while the user keeps its address and is enabled', async (t) => {
  const { deps, sent, add, clock, storage } = await setup(t)
  const alice = await add('alice', 'alice@example.test')
  await sendPasswordReset(deps, alice, { now: clock.now(), ip: '-', returnTo: RETURN_TO })
  const token = sent[0]!.data.token
  t.match(await openReset(storage, token, clock.now()), { user: { id: alice.id }, returnTo: RETURN_TO })
  await storage.users.update('alice', { disabled: true })
  t.equal(await openReset(storage, token, clock.now()), undefined, 'disabled')
  await storage.users.update('alice', { disabled: false, email: 'new@example.test' })
  t.equal(await openReset(storage, token, clock.now()), undefined, 'the address changed since')
  await storage.users.update('alice', { email: 'ALICE@example.test' })
  t.ok(await openReset(storage, token, clock.now()), 'the same address in another case')
  clock.advance(30 * 60)
  t.equal(await openReset(storage, token, clock.now()), undefined, 'expired after 30 minutes')
})

t.test('a return_to that is not an /authorize request is never carried', async (t) => {
  const { deps, sent, add, clock, storage } = await setup(t)
  const alice = await add('alice', 'alice@example.test')
  for (const returnTo of ['https://evil.test/', '//evil.test/authorize?x', '/authorize#x']) {
    await sendPasswordReset(deps, alice, { now: clock.now(), ip: '-', returnTo })
    const opened = await openReset(storage, sent.at(-1)!.data.token, clock.now())
    t.equal(opened?.returnTo, undefined, returnTo)
    t.equal(opened?.link.data, null)
  }
})

t.test('a refused password leaves the link; a reset sets the hash, moves the credential version on, verifies the address, once', async (t) => {
  const { deps, sent, add, clock, storage, passwords, admin } = await setup(t)
  const alice = await add('alice', 'alice@example.test')
  await sendPasswordReset(deps, alice, { now: clock.now(), ip: '-' })
  const token = sent[0]!.data.token
  t.match(await resetPassword(admin, { token, password: 'alice', now: clock.now() }), { result: 'refused', problem: /at least 8/ })
  t.match(await resetPassword(admin, { token, password: 'alice@example.test', now: clock.now() }), { result: 'refused', problem: /username or e-mail/ })
  const changed = await resetPassword(admin, { token, password: 'a lighthouse keeper in winter', now: clock.now() })
  t.equal(changed.result, 'changed')
  const after = (await storage.users.findById(alice.id))!
  t.equal(after.credentialVersion, alice.credentialVersion + 1, 'every token issued before is refused')
  t.equal(after.emailVerified, true)
  t.equal((await passwords.verify(after.passwordHash, 'a lighthouse keeper in winter')).ok, true)
  t.same(await resetPassword(admin, { token, password: 'another lighthouse keeper', now: clock.now() }), { result: 'bad_link' }, 'once')
})

t.test('admin: an unknown user is not_found; one without an address, or disabled, a conflict; otherwise where and until when', async (t) => {
  const { deps, sent, add, clock } = await setup(t)
  await add('alice', 'alice@example.test')
  await add('nomail', null)
  await add('off', 'off@example.test', true)
  t.same(await adminPasswordReset(deps, 'alice', { now: clock.now(), ip: '-' }), { email: 'alice@example.test', expires_at: clock.now() + 1800 })
  const refusal = (username: string) => adminPasswordReset(deps, username, { now: clock.now(), ip: '-' }).then(() => undefined, (err: { error: string, statusCode: number, message: string }) => [err.error, err.statusCode, err.message])
  t.match(await refusal('nobody'), ['not_found', 404, /no user nobody/])
  t.match(await refusal('nomail'), ['conflict', 409, /no e-mail address/])
  t.match(await refusal('off'), ['conflict', 409, /disabled/])
  t.equal(sent.length, 1)
})

import t, { type Test } from 'tap'
import { newSecret } from '../../../lib/browser/cookies.js'
import { BrowserSessions } from '../../../lib/browser/sessions.js'
import { PASSWORD_SIGN_IN, upstreamSignIn } from '../../../lib/oauth/sign-in-methods.js'
import { openStorage } from '../../../lib/stores/index.js'
import type { User } from '../../../lib/stores/types.js'
import { freshDatabase, manualClock } from '../../support/helper.js'

// BrowserSessions against a real store (SQLite here; PostgreSQL with GATEHOUSE_TEST_BACKEND=postgres), no app.

async function setup (t: Test) {
  const database = await freshDatabase(t)
  const clock = manualClock()
  const storage = await openStorage(database.url, clock)
  t.teardown(async () => {
    await storage.close()
    await database.drop()
  })
  const sessions = new BrowserSessions({ storage, clock, config: { sessionTtl: 3600 } })
  const alice = await storage.users.create({ username: 'alice', passwordHash: null })
  /** A password sign-in that must start a session. */
  const start = async (user: User, previous?: string) => {
    const started = await sessions.start(user, PASSWORD_SIGN_IN, previous)
    if (!started) throw new Error('no session started')
    return started
  }
  return { storage, clock, sessions, alice, start }
}

t.test('a started session is found by its cookie, with its user; the store keeps only a digest', async (t) => {
  const { storage, clock, sessions, alice, start } = await setup(t)
  const { cookie, session } = await start(alice)
  t.match(cookie, /^[A-Za-z0-9_-]{43}$/)
  t.match(await sessions.current(cookie), { session: { userId: alice.id, authTime: clock.now() }, user: { id: alice.id } })
  t.not(session.idHash, cookie, 'not the cookie itself')
  t.equal(await storage.sessions.find(cookie, clock.now()), undefined, 'the cookie is not a key of the store')
  t.equal(await sessions.current(newSecret()), undefined, 'another value: nobody')
  t.equal(await sessions.current('short'), undefined, 'a malformed value: nobody')
  t.equal(await sessions.current(undefined), undefined)
})

t.test('a sign-in ends the session it replaces (no fixation); end() ends one; expiry and a disabled user end it too', async (t) => {
  const { storage, clock, sessions, alice, start } = await setup(t)
  const first = await start(alice)
  const second = await start(alice, first.cookie)
  t.equal(await sessions.current(first.cookie), undefined, 'the previous id is dead')
  t.ok(await sessions.current(second.cookie))
  await sessions.end(second.cookie)
  t.equal(await sessions.current(second.cookie), undefined, 'ended')

  const third = await start(alice)
  clock.advance(3599)
  t.ok(await sessions.current(third.cookie), 'within its ttl')
  clock.advance(1)
  t.equal(await sessions.current(third.cookie), undefined, 'expired at its ttl')

  const fourth = await start(alice)
  await storage.users.update('alice', { disabled: true })
  t.equal(await sessions.current(fourth.cookie), undefined, 'a disabled user is nobody')
})

t.test('22.1: a session carries the credential version read before the sign-in; none starts from a stale read', async (t) => {
  const { storage, clock, sessions, alice, start } = await setup(t)
  const { session } = await start(alice)
  t.match(session, { credentialVersion: 0, provider: null, amr: ['pwd'] }, 'the password form')
  t.match(await storage.sessions.find(session.idHash, clock.now()), { credentialVersion: 0, provider: null, amr: ['pwd'] })
  await storage.users.update('alice', { passwordHash: 'changed' })
  t.equal(await sessions.start(alice, PASSWORD_SIGN_IN, undefined), undefined, 'alice as read before the change: no session')
  const now = await storage.users.findById(alice.id)
  const upstream = await sessions.start(now!, upstreamSignIn('corp', ['mfa', 'x\u0000', 7]), undefined)
  t.match(upstream?.session, { credentialVersion: 1, provider: 'corp', amr: ['mfa'] }, 'through a provider: its name and its (well-formed) amr')
})

t.test('22.1: a stale session is ended at its first use: after a password change, after a disable (also once re-enabled)', async (t) => {
  const { storage, sessions, alice, start } = await setup(t)
  // The changes go straight to the store (no deleteForUser), as a session left behind by a change would be.
  const changes: Array<[string, () => Promise<unknown>]> = [
    ['a password change', () => storage.users.update('alice', { passwordHash: 'new' })],
    ['a disable, then re-enabling', async () => { await storage.users.update('alice', { disabled: true }); await storage.users.update('alice', { disabled: false }) }]
  ]
  for (const [what, change] of changes) {
    const user = await storage.users.findById(alice.id)
    const { cookie, session } = await start(user!)
    t.ok(await sessions.current(cookie), `${what}: live before`)
    await change()
    t.equal(await sessions.current(cookie), undefined, `${what}: no session after`)
    t.equal(await storage.sessions.find(session.idHash, 0), undefined, `${what}: and it was ended, not just ignored`)
  }
})

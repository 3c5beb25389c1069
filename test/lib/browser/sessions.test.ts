import t, { type Test } from 'tap'
import { newSecret } from '../../../lib/browser/cookies.js'
import { BrowserSessions } from '../../../lib/browser/sessions.js'
import { openStorage } from '../../../lib/stores/index.js'
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
  return { storage, clock, sessions, alice }
}

t.test('a started session is found by its cookie, with its user; the store keeps only a digest', async (t) => {
  const { storage, clock, sessions, alice } = await setup(t)
  const { cookie, session } = await sessions.start(alice, undefined)
  t.match(cookie, /^[A-Za-z0-9_-]{43}$/)
  t.match(await sessions.current(cookie), { session: { userId: alice.id, authTime: clock.now() }, user: { id: alice.id } })
  t.not(session.idHash, cookie, 'not the cookie itself')
  t.equal(await storage.sessions.find(cookie, clock.now()), undefined, 'the cookie is not a key of the store')
  t.equal(await sessions.current(newSecret()), undefined, 'another value: nobody')
  t.equal(await sessions.current('short'), undefined, 'a malformed value: nobody')
  t.equal(await sessions.current(undefined), undefined)
})

t.test('a sign-in ends the session it replaces (no fixation); end() ends one; expiry and a disabled user end it too', async (t) => {
  const { storage, clock, sessions, alice } = await setup(t)
  const first = await sessions.start(alice, undefined)
  const second = await sessions.start(alice, first.cookie)
  t.equal(await sessions.current(first.cookie), undefined, 'the previous id is dead')
  t.ok(await sessions.current(second.cookie))
  await sessions.end(second.cookie)
  t.equal(await sessions.current(second.cookie), undefined, 'ended')

  const third = await sessions.start(alice, undefined)
  clock.advance(3599)
  t.ok(await sessions.current(third.cookie), 'within its ttl')
  clock.advance(1)
  t.equal(await sessions.current(third.cookie), undefined, 'expired at its ttl')

  const fourth = await sessions.start(alice, undefined)
  await storage.users.update('alice', { disabled: true })
  t.equal(await sessions.current(fourth.cookie), undefined, 'a disabled user is nobody')
})

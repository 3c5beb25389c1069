import type { Test } from 'tap'
import type { PasskeyChallenge, Storage } from '../../lib/stores/types.js'

/** The passkey challenge store: one behavioural suite run unchanged against SQLite and PostgreSQL. */
export function passkeyChallengeStoreSuite (t: Test, open: () => Promise<Storage>): void {
  const now = 1_800_000_000
  const challenge = (idHash: string, over: Partial<PasskeyChallenge> = {}): PasskeyChallenge => ({
    idHash, bindingHash: 'browser-a', ceremony: 'signin', userId: null, createdAt: now, expiresAt: now + 300, ...over
  })

  t.test('passkey challenges: consumed once, by the browser it was issued to, before it expires', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const alice = await s.users.create({ username: 'alice', passwordHash: null })
    await s.passkeyChallenges.create(challenge('c1', { ceremony: 'register', userId: alice.id }))
    t.equal(await s.passkeyChallenges.consume('c1', 'browser-b', now), undefined, 'another browser finds nothing')
    t.same(await s.passkeyChallenges.consume('c1', 'browser-a', now + 10), challenge('c1', { ceremony: 'register', userId: alice.id }))
    t.equal(await s.passkeyChallenges.consume('c1', 'browser-a', now + 10), undefined, 'a second time: gone')
    await s.passkeyChallenges.create(challenge('c2'))
    t.equal(await s.passkeyChallenges.consume('c2', 'browser-a', now + 300), undefined, 'at its expiry: refused')
    await s.passkeyChallenges.create(challenge('c3'))
    const results = await Promise.all(Array.from({ length: 10 }, () => s.passkeyChallenges.consume('c3', 'browser-a', now)))
    t.equal(results.filter((r) => r !== undefined).length, 1, 'of ten at once, exactly one gets it')
    t.equal(await s.passkeyChallenges.consume('c\u0000', 'browser-a', now), undefined, 'a NUL in the digest finds nothing')
  })

  t.test('passkey challenges: purged once expired; gone with their user', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const alice = await s.users.create({ username: 'alice', passwordHash: null })
    await s.passkeyChallenges.create(challenge('old', { expiresAt: now }))
    await s.passkeyChallenges.create(challenge('live', { expiresAt: now + 1 }))
    await s.passkeyChallenges.create(challenge('hers', { ceremony: 'second-factor', userId: alice.id }))
    t.equal(await s.passkeyChallenges.purgeExpired(now), 1)
    t.match(await s.housekeeping.tableRows(), { passkey_challenges: 2 })
    await s.users.delete('alice')
    t.equal(await s.passkeyChallenges.consume('hers', 'browser-a', now), undefined, 'a deleted user\'s challenges go with them')
    t.ok(await s.passkeyChallenges.consume('live', 'browser-a', now))
  })
}

import type { Test } from 'tap'
import type { PushedRequest, Storage } from '../../lib/stores/types.js'

/** The pushed authorization request store (RFC 9126): one behavioural suite run unchanged against SQLite and PostgreSQL. */
export function pushedRequestStoreSuite (t: Test, open: () => Promise<Storage>): void {
  const now = 1_800_000_000
  const pushed = (hash: string, over: Partial<PushedRequest> = {}): PushedRequest => ({
    hash, clientId: 'web', parameters: { response_type: 'code', scope: 'openid', resource: ['https://a.test/', 'https://b.test/'] }, state: 'unused', createdAt: now, startedAt: null, expiresAt: now + 60, ...over
  })
  async function setup (t: Test): Promise<Storage> {
    const s = await open()
    t.teardown(() => s.close())
    for (const id of ['web', 'other']) await s.clients.create({ id, secretHash: null, isPublic: true, grantTypes: ['authorization_code'], scope: null, redirectUris: ['https://web.test/cb'] })
    return s
  }

  t.test('pushed requests: started once by their own client while live, then read again until they expire', async (t) => {
    const s = await setup(t)
    await s.pushedRequests.create(pushed('p1'))
    t.equal(await s.pushedRequests.start('p1', 'other', now, now + 600), undefined, 'another client\'s: not found, not started')
    t.same(await s.pushedRequests.start('p1', 'web', now + 10, now + 600), pushed('p1', { state: 'started', startedAt: now + 10, expiresAt: now + 600 }), 'parameters as pushed (lists kept)')
    t.match(await s.pushedRequests.start('p1', 'web', now + 20, now + 900), { state: 'started', startedAt: now + 10, expiresAt: now + 600 }, 'a started one is read as it is (its lifetime not renewed)')
    t.equal(await s.pushedRequests.start('p1', 'web', now + 600, now + 1200), undefined, 'past the sign-in lifetime: gone')
    await s.pushedRequests.create(pushed('p2'))
    t.equal(await s.pushedRequests.start('p2', 'web', now + 60, now + 600), undefined, 'not presented within its 60 s: never starts')
    t.equal(await s.pushedRequests.start('p\u0000', 'web', now, now + 600), undefined, 'a NUL finds nothing')
  })

  t.test('pushed requests: consumed once, only once started and while live', async (t) => {
    const s = await setup(t)
    await s.pushedRequests.create(pushed('p1'))
    t.equal(await s.pushedRequests.consume('p1', now), false, 'unused: nothing to consume')
    await s.pushedRequests.start('p1', 'web', now, now + 600)
    const both = await Promise.all([s.pushedRequests.consume('p1', now + 1), s.pushedRequests.consume('p1', now + 1)])
    t.same(both.sort(), [false, true], 'of two at once, exactly one')
    t.equal(await s.pushedRequests.start('p1', 'web', now + 2, now + 600), undefined, 'used: never read again')
    await s.pushedRequests.create(pushed('p2'))
    await s.pushedRequests.start('p2', 'web', now, now + 600)
    t.equal(await s.pushedRequests.consume('p2', now + 600), false, 'expired: not consumed')
    t.equal(await s.pushedRequests.consume('p\u0000', now), false)
  })

  t.test('pushed requests: purged once expired; gone with their client', async (t) => {
    const s = await setup(t)
    await s.pushedRequests.create(pushed('old', { expiresAt: now }))
    await s.pushedRequests.create(pushed('live'))
    t.equal(await s.pushedRequests.purgeExpired(now), 1)
    t.match(await s.housekeeping.tableRows(), { pushed_requests: 1 })
    await s.clients.delete('web')
    t.equal(await s.pushedRequests.start('live', 'web', now, now + 600), undefined, 'a deleted client\'s requests go with it')
    t.match(await s.housekeeping.tableRows(), { pushed_requests: 0 })
  })
}

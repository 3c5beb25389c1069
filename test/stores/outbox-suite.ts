import type { Test } from 'tap'
import type { Storage } from '../../lib/stores/types.js'

/** The outbox store: one behavioural suite run unchanged against SQLite and PostgreSQL. */
export function outboxStoreSuite (t: Test, open: () => Promise<Storage>, openTwice: () => Promise<[Storage, Storage]>): void {
  const now = 1_800_000_000
  const entry = (payload: unknown = { n: 1 }, kind = 'mail') => ({ kind, payload, now, maxPending: 100 })

  t.test('outbox: enqueue, claim with a lease, complete; the payload goes once sent', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const id = await s.outbox.enqueue(entry({ to: 'a@x.test', nested: [1, 'ü'] }))
    t.type(id, 'string')
    await s.outbox.enqueue(entry({ other: true }, 'logout'))
    t.equal(await s.outbox.pending(), 2)
    t.equal(await s.outbox.pending('mail'), 1)
    t.same(await s.outbox.claim('mail', now - 1, 10, 60, 'a'), [], 'not due before its time')
    const [claimed, ...rest] = await s.outbox.claim('mail', now, 10, 60, 'a')
    t.same(rest, [], 'only its own kind')
    t.match(claimed, { id, kind: 'mail', payload: { to: 'a@x.test', nested: [1, 'ü'] }, attempts: 1, createdAt: now, lastError: null })
    t.same(await s.outbox.claim('mail', now + 59, 10, 60, 'b'), [], 'held by its lease')
    t.equal(await s.outbox.complete(id!, 'b', now), false, 'only the holder completes it')
    t.equal(await s.outbox.complete(id!, 'a', now + 1), true)
    t.equal(await s.outbox.complete(id!, 'a', now + 1), false, 'once')
    t.equal(await s.outbox.pending('mail'), 0)
    t.same(await s.outbox.claim('mail', now + 3600, 10, 60, 'b'), [], 'a finished message is never claimed again')
    t.equal(await s.outbox.purgeFinished(now + 1), 0, 'kept until it is old enough')
    t.equal(await s.outbox.purgeFinished(now + 2), 1)
    t.equal(await s.outbox.pending(), 1, 'the other kind is untouched')
  })

  t.test('outbox: a lease that runs out gives the message to another sender; reschedule and give up', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const id = (await s.outbox.enqueue(entry()))!
    await s.outbox.claim('mail', now, 10, 60, 'dead')
    const [again] = await s.outbox.claim('mail', now + 60, 10, 60, 'alive')
    t.match(again, { id, attempts: 2 }, 'claimed again once the lease ran out, the attempt counted')
    t.equal(await s.outbox.reschedule(id, 'dead', now + 100, 'late'), false, 'the old holder can no longer touch it')
    t.equal(await s.outbox.reschedule(id, 'alive', now + 100, 'SMTP 451'), true)
    t.same(await s.outbox.claim('mail', now + 99, 10, 60, 'alive'), [], 'not before its next attempt')
    const [third] = await s.outbox.claim('mail', now + 100, 10, 60, 'alive')
    t.match(third, { id, attempts: 3, lastError: 'SMTP 451' })
    t.equal(await s.outbox.giveUp(id, 'alive', now + 101, 'SMTP 451 again'), true)
    t.equal(await s.outbox.pending(), 0)
    t.same(await s.outbox.claim('mail', now + 9999, 10, 60, 'alive'), [])
    t.equal(await s.outbox.purgeFinished(now + 102), 1)
  })

  t.test('outbox: bounded: past maxPending nothing is added; finished messages do not count', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const ids = []
    for (let i = 0; i < 3; i++) ids.push(await s.outbox.enqueue({ ...entry({ i }), maxPending: 3 }))
    t.equal(await s.outbox.enqueue({ ...entry({ i: 3 }), maxPending: 3 }), undefined, 'refused at the cap')
    t.equal(await s.outbox.pending(), 3)
    const [first] = await s.outbox.claim('mail', now, 1, 60, 'a')
    await s.outbox.complete(first!.id, 'a', now)
    t.type(await s.outbox.enqueue({ ...entry({ i: 4 }), maxPending: 3 }), 'string', 'room again once one is sent')
    const claimed = await s.outbox.claim('mail', now, 2, 60, 'a')
    t.equal(claimed.length, 2, 'limit per claim')
  })

  t.test('outbox: the bound is per kind; dropOldest finishes the oldest of a kind past `keep`', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    for (let i = 0; i < 3; i++) await s.outbox.enqueue({ ...entry({ i }), maxPending: 3 })
    t.type(await s.outbox.enqueue({ ...entry({ i: 0 }, 'other'), maxPending: 3 }), 'string', 'a full kind does not refuse another')
    for (let i = 1; i < 5; i++) await s.outbox.enqueue({ ...entry({ i }, 'other'), maxPending: 10 })
    t.equal(await s.outbox.dropOldest('other', 2, now + 5, 'dropped'), 3)
    t.equal(await s.outbox.pending('other'), 2)
    t.equal(await s.outbox.pending('mail'), 3, 'another kind untouched')
    const kept = await s.outbox.claim('other', now, 10, 60, 'a')
    t.same(kept.map((m) => (m.payload as { i: number }).i).sort(), [3, 4], 'the newest kept (same second: insertion order)')
    t.equal(await s.outbox.dropOldest('other', 2, now + 5, 'dropped'), 0)
    t.equal(await s.outbox.purgeFinished(now + 6), 3, 'dropped ones are finished rows, swept as the others')
  })

  t.test('outbox: two instances claiming at once take each message once', async (t) => {
    const [a, b] = await openTwice()
    t.teardown(async () => { await a.close(); await b.close() })
    for (let i = 0; i < 40; i++) await a.outbox.enqueue(entry({ i }))
    const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).outbox.claim('mail', now, 3, 60, `owner-${i}`)))
    const ids = claims.flat().map((m) => m.id)
    t.equal(ids.length, 40, 'every message claimed')
    t.equal(new Set(ids).size, 40, 'none twice')
  })
}

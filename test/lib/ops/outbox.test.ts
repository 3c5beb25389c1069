import t from 'tap'
import { join } from 'node:path'
import { openSqlite } from '../../../lib/stores/sqlite/index.js'
import { deliverRound, enqueue, nextAttemptAt, OUTBOX_ATTEMPT_TIMEOUT_MS, OUTBOX_BACKOFF_SECONDS, OUTBOX_LEASE_SECONDS, OUTBOX_MAX_ATTEMPTS, SerialRounds } from '../../../lib/ops/outbox.js'

t.test('backoff: 10 s, 1 min, 5 min, 15 min, 1 h, then hours; given up after about a day', async (t) => {
  const waits = []
  for (let attempts = 1; nextAttemptAt(attempts, 0) !== undefined; attempts++) waits.push(nextAttemptAt(attempts, 0))
  t.same(waits.slice(0, 5), [10, 60, 300, 900, 3600])
  t.equal(waits.length, OUTBOX_MAX_ATTEMPTS - 1, 'one wait after each failed attempt but the last')
  const total = OUTBOX_BACKOFF_SECONDS.reduce((a, b) => a + b, 0)
  t.ok(total > 20 * 3600 && total <= 24 * 3600, `retried for ${Math.round(total / 3600)} h, not more than a day`)
  t.equal(nextAttemptAt(OUTBOX_MAX_ATTEMPTS, 0), undefined)
  t.equal(nextAttemptAt(1000, 0), undefined, 'bounded')
  t.ok(OUTBOX_LEASE_SECONDS * 1000 > OUTBOX_ATTEMPT_TIMEOUT_MS, 'a live sender never outlives its claim')
})

t.test('deliverRound: sent, retried with backoff, given up after the last attempt or at once when permanent', async (t) => {
  const store = openSqlite(`sqlite:${join(t.testdir({}), 'o.db')}`)
  t.teardown(() => store.close())
  let now = 1_800_000_000
  const clock = () => now
  const ok = await enqueue(store.outbox, 'mail', { to: 'ok' }, now)
  const flaky = await enqueue(store.outbox, 'mail', { to: 'flaky' }, now)
  const perm = await enqueue(store.outbox, 'mail', { to: 'perm' }, now)
  class Permanent extends Error {}
  const deliver = async (m: { payload: unknown }) => {
    const to = (m.payload as { to: string }).to
    if (to === 'flaky') throw new Error('451 try later\r\nsecond line')
    if (to === 'perm') throw new Permanent('550 no such user')
    return 'fine'
  }
  const round = () => deliverRound({ store: store.outbox, kind: 'mail', now: clock, owner: 'me', deliver, isPermanent: (e) => e instanceof Permanent })
  const first = await round()
  const by = Object.fromEntries(first.map((o) => [o.message.id, o]))
  t.match(by[ok], { result: 'sent', detail: 'fine' })
  t.match(by[flaky], { result: 'retried', at: now + 10, error: '451 try later second line' }, 'one line')
  t.match(by[perm], { result: 'failed', error: '550 no such user' })
  t.same(await round(), [], 'nothing due 0 s later')
  for (let attempt = 2; attempt <= OUTBOX_MAX_ATTEMPTS; attempt++) {
    now += 24 * 3600
    const [outcome] = await round()
    t.equal(outcome?.result, attempt < OUTBOX_MAX_ATTEMPTS ? 'retried' : 'failed', `attempt ${attempt}`)
  }
  t.equal(await store.outbox.pending(), 0)
})

t.test('deliverRound: an attempt that hangs is abandoned at the timeout and tried again', async (t) => {
  const store = openSqlite(`sqlite:${join(t.testdir({}), 'o.db')}`)
  t.teardown(() => store.close())
  const now = 1_800_000_000
  await enqueue(store.outbox, 'mail', {}, now)
  const [outcome] = await deliverRound({ store: store.outbox, kind: 'mail', now: () => now, owner: 'me', deliver: () => new Promise(() => {}), timeoutMs: 20 })
  t.match(outcome, { result: 'retried', error: 'no answer within 20 ms' })
})

t.test('enqueue: a full outbox refuses with OutboxFullError', async (t) => {
  const store = openSqlite(`sqlite:${join(t.testdir({}), 'o.db')}`)
  t.teardown(() => store.close())
  const full = { ...store.outbox, enqueue: async () => undefined }
  await t.rejects(enqueue(full, 'mail', {}, 0), { name: 'OutboxFullError' })
})

t.test('SerialRounds: one round at a time; a call during one gets that round\'s results and the next round\'s', async (t) => {
  // Each round takes what is "due" when it starts, as a claim does; a round is held open until released.
  const due: string[] = []
  const releases: Array<() => void> = []
  let started = 0
  let concurrent = 0
  let most = 0
  /** Lets the round that started next finish (none may have started: then nothing). */
  const releaseNext = async (): Promise<void> => {
    for (let turn = 0; turn < 50 && releases.length === 0; turn++) await new Promise((resolve) => setImmediate(resolve))
    releases.shift()?.()
  }
  const rounds = new SerialRounds(async () => {
    started++
    concurrent++
    most = Math.max(most, concurrent)
    const taken = due.splice(0)
    await new Promise<void>((resolve) => releases.push(resolve))
    concurrent--
    return taken
  })
  const scheduled = rounds.run() // the schedule's round, already under way
  t.ok(rounds.busy)
  due.push('the message the caller means') // queued after that round claimed
  const asked = rounds.run()
  const again = rounds.run() // a third call shares the next round
  await releaseNext()
  t.same(await scheduled, [])
  await releaseNext()
  t.same(await asked, ['the message the caller means'], 'the next round took it, and the caller hears of it')
  t.same(await again, ['the message the caller means'])
  t.equal(started, 2, 'two rounds, not three')
  t.equal(most, 1, 'never two at once')
  t.notOk(rounds.busy)

  // The running round took the message: the caller hears of it too.
  due.push('taken by the running round')
  const running = rounds.run()
  const caller = rounds.run()
  await releaseNext()
  await releaseNext()
  t.same(await running, ['taken by the running round'])
  t.same(await caller, ['taken by the running round'], 'a call during a round answers with that round\'s results too')

  await rounds.close()
  t.same(await rounds.run(), [], 'nothing runs once closed')
  t.equal(started, 4)
})

import t, { type Test } from 'tap'
import { OAuthError } from '../../../lib/errors.js'
import { answerCounterStep, ClusterCounterStore, type PrimaryChannel } from '../../../lib/limits/cluster-counters.js'
import { MemoryCounterStore, Throttle, type CounterStore } from '../../../lib/limits/throttle.js'
import { ACCOUNT_FAILURES, ADDRESS_ACCOUNTS, SIGN_IN_LIMITS, signInKeys, UPSTREAM_STARTS, upstreamStartLimits } from '../../../lib/oauth/brute-force.js'
import { reserveSignIn, SETTLE, SIGN_IN_SCRIPTS } from '../../../lib/oauth/sign-in-reservation.js'
import { fakeCluster } from '../../support/fake-primary.js'
import { manualClock } from '../../support/helper.js'

// WORKERS without Redis (lib/limits/cluster-counters.ts): workers' steps run in the primary's counters. Here the
// IPC channel is a queue in this process that delivers each message a random number of turns later, so steps of
// several "workers" interleave as they do over real IPC (test/process/worker-limits.test.ts runs real processes).

/** The status of the error `promise` rejects with (0 when it resolves). */
const statusOf = (promise: Promise<unknown>) => promise.then(() => 0, (err: unknown) => err instanceof OAuthError ? err.statusCode : -1)

const SCRIPTS = new Map(SIGN_IN_SCRIPTS.map((s) => [s.name, s]))

/** A primary on `store` and `workers` channels to it; `answer: false` makes a primary that never answers. */
const cluster = (store: MemoryCounterStore, workers: number, answer = true): PrimaryChannel[] =>
  fakeCluster((message) => answerCounterStep(store, SCRIPTS, message), workers, answer)

/** `workers` throttles, each on its own ClusterCounterStore, sharing one primary's counters. */
function workerThrottles (t: Test, workers: number, primary = new MemoryCounterStore(manualClock())): Throttle[] {
  t.teardown(() => primary.close())
  return cluster(primary, workers).map((channel) => {
    const store = new ClusterCounterStore(channel)
    t.teardown(() => store.close())
    return new Throttle(store, 'ns:')
  })
}

/** Reserves at once on the throttles in turn; resolves how many were admitted (each settled as a failure). */
async function parallelReservations (throttles: Throttle[], count: number, keysOf: (i: number) => ReturnType<typeof signInKeys>): Promise<number> {
  const results = await Promise.all(Array.from({ length: count }, (_, i) => reserveSignIn(throttles[i % throttles.length]!, keysOf(i), SIGN_IN_LIMITS)))
  const admitted = results.flatMap((r) => 'settle' in r ? [r] : [])
  await Promise.all(admitted.map((r) => r.settle('failure')))
  return admitted.length
}

t.test('22.3: four workers, 60 parallel guesses for one account: exactly 10 admitted', async (t) => {
  const throttles = workerThrottles(t, 4)
  t.equal(await parallelReservations(throttles, 60, () => signInKeys('victim', '192.0.2.1')), ACCOUNT_FAILURES.max)
  t.equal(await parallelReservations(throttles, 8, () => signInKeys('victim', '198.51.100.1')), 0, 'then none, from anywhere')
})

t.test('22.3: four workers, 60 accounts from one address at once: exactly 50 admitted', async (t) => {
  const throttles = workerThrottles(t, 4)
  t.equal(await parallelReservations(throttles, 60, (i) => signInKeys(`user-${i}`, '203.0.113.7')), ADDRESS_ACCOUNTS.max)
})

t.test('22.3: four workers, 80 upstream starts from one address at once: exactly 60 pass', async (t) => {
  const throttles = workerThrottles(t, 4)
  const waits = await Promise.all(Array.from({ length: 80 }, (_, i) => throttles[i % 4]!.take(upstreamStartLimits('203.0.113.8'))))
  t.equal(waits.filter((w) => w === undefined).length, UPSTREAM_STARTS.max)
  t.ok(waits.every((w) => w === undefined || w >= 1), 'the others wait at least a second')
})

t.test('22.3: a primary that does not answer: the step is refused (503, Retry-After) after the timeout, never counted by the worker', async (t) => {
  const primary = new MemoryCounterStore(manualClock())
  t.teardown(() => primary.close())
  const [channel] = cluster(primary, 1, false)
  const store = new ClusterCounterStore(channel!, 50)
  t.teardown(() => store.close())
  const throttle = new Throttle(store)
  const started = Date.now()
  const refused = await reserveSignIn(throttle, signInKeys('alice', '192.0.2.1'), SIGN_IN_LIMITS).then(() => undefined, (err: unknown) => err)
  t.ok(refused instanceof OAuthError && refused.statusCode === 503 && refused.error === 'temporarily_unavailable', '503 temporarily_unavailable')
  t.ok(Number((refused as OAuthError).headers['retry-after']) >= 1, 'with Retry-After')
  t.ok(Date.now() - started >= 45, 'after the timeout')
  t.equal(await statusOf(throttle.take(upstreamStartLimits('192.0.2.1'))), 503, 'a rate limit is refused too')
  const settled = await store.run(SETTLE, ['a', 'b', 'c', 'd'], 'failure', { unavailable: () => undefined })
  t.same(settled, { result: undefined, place: 'shared' }, 'a step that says what to do without the primary (a settlement) does that')

  const gone = new ClusterCounterStore({ ...channel!, connected: () => false })
  const at = Date.now()
  t.equal(await statusOf(gone.hit('k', 60)), 503, 'no channel at all: refused at once')
  t.ok(Date.now() - at < 45)
})

t.test('22.3/22.9: the primary\'s full account store is the worker\'s 503 with the primary\'s Retry-After; an unknown script is refused', async (t) => {
  const clock = manualClock()
  const primary = new MemoryCounterStore(clock, 3)
  t.teardown(() => primary.close())
  const [throttle] = workerThrottles(t, 1, primary)
  t.equal(await parallelReservations([throttle!], 1, () => signInKeys('a', '192.0.2.1')), 1)
  clock.advance(100)
  t.equal(await parallelReservations([throttle!], 1, () => signInKeys('b', '192.0.2.1')), 1)
  const refused = await reserveSignIn(throttle!, signInKeys('c', '192.0.2.1'), SIGN_IN_LIMITS).then(() => undefined, (err: unknown) => err)
  t.ok(refused instanceof OAuthError && refused.statusCode === 503)
  t.equal((refused as OAuthError).headers['retry-after'], String(15 * 60 - 100), 'until the primary\'s soonest account counter ends')

  const reply = answerCounterStep(primary, SCRIPTS, { gatehouse: 'count', id: 1, op: 'run', script: 'nope', keys: [], args: null })
  t.match(reply, { id: 1, failed: /no counter script named "nope"/ })
  t.equal(answerCounterStep(primary, SCRIPTS, { gatehouse: 'scrape', id: 1 }), undefined, 'other cluster messages are not answered')
})

t.test('a late answer (after its timeout) is ignored', async (t) => {
  const primary = new MemoryCounterStore(manualClock())
  t.teardown(() => primary.close())
  const listeners: Array<(m: unknown) => void> = []
  const sent: unknown[] = []
  const store: CounterStore = new ClusterCounterStore({ send: (m) => { sent.push(m) }, onMessage: (l) => { listeners.push(l) }, connected: () => true }, 20)
  t.equal(await statusOf(store.hit('k', 60)), 503)
  const reply = answerCounterStep(primary, SCRIPTS, sent[0])
  for (const l of listeners) l(reply)
  t.pass('no throw, no unhandled rejection')
})

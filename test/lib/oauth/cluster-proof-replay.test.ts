import t from 'tap'
import { OAuthError } from '../../../lib/errors.js'
import type { PrimaryChannel } from '../../../lib/limits/primary-channel.js'
import { answerFirstUse, ClusterProofReplay } from '../../../lib/oauth/cluster-proof-replay.js'
import { MemoryProofReplay, ProofReplayFull } from '../../../lib/oauth/dpop-replay.js'
import { fakeCluster } from '../../support/fake-primary.js'
import { manualClock } from '../../support/helper.js'

// WORKERS without Redis (lib/oauth/cluster-proof-replay.ts): each worker's DPoP first-use check runs in the primary's
// memory. The IPC channel here is a queue in this process that delivers each message a random number of turns
// later, so the checks of several "workers" interleave as over real IPC (test/process/worker-dpop.test.ts runs real
// processes).

/** `workers` channels to a primary on `memory`; `answer: false` makes a primary that never answers. */
const cluster = (memory: MemoryProofReplay, workers: number, answer = true): PrimaryChannel[] =>
  fakeCluster((message) => answerFirstUse(memory, message), workers, answer)

const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (err: unknown) => err)

t.test('four workers, one proof sent to each ten times at once: accepted once; another proof is its own', async (t) => {
  const workers = cluster(new MemoryProofReplay(manualClock()), 4).map((channel) => new ClusterProofReplay(channel))
  t.teardown(() => { for (const w of workers) w.close() })
  for (let round = 0; round < 20; round++) {
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => workers[i % 4]!.firstUse(`jkt:jti-${round}`, 130)))
    t.equal(answers.filter(Boolean).length, 1, `round ${round}: one first use of 40`)
  }
  t.equal(await workers[2]!.firstUse('jkt:jti-0', 130), false, 'a later replay, to any worker')
  t.equal(await workers[3]!.firstUse('other-jkt:jti-0', 130), true, 'the same jti of another key is another proof')
})

t.test('the primary\'s memory full of live proofs: the worker refuses with the primary\'s Retry-After, never evicts', async (t) => {
  const clock = manualClock()
  const [worker] = cluster(new MemoryProofReplay(clock, 2), 1).map((channel) => new ClusterProofReplay(channel))
  t.teardown(() => worker!.close())
  t.equal(await worker!.firstUse('k:a', 130), true)
  clock.advance(30)
  t.equal(await worker!.firstUse('k:b', 130), true)
  const full = await refusal(worker!.firstUse('k:c', 130))
  t.ok(full instanceof ProofReplayFull, 'ProofReplayFull (the token endpoint\'s 503)')
  t.equal((full as ProofReplayFull).retryAfter, 100, 'until the soonest entry ends')
  t.equal(await worker!.firstUse('k:a', 130), false, 'the first proof is still remembered')
})

t.test('a primary that does not answer, or no channel: refused (503 temporarily_unavailable), never accepted unrecorded', async (t) => {
  const [silent] = cluster(new MemoryProofReplay(manualClock()), 1, false)
  const worker = new ClusterProofReplay(silent!, 50)
  t.teardown(() => worker.close())
  const started = Date.now()
  const refused = await refusal(worker.firstUse('k:a', 130))
  t.ok(refused instanceof OAuthError && refused.statusCode === 503 && refused.error === 'temporarily_unavailable', '503 temporarily_unavailable')
  t.ok(Number((refused as OAuthError).headers['retry-after']) >= 1, 'with Retry-After')
  t.ok(Date.now() - started >= 45, 'after the timeout')

  const gone = new ClusterProofReplay({ ...silent!, connected: () => false })
  const at = Date.now()
  t.match(await refusal(gone.firstUse('k:a', 130)), { statusCode: 503 }, 'no channel: refused at once')
  t.ok(Date.now() - at < 45)
})

t.test('the primary answers first-use questions only, and only well-formed ones', async (t) => {
  const memory = new MemoryProofReplay(manualClock())
  t.equal(answerFirstUse(memory, { gatehouse: 'count', id: 1, op: 'hit', key: 'k', windowSeconds: 60, kind: 'request' }), undefined, 'a counter step is not its question')
  t.equal(answerFirstUse(memory, { gatehouse: 'dpop-first-use', key: 'k', ttlSeconds: 130 }), undefined, 'no id: not a question')
  for (const [label, question] of [
    ['an empty key', { key: '', ttlSeconds: 130 }],
    ['a key longer than a thumbprint and the longest jti', { key: 'k'.repeat(301), ttlSeconds: 130 }],
    ['no key', { ttlSeconds: 130 }],
    ['a lifetime beyond a proof\'s', { key: 'k', ttlSeconds: 86_400 }],
    ['a fractional lifetime', { key: 'k', ttlSeconds: 0.5 }]
  ] as const) {
    t.match(answerFirstUse(memory, { gatehouse: 'dpop-first-use', id: 7, ...question }), { id: 7, failed: /not a first-use question/ }, label)
  }
  t.same(answerFirstUse(memory, { gatehouse: 'dpop-first-use', id: 8, key: 'k', ttlSeconds: 130 }), { gatehouse: 'dpop-first-used', id: 8, first: true })

  let listener: ((m: unknown) => void) | undefined
  const worker = new ClusterProofReplay({ send: (m) => { queueMicrotask(() => listener?.({ ...answerFirstUse(memory, { ...(m as object), key: '' }) })) }, onMessage: (l) => { listener = l }, connected: () => true })
  t.match(await refusal(worker.firstUse('k', 130)), { statusCode: 503 }, 'a question the primary turns down is refused by the worker')
  worker.close()
})

import t from 'tap'
import { MemoryProofReplay, ProofReplayFull, RedisProofReplay } from '../../../lib/oauth/dpop-replay.js'
import { manualClock } from '../../support/helper.js'

t.test('a proof key is accepted once while it lives', async (t) => {
  const clock = manualClock()
  const replay = new MemoryProofReplay(clock, 3)
  t.equal(await replay.firstUse('k:1', 130), true)
  t.equal(await replay.firstUse('k:1', 130), false, 'the same jti again')
  t.equal(await replay.firstUse('k:2', 130), true, 'another jti')
  clock.advance(131)
  t.equal(await replay.firstUse('k:1', 130), true, 'after its window the entry is gone (the proof itself is too old by then)')
})

t.test('full of live entries, new proofs are refused (never an eviction that would re-open a replay) until the soonest expires', async (t) => {
  const clock = manualClock()
  const replay = new MemoryProofReplay(clock, 3)
  for (const key of ['a', 'b', 'c']) t.equal(await replay.firstUse(key, 130), true)
  await t.rejects(replay.firstUse('flood-1', 130), ProofReplayFull, 'a fourth proof while all three live')
  const refusal = await replay.firstUse('flood-2', 130).catch((err: ProofReplayFull) => err)
  t.equal((refusal as ProofReplayFull).retryAfter, 130, 'Retry-After: until the oldest entry ends')
  t.equal(await replay.firstUse('a', 130), false, 'the captured proof is still remembered after the flood')
  clock.advance(131)
  t.equal(await replay.firstUse('d', 130), true, 'room again once they expire')
})

/** A Redis that answers SET … NX like Redis, or fails while `down`. */
function fakeRedis () {
  const keys = new Map<string, string>()
  const fake = {
    down: false,
    calls: [] as unknown[][],
    async set (...args: unknown[]): Promise<string | null> {
      fake.calls.push(args)
      if (fake.down) throw new Error('connection refused')
      const [key, value] = args as [string, string]
      if (keys.has(key)) return null
      keys.set(key, value)
      return 'OK'
    }
  }
  return fake
}

t.test('RedisProofReplay: SET NX EX under the namespace; Redis away falls back to memory, said once, and back again', async (t) => {
  const clock = manualClock()
  const redis = fakeRedis()
  const warnings: string[] = []
  const replay = new RedisProofReplay(redis as never, 'gh:abc:', new MemoryProofReplay(clock), (m) => warnings.push(m), clock, 5000)
  t.equal(await replay.firstUse('jkt:jti-1', 130), true)
  t.same(redis.calls[0], ['gh:abc:dpop:jkt:jti-1', '1', 'EX', 130, 'NX'])
  t.equal(await replay.firstUse('jkt:jti-1', 130), false, 'a second instance asking Redis for the same proof is refused')

  redis.down = true
  t.equal(await replay.firstUse('jkt:jti-2', 130), true, 'Redis down: remembered locally')
  t.equal(await replay.firstUse('jkt:jti-2', 130), false, 'and a replay to this instance is still caught')
  t.equal(await replay.firstUse('jkt:jti-3', 130), true)
  t.equal(warnings.length, 1, 'said once')
  t.match(warnings[0], /redis unavailable/)
  const asked = redis.calls.length
  redis.down = false
  await replay.firstUse('jkt:jti-4', 130)
  t.equal(redis.calls.length, asked, 'the breaker keeps Redis unasked for its open time')
  clock.advance(6)
  t.equal(await replay.firstUse('jkt:jti-5', 130), true)
  t.equal(redis.calls.length, asked + 1, 'then asks again')
  t.match(warnings[1], /redis is back/)
})

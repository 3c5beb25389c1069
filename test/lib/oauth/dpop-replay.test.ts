import t from 'tap'
import { MemoryProofReplay } from '../../../lib/oauth/dpop-replay.js'
import { manualClock } from '../../support/helper.js'

t.test('a proof key is accepted once while it lives, and its memory is bounded', async (t) => {
  const clock = manualClock()
  const replay = new MemoryProofReplay(clock, 3)
  t.equal(await replay.firstUse('k:1', 130), true)
  t.equal(await replay.firstUse('k:1', 130), false, 'the same jti again')
  t.equal(await replay.firstUse('k:2', 130), true, 'another jti')
  clock.advance(131)
  t.equal(await replay.firstUse('k:1', 130), true, 'after its window the entry is gone (the proof itself is too old by then)')
  for (const key of ['a', 'b', 'c', 'd']) await replay.firstUse(key, 130)
  t.equal(await replay.firstUse('d', 130), false)
})

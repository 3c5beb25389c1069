import t from 'tap'
import fc from 'fast-check'
import { LRUCache } from 'lru-cache'
import { BoundedLru, sweepEvery } from '../../../lib/limits/lru.js'

// BoundedLru (lib/limits/lru.ts) is held to lru-cache, the library it stands in for, the way node-oidc-provider
// holds its own LRU to quick-lru: the same sequence of set/get/peek/has/delete, clock steps and sweeps must give
// the same answers, the same size and the same order. One rule is spelled differently: lru-cache calls an entry
// stale once `now − start > ttl`, BoundedLru once `now ≥ start + ttl` (its `expiresAt` is the first instant the
// entry is gone). On a clock of whole milliseconds, lru-cache's `ttl − 1` is BoundedLru's `ttl`.

type Op =
  | { kind: 'set', key: number, value: number, ttl: number | undefined }
  | { kind: 'get' | 'peek' | 'has' | 'delete', key: number }
  | { kind: 'advance', ms: number }
  | { kind: 'sweep' }
  | { kind: 'entries' }

const key = fc.integer({ min: 0, max: 7 })
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key, value: fc.integer(), ttl: fc.option(fc.integer({ min: 2, max: 40 }), { nil: undefined }) }),
  fc.record({ kind: fc.constantFrom('get' as const, 'peek' as const, 'has' as const, 'delete' as const), key }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 25 }) }),
  fc.record({ kind: fc.constant('sweep' as const) }),
  fc.record({ kind: fc.constant('entries' as const) })
)

/** Runs `ops` on both caches; returns the first difference, or undefined. */
function difference (maxSize: number, ops: Op[]): string | undefined {
  let now = 1_000
  const ours = new BoundedLru<number, number>(maxSize, () => now)
  const theirs = new LRUCache<number, number>({ max: maxSize, ttlResolution: 0, perf: { now: () => now } })
  for (const [i, o] of ops.entries()) {
    let a: unknown
    let b: unknown
    switch (o.kind) {
      case 'set':
        ours.set(o.key, o.value, o.ttl)
        theirs.set(o.key, o.value, o.ttl === undefined ? {} : { ttl: o.ttl - 1 })
        break
      case 'get': a = ours.get(o.key); b = theirs.get(o.key); break
      case 'peek': a = ours.peek(o.key); b = theirs.peek(o.key); break
      case 'has': a = ours.has(o.key); b = theirs.has(o.key); break
      case 'delete': a = ours.delete(o.key); b = theirs.delete(o.key); break
      case 'advance': now += o.ms; break
      case 'sweep': ours.sweep(); theirs.purgeStale(); break
      // lru-cache lists the most recently used first; BoundedLru the least recently used first.
      case 'entries': a = [...ours.entries()]; b = [...theirs.entries()].reverse(); break
    }
    if (JSON.stringify(a) !== JSON.stringify(b)) return `op ${i} ${JSON.stringify(o)}: BoundedLru ${JSON.stringify(a)}, lru-cache ${JSON.stringify(b)}`
    if (ours.size !== theirs.size) return `op ${i} ${JSON.stringify(o)}: size ${ours.size} vs ${theirs.size}`
  }
  return undefined
}

t.test('the same answers as lru-cache for generated sequences (fixed seed)', async (t) => {
  let runs = 0
  fc.assert(fc.property(fc.integer({ min: 1, max: 5 }), fc.array(op, { maxLength: 80 }), (maxSize, ops) => {
    runs++
    const diff = difference(maxSize, ops)
    if (diff !== undefined) throw new Error(diff)
  }), { seed: 20261206, numRuns: 1_000 })
  t.equal(runs, 1_000, '1,000 sequences agree')
})

t.test('the parity check sees a difference: an lru-cache that keeps entries one millisecond longer', async (t) => {
  let now = 0
  const ours = new BoundedLru<string, number>(2, () => now)
  const theirs = new LRUCache<string, number>({ max: 2, ttlResolution: 0, perf: { now: () => now } })
  ours.set('a', 1, 10)
  theirs.set('a', 1, { ttl: 10 })
  now = 10
  t.equal(ours.get('a'), undefined, 'BoundedLru: gone at start + ttl')
  t.equal(theirs.get('a'), 1, 'lru-cache with the same ttl: still there, hence ttl − 1 above')
})

t.test('eviction, recency and expiry, spelled out', async (t) => {
  let now = 0
  const lru = new BoundedLru<string, string>(2, () => now)
  lru.set('a', 'A')
  lru.set('b', 'B', 100)
  t.equal(lru.get('a'), 'A', 'a is now the most recently used')
  lru.set('c', 'C')
  t.same([...lru.entries()], [['a', 'A'], ['c', 'C']], 'b, the least recently used, was evicted')
  t.equal(lru.peek('a'), 'A')
  lru.set('d', 'D')
  t.same([...lru.entries()].map(([k]) => k), ['c', 'd'], 'peek left a as the least recently used')

  lru.set('e', 'E', 50)
  t.equal(lru.expiresAt('e'), 50)
  now = 49
  t.ok(lru.has('e'))
  now = 50
  t.notOk(lru.has('e'), 'gone at its expiry')
  t.equal(lru.expiresAt('e'), undefined)
  t.equal(lru.size, 2, 'still held until swept or touched')
  lru.sweep()
  t.equal(lru.size, 1)
  t.throws(() => new BoundedLru(0, () => 0), RangeError, 'a cap below one is refused')
})

t.test('sweepEvery sweeps on a timer and stops', async (t) => {
  let swept = 0
  const stop = sweepEvery(5, { sweep: () => { swept++ } })
  await new Promise((resolve) => setTimeout(resolve, 40))
  stop()
  const after = swept
  t.ok(after >= 2, `swept ${after} times in 40 ms`)
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.equal(swept, after, 'no sweep after stop')
})

import t from 'tap'
import fc from 'fast-check'
import { Redis } from 'ioredis'
import { MemoryCounterStore, RedisCounterStore, Throttle, type CounterScript, type CounterStore } from '../../../lib/limits/throttle.js'
import { SIGN_IN_LIMITS, signInKeys } from '../../../lib/oauth/brute-force.js'
import { reserveSignIn, type SettleOutcome, type SignInKeys, type SignInLimits } from '../../../lib/oauth/sign-in-reservation.js'
import { freePort } from '../../support/helper.js'

// The sign-in reservation protocol (lib/oauth/sign-in-reservation.ts) in its two forms: the Lua scripts Redis runs
// and their twins over one process's counters. Redis at TEST_REDIS_URL (127.0.0.1:6379); every key under a prefix
// of this run's own, deleted at the end.

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const redis = new Redis(redisUrl)
const RUN = `test-reservation-${process.pid}-${Date.now()}:`
t.teardown(async () => {
  const keys = await redis.keys(`${RUN}*`)
  if (keys.length > 0) await redis.del(...keys)
  redis.disconnect()
})

let namespaces = 0
/** A namespace of its own: its keys cannot meet another test's. */
const namespace = () => `${RUN}${++namespaces}:`
const throttleOn = (store: CounterStore) => new Throttle(store, namespace())
const failLoudly = (message: string, err?: unknown) => { throw new Error(`${message}: ${String(err)}`) }

/** The live count of each key, read in one step (a test's own script, in both forms). */
const COUNTS: CounterScript<undefined, number[]> = {
  name: 'test/counts',
  kinds: ['account', 'address', 'address', 'account'],
  creates: false,
  lua: "local out = {}\nfor i, key in ipairs(KEYS) do out[i] = tonumber(redis.call('GET', key) or '0') end\nreturn out",
  argv: () => [],
  decode: (reply) => reply as number[],
  local: (counters, keys) => keys.map((key) => counters.count(key))
}
const countsOf = async (throttle: Throttle, keys: SignInKeys) => {
  const [account, address, pair, inFlight] = (await throttle.run(COUNTS, [keys.account, keys.address, keys.pair, keys.inFlight], undefined)).result
  return { account, address, pair, inFlight }
}

t.test('a success gives back only its own attempt while others are in flight; a release clears nothing (memory and Redis)', async (t) => {
  const stores = { memory: new MemoryCounterStore(), redis: new RedisCounterStore(redis, new MemoryCounterStore(), failLoudly) }
  for (const [name, store] of Object.entries(stores)) {
    t.teardown(() => store.close())
    const throttle = throttleOn(store)
    const keys = signInKeys('mallory-target', '192.0.2.1')
    const account = async () => (await countsOf(throttle, keys)).account
    const attempts = []
    for (let i = 0; i < 4; i++) attempts.push(await reserveSignIn(throttle, keys, SIGN_IN_LIMITS))
    const admitted = attempts.flatMap((a) => 'settle' in a ? [a] : [])
    t.equal(admitted.length, 4, `${name}: four attempts in flight`)
    t.equal(await account(), 4, `${name}: each counted before it is verified`)
    await admitted[0]!.settle('failure')
    await admitted[1]!.settle('success')
    t.equal(await account(), 3, `${name}: a success while two are in flight gives back only its own`)
    await admitted[2]!.settle('failure')
    await admitted[3]!.settle('release')
    t.equal(await account(), 2, `${name}: a release gives back its own and clears nothing`)
    const last = await reserveSignIn(throttle, keys, SIGN_IN_LIMITS)
    if (!('settle' in last)) throw new Error(`${name}: refused`)
    await last.settle('success')
    t.equal(await account(), 0, `${name}: a success with nothing in flight clears the account`)
    t.same(await countsOf(throttle, keys), { account: 0, address: 1, pair: 2, inFlight: 0 }, `${name}: the address keeps its failed account (the pair its two failures)`)
  }
})

/** Small limits, so that a short sequence reaches both. */
const LIMITS: SignInLimits = { account: { max: 3, windowSeconds: 900 }, address: { max: 2, windowSeconds: 600 } }
const USERS = ['u0', 'u1']
const ADDRESSES = ['198.51.100.1', '198.51.100.2', '198.51.100.3']

type Step =
  | { kind: 'reserve', user: number, address: number }
  | { kind: 'settle', which: number, outcome: SettleOutcome }

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('reserve' as const), user: fc.nat(USERS.length - 1), address: fc.nat(ADDRESSES.length - 1) }),
  fc.record({ kind: fc.constant('settle' as const), which: fc.nat(), outcome: fc.constantFrom<SettleOutcome>('failure', 'success', 'release') })
)

t.test('parity: the Redis scripts and their in-memory twins give the same answers and leave the same counts', async (t) => {
  const every = USERS.flatMap((user) => ADDRESSES.map((address) => signInKeys(user, address)))
  await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), async (steps) => {
    const memory = new MemoryCounterStore()
    const shared = new RedisCounterStore(redis, new MemoryCounterStore(), failLoudly)
    const sides = [throttleOn(memory), throttleOn(shared)] as const
    const pending: Array<[(outcome: SettleOutcome) => Promise<void>, (outcome: SettleOutcome) => Promise<void>]> = []
    try {
      for (const [i, s] of steps.entries()) {
        if (s.kind === 'reserve') {
          const keys = signInKeys(USERS[s.user]!, ADDRESSES[s.address]!)
          const inMemory = await reserveSignIn(sides[0], keys, LIMITS)
          const inRedis = await reserveSignIn(sides[1], keys, LIMITS)
          if (('settle' in inMemory) !== ('settle' in inRedis)) throw new Error(`step ${i}: memory ${JSON.stringify(inMemory)}, Redis ${JSON.stringify(inRedis)}`)
          if ('settle' in inMemory && 'settle' in inRedis) pending.push([inMemory.settle, inRedis.settle])
          // Both read the same window (PTTL in Redis, the clock here); a second boundary may pass between the two reads.
          else if ('retryAfter' in inMemory && 'retryAfter' in inRedis && Math.abs(inMemory.retryAfter - inRedis.retryAfter) > 1) {
            throw new Error(`step ${i}: retry after ${inMemory.retryAfter} s in memory, ${inRedis.retryAfter} s in Redis`)
          }
        } else if (pending.length > 0) {
          const [inMemory, inRedis] = pending.splice(s.which % pending.length, 1)[0]!
          await inMemory(s.outcome)
          await inRedis(s.outcome)
        }
        for (const keys of every) {
          const [a, b] = await Promise.all(sides.map((throttle) => countsOf(throttle, keys)))
          if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`step ${i}: counts differ: memory ${JSON.stringify(a)}, Redis ${JSON.stringify(b)}`)
        }
      }
    } finally {
      await memory.close()
      await shared.close()
    }
  }), { numRuns: 60 })
  t.pass('60 random sequences of reservations and settlements: identical')
})

t.test('Redis unreachable: the attempt is reserved in this process\'s counters and settled there', async (t) => {
  // A real connection to a port nothing listens on: every command fails at once.
  const down = new Redis({ port: await freePort(), host: '127.0.0.1', lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null })
  t.teardown(() => { down.disconnect() })
  const local = new MemoryCounterStore()
  const warnings: string[] = []
  const store = new RedisCounterStore(down, local, (message) => { warnings.push(message) })
  t.teardown(() => store.close())
  const ns = namespace()
  const throttle = new Throttle(store, ns)
  /** What the fallback holds: the same namespace, straight on it. */
  const held = () => countsOf(new Throttle(local, ns), keys)
  const keys = signInKeys('alice', '203.0.113.9')
  const reserved = await reserveSignIn(throttle, keys, SIGN_IN_LIMITS)
  if (!('settle' in reserved)) throw new Error('refused')
  t.same(warnings, ['redis unavailable: falling back to this instance\'s own rate limits'])
  t.same(await held(), { account: 1, address: 1, pair: 1, inFlight: 1 }, 'counted in this process')
  await reserved.settle('success')
  t.same(await held(), { account: 0, address: 0, pair: 0, inFlight: 0 }, 'and settled there')
})

t.test('Redis gone between the reservation and its settlement: the settlement is dropped, nothing is counted locally', async (t) => {
  const connection = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null })
  t.teardown(() => { connection.disconnect() })
  await new Promise((resolve) => connection.once('ready', resolve))
  const local = new MemoryCounterStore()
  const store = new RedisCounterStore(connection, local, () => {})
  t.teardown(() => store.close())
  const ns = namespace()
  const throttle = new Throttle(store, ns)
  const keys = signInKeys('bob', '203.0.113.10')
  // An attempt on the same account reserved in this process meanwhile (say, in an earlier outage).
  const held = () => countsOf(new Throttle(local, ns), keys)
  await reserveSignIn(new Throttle(local, ns), keys, SIGN_IN_LIMITS)
  const reserved = await reserveSignIn(throttle, keys, SIGN_IN_LIMITS)
  if (!('settle' in reserved)) throw new Error('refused')
  t.same(await countsOf(throttle, keys), { account: 1, address: 1, pair: 1, inFlight: 1 }, 'reserved in Redis')
  connection.disconnect()
  await reserved.settle('success')
  t.same(await held(), { account: 1, address: 1, pair: 1, inFlight: 1 }, 'the settlement was dropped, not run against this process\'s counters')
})

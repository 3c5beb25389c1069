import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { addUser, build, freePort } from '../../support/helper.js'
import { ACCOUNT_FAILURES } from '../../../lib/oauth/brute-force.js'

/**
 * Issue 10, defect 1: brute-force limits must hold under concurrency. Guesses sent at once over real
 * connections must be counted one by one: no more passwords verified than the account limit allows, the
 * rest answered 429 with Retry-After, and the right password beyond the limit gets no token.
 */
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** Counts the password verifications an instance performs. */
function countVerifications (app: FastifyInstance): () => number {
  let n = 0
  const verify = app.passwords.verify
  app.passwords.verify = async (...args) => { n++; return verify(...args) }
  return () => n
}

async function listen (app: FastifyInstance): Promise<string> {
  const port = await freePort()
  await app.listen({ port, host: '127.0.0.1' })
  return `http://127.0.0.1:${port}`
}

const guess = (url: string, username: string, password: string) =>
  fetch(`${url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'password', username, password }) })

/** 60 parallel guesses spread over `urls`; the right password is the 51st. */
async function burst (t: Test, urls: string[], hashes: () => number) {
  const replies = await Promise.all(Array.from({ length: 60 }, (_, i) =>
    guess(urls[i % urls.length]!, 'victim', i === 50 ? 'victim-pw' : `guess-${i}`)
      .then(async (res) => ({ i, status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() as { error?: string, access_token?: string } }))))
  const counted = replies.filter((r) => r.status === 400)
  const refused = replies.filter((r) => r.status === 429)
  t.ok(hashes() <= ACCOUNT_FAILURES.max, `${hashes()} passwords verified for 60 parallel guesses (limit ${ACCOUNT_FAILURES.max})`)
  t.ok(counted.length <= ACCOUNT_FAILURES.max, `${counted.length} ordinary failures`)
  t.equal(counted.length + refused.length + replies.filter((r) => r.status === 200).length, 60, 'every reply is 400, 429 or (within the limit) 200')
  t.ok(refused.every((r) => r.body.error === 'too_many_requests' && /^[1-9]\d*$/.test(r.retryAfter ?? '')), 'each 429 is too_many_requests with Retry-After')
  const right = replies[50]!
  if (right.status === 200) t.ok(hashes() <= ACCOUNT_FAILURES.max, 'the right password won only within the limit')
  // Afterwards the account is locked, whoever asks and wherever.
  for (const url of urls) t.equal((await guess(url, 'victim', 'victim-pw')).status, 429, `the right password at ${url} waits`)
  t.ok(hashes() <= ACCOUNT_FAILURES.max, 'and nothing more was verified')
}

t.test('60 parallel guesses for one account from one address, one instance (the test backend)', async (t) => {
  const app = await build(t)
  await addUser(app, 'victim', 'victim-pw')
  const url = await listen(app)
  const hashes = countVerifications(app)
  await burst(t, [url], hashes)
})

t.test('60 parallel guesses for one account, two instances on PostgreSQL sharing Redis', async (t) => {
  const { createTestSchema } = await import('../../support/pg-schema.js')
  const db = await createTestSchema()
  // REDIS_TIMEOUT_MS: both servers and the 60 requests share this one event loop, whose lag under the burst
  // exceeds the default 50 ms (each instance would then fall back to its own counters, as designed).
  const env = { DATABASE_URL: db.url, REDIS_URL: redisUrl, REDIS_TIMEOUT_MS: '1000', ISSUER: `http://race-${Date.now()}-${Math.random().toString(36).slice(2)}.test` }
  const a = await build(t, env)
  const b = await build(t, env)
  t.teardown(db.drop)
  await addUser(a, 'victim', 'victim-pw')
  const urls = [await listen(a), await listen(b)]
  const countA = countVerifications(a)
  const countB = countVerifications(b)
  await burst(t, urls, () => countA() + countB())
})

t.test('reservations: a success gives back only its own attempt while others are in flight (memory and Redis)', async (t) => {
  const { MemoryCounterStore, RedisCounterStore } = await import('../../../lib/limits/throttle.js')
  const { SIGN_IN_LIMITS, signInKeys } = await import('../../../lib/oauth/brute-force.js')
  const { Redis } = await import('ioredis')
  const redis = new Redis(redisUrl)
  t.teardown(() => { redis.disconnect() })
  const stores = {
    memory: new MemoryCounterStore(),
    redis: new RedisCounterStore(redis, new MemoryCounterStore(), (message, err) => { throw new Error(`${message}: ${String(err)}`) })
  }
  for (const [name, store] of Object.entries(stores)) {
    t.teardown(() => store.close())
    const prefix = `test-${Date.now()}-${Math.random().toString(36).slice(2)}:`
    const keysFrom = (ip: string) => {
      const k = signInKeys('mallory-target', ip)
      return { account: prefix + k.account, address: prefix + k.address, pair: prefix + k.pair, inFlight: prefix + k.inFlight }
    }
    const account = async () => (await store.peek(keysFrom('x').account)).count
    const a = keysFrom('192.0.2.1')
    const reservations = []
    for (let i = 0; i < 4; i++) reservations.push(await store.reserve(a, SIGN_IN_LIMITS))
    t.ok(reservations.every((r) => r.ok), `${name}: four attempts in flight`)
    t.equal(await account(), 4, `${name}: each counted before it is verified`)
    await store.settle(a, 'failure', reservations[0])
    await store.settle(a, 'success', reservations[1])
    t.equal(await account(), 3, `${name}: a success while two are in flight gives back only its own`)
    await store.settle(a, 'failure', reservations[2])
    await store.settle(a, 'release', reservations[3])
    t.equal(await account(), 2, `${name}: a release gives back its own and clears nothing`)
    const last = await store.reserve(a, SIGN_IN_LIMITS)
    await store.settle(a, 'success', last)
    t.equal(await account(), 0, `${name}: a success with nothing in flight clears the account`)
    t.equal((await store.peek(a.address)).count, 1, `${name}: the address keeps its failed account`)
  }
})

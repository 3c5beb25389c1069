import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { addUser, build, freePort } from '../../support/helper.js'
import { ACCOUNT_FAILURES } from '../../../lib/oauth/brute-force.js'

/**
 * Brute-force limits must hold under concurrency. Guesses sent at once over real connections must be counted
 * one by one: no more passwords verified than the account limit allows, the rest answered 429 with Retry-After,
 * and the right password beyond the limit gets no token. The reservation protocol itself, in memory and in Redis,
 * is test/lib/oauth/sign-in-reservation.test.ts's.
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

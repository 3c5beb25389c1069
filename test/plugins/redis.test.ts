import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { addUser, build, FORM, form } from '../support/helper.js'
import { startTcpProxy } from '../support/tcp-proxy.js'

/**
 * Issue 11, items 5 and 6: every Redis key and channel is under REDIS_PREFIX, so two prefixes do not see
 * each other; and a Redis that stops answering costs a login less than 100 ms (REDIS_TIMEOUT_MS, then a
 * circuit breaker that uses local counters at once).
 */
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const unique = () => `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`

const attempt = (app: FastifyInstance, username: string, password: string, ip = '192.0.2.1') =>
  app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'password', username, password }), remoteAddress: ip })

t.test('two REDIS_PREFIX values on one Redis and one issuer do not see each other\'s keys or invalidations', async (t) => {
  const redis = new Redis(redisUrl)
  t.teardown(() => { redis.disconnect() })
  const [p1, p2] = [`${unique()}:a:`, `${unique()}:b:`]
  // The prefixes are the subject here, not the timeout (the next test's): at the default 50 ms, a machine busy
  // with other test files timed a Redis call out, the circuit breaker counted locally, and the lock was missed.
  const env = { REDIS_URL: redisUrl, REDIS_TIMEOUT_MS: '2000' }
  const a = await build(t, { ...env, REDIS_PREFIX: p1 })
  const b = await build(t, { ...env, REDIS_PREFIX: p2 })
  for (const app of [a, b]) await addUser(app, 'frank', 'frank-pw')
  for (let i = 0; i < 10; i++) t.equal((await attempt(a, 'frank', 'wrong', `192.0.2.${i}`)).statusCode, 400)
  t.equal((await attempt(a, 'frank', 'frank-pw', '192.0.2.100')).statusCode, 429, 'locked under the first prefix')
  t.equal((await attempt(b, 'frank', 'frank-pw', '192.0.2.101')).statusCode, 200, 'not under the second')

  const keys1 = await redis.keys(`${p1}*`)
  t.ok(keys1.length >= 2, `the counters are under ${p1} (${keys1.length} keys)`)
  t.same(await redis.keys(`${p2}bf:acct:*`), [], 'the second prefix has no failure of frank\'s: its success cleared what it had')
  const channels = await redis.pubsub('CHANNELS', '*') as string[]
  t.ok(channels.includes(`${p1}invalidate`) && channels.includes(`${p2}invalidate`), 'each deployment listens on its own channel')
  t.ok(channels.every((c) => !c.startsWith(p1) || c === `${p1}invalidate`), 'nothing else')
})

t.test('a Redis that stops answering costs a login less than 100 ms, and limits go on locally', async (t) => {
  const target = new URL(redisUrl)
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) })
  t.teardown(() => proxy.stop())
  const app = await build(t, { REDIS_URL: `redis://127.0.0.1:${proxy.port}`, REDIS_PREFIX: `${unique()}:` })
  await addUser(app, 'gina', 'gina-pw')
  const timed = async (password: string, ip: string) => {
    const started = performance.now()
    const res = await attempt(app, 'gina', password, ip)
    return { status: res.statusCode, ms: performance.now() - started }
  }
  const baseline: number[] = []
  for (let i = 0; i < 5; i++) {
    const r = await timed('gina-pw', `198.51.100.${i}`)
    t.equal(r.status, 200)
    baseline.push(r.ms)
  }
  const usual = [...baseline].sort((x, y) => x - y)[2]!

  proxy.mode = 'blackhole'
  // The median of five against the usual +100 ms, and each one far from a hang: on a machine busy with other
  // test files one login in five took 190 ms (usually 50) while the others took the usual time.
  const hung: number[] = []
  for (let i = 0; i < 5; i++) {
    const r = await timed('gina-pw', `198.51.100.${10 + i}`)
    t.equal(r.status, 200, `login ${i} with Redis hung`)
    t.ok(r.ms - usual < 1_000, `login ${i}: ${r.ms.toFixed(1)} ms (usually ${usual.toFixed(1)} ms): not waiting on Redis`)
    hung.push(r.ms)
  }
  const median = [...hung].sort((x, y) => x - y)[2]!
  t.ok(median - usual < 100, `with Redis hung a login takes ${median.toFixed(1)} ms (median; usually ${usual.toFixed(1)} ms): less than 100 ms more`)
  for (let i = 0; i < 10; i++) await timed('wrong', `203.0.113.${i}`)
  t.equal((await timed('gina-pw', '203.0.113.99')).status, 429, 'the account limit holds on local counters')
})

import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { addUser, build, FORM, form } from '../../support/helper.js'

const attempt = (app: FastifyInstance, username: string, password: string, ip = '192.0.2.1') =>
  app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'password', username, password }), remoteAddress: ip })

// The P5 cases (per account, per IP, unknown usernames) are in test/security/p-password.test.ts, I2 in
// test/security/i-introspection.test.ts.

t.test('a success clears the account\'s failures', async (t) => {
  const app = await build(t)
  await addUser(app, 'erin', 'erin-pw')
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 9; i++) await attempt(app, 'erin', 'wrong', `10.0.${round}.${i}`)
    t.equal((await attempt(app, 'erin', 'erin-pw', `10.1.${round}.1`)).statusCode, 200, `round ${round}`)
  }
})

t.test('with REDIS_URL, counters are shared by instances of one issuer; an unreachable Redis falls back to local limits', async (t) => {
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
  const issuer = `http://shared-${Date.now()}-${Math.random().toString(36).slice(2)}.test`
  // REDIS_TIMEOUT_MS: this test is about sharing; on a loaded machine the default 50 ms timeout would trip the
  // circuit breaker and each instance would count alone (test/plugins/redis.test.ts tests the timeout itself).
  const a = await build(t, { REDIS_URL: redisUrl, REDIS_TIMEOUT_MS: '1000', ISSUER: issuer })
  const b = await build(t, { REDIS_URL: redisUrl, REDIS_TIMEOUT_MS: '1000', ISSUER: issuer })
  const other = await build(t, { REDIS_URL: redisUrl, REDIS_TIMEOUT_MS: '1000', ISSUER: `${issuer}.other` })
  for (const app of [a, b, other]) await addUser(app, 'frank', 'frank-pw')
  for (let i = 0; i < 10; i++) t.equal((await attempt(i % 2 ? a : b, 'frank', 'wrong', `192.0.2.${i}`)).statusCode, 400)
  t.equal((await attempt(b, 'frank', 'frank-pw', '192.0.2.200')).statusCode, 429, 'failures at A and B add up')
  t.equal((await attempt(a, 'frank', 'frank-pw', '192.0.2.201')).statusCode, 429)
  t.equal((await attempt(other, 'frank', 'frank-pw', '192.0.2.202')).statusCode, 200, 'another deployment on the same Redis is not affected')

  const { freePort } = await import('../../support/helper.js')
  const down = await build(t, { REDIS_URL: `redis://127.0.0.1:${await freePort()}` })
  await addUser(down, 'gina', 'gina-pw')
  const started = Date.now()
  t.equal((await attempt(down, 'gina', 'gina-pw')).statusCode, 200, 'sign-in works without Redis')
  t.ok(Date.now() - started < 1000, 'and does not wait on it')
  for (let i = 0; i < 10; i++) await attempt(down, 'gina', 'wrong', `198.51.100.${i}`)
  t.equal((await attempt(down, 'gina', 'gina-pw', '198.51.100.99')).statusCode, 429, 'local limits still apply')
  t.equal((await down.inject({ url: '/ready' })).statusCode, 200, '/ready does not depend on Redis')
})

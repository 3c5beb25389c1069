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

t.test('22.9: 100 times LIMIT_COUNTERS_MAX upstream starts from fresh addresses leave a locked account locked', async (t) => {
  const { startUpstreamOp } = await import('../../support/upstream/op.js')
  const { addOidcProvider, callbackUrl } = await import('../../support/upstream/flow.js')
  const app = await build(t, { LIMIT_COUNTERS_MAX: '20' })
  await addUser(app, 'hana', 'hana-pw')
  const op = await startUpstreamOp({ redirectUris: callbackUrl('corp') })
  t.teardown(() => op.close())
  await addOidcProvider(app, 'corp', op)
  for (let i = 0; i < 10; i++) t.equal((await attempt(app, 'hana', 'wrong', `192.0.2.${i}`)).statusCode, 400)
  t.equal((await attempt(app, 'hana', 'hana-pw', '192.0.2.100')).statusCode, 429, 'locked')
  for (let i = 0; i < 2000; i++) {
    const res = await app.inject({ method: 'GET', url: '/login/corp', remoteAddress: `10.${i >> 8}.${i & 255}.1` })
    if (res.statusCode !== 303) t.fail(`start ${i}: ${res.statusCode}`)
  }
  t.equal((await attempt(app, 'hana', 'hana-pw', '192.0.2.101')).statusCode, 429, 'still locked after 2,000 anonymous counters')
})

t.test('22.9: when every per-account counter is live, a sign-in needing a new one gets 503 with Retry-After (JSON at /token, the page at /login)', async (t) => {
  const app = await build(t, { LIMIT_COUNTERS_MAX: '11' })
  await addUser(app, 'ivan', 'ivan-pw')
  t.equal((await attempt(app, 'ivan', 'wrong', '192.0.2.1')).statusCode, 400, 'ivan has a live counter')
  for (let i = 0; i < 9; i++) t.equal((await attempt(app, `nobody-${i}`, 'wrong', `192.0.2.${i + 10}`)).statusCode, 400)
  const refused = await attempt(app, 'someone-else', 'x', '192.0.2.50')
  t.equal(refused.statusCode, 503)
  t.same(refused.json(), { error: 'temporarily_unavailable', error_description: 'too many sign-ins are being tracked right now; try again later' })
  t.ok(Number(refused.headers['retry-after']) >= 1, 'Retry-After')
  t.equal(refused.headers['cache-control'], 'no-store')

  const { InjectBrowser, field } = await import('../../support/browser.js')
  const browser = new InjectBrowser(app)
  const page = await browser.get('/login')
  const res = await browser.post('/login', { username: 'someone-else', password: 'x', csrf: field(page.body, 'csrf') })
  t.equal(res.statusCode, 503, 'the login form: 503')
  t.match(String(res.headers['content-type']), /^text\/html/, 'an HTML page')
  t.ok(Number(res.headers['retry-after']) >= 1, 'Retry-After')

  t.equal((await attempt(app, 'ivan', 'ivan-pw', '192.0.2.60')).statusCode, 200, 'an account whose counter is live still signs in')
})

import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { addUser, build, FORM, form } from './helper.js'

const attempt = (app: FastifyInstance, username: string, password: string, ip = '192.0.2.1') =>
  app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'password', username, password }), remoteAddress: ip })

t.test('P5: an account is throttled after 10 failures; the right password is refused while throttled; others are unaffected', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', 'alice-pw')
  await addUser(app, 'carol', 'carol-pw')
  const verifySpy = app.passwords.verify
  let hashes = 0
  app.passwords.verify = async (...args) => { hashes++; return verifySpy(...args) }

  for (let i = 0; i < 10; i++) {
    const res = await attempt(app, 'alice', `guess-${i}`, `192.0.2.${i % 2}`)
    t.equal(res.statusCode, 400, `guess ${i} is an ordinary failure`)
  }
  const blocked = await attempt(app, 'alice', 'alice-pw', '198.51.100.7')
  t.equal(blocked.statusCode, 429, 'throttled per account, whatever the IP')
  t.equal(blocked.json().error, 'too_many_requests')
  t.match(blocked.headers['retry-after'], /^\d+$/)
  t.ok(Number(blocked.headers['retry-after']) > 0 && Number(blocked.headers['retry-after']) <= 900)
  t.equal(blocked.headers['cache-control'], 'no-store')
  const before = hashes
  for (let i = 0; i < 20; i++) await attempt(app, 'alice', 'x', '198.51.100.8')
  t.equal(hashes, before, 'no hash is computed for a throttled account')

  const carol = await attempt(app, 'carol', 'carol-pw', '203.0.113.9')
  t.equal(carol.statusCode, 200, 'another user from another IP signs in meanwhile')
})

t.test('P5: unknown usernames are throttled the same way', async (t) => {
  const app = await build(t)
  for (let i = 0; i < 10; i++) t.equal((await attempt(app, 'ghost', 'x', `192.0.2.${i}`)).statusCode, 400)
  t.equal((await attempt(app, 'ghost', 'x', '192.0.2.99')).statusCode, 429)
})

t.test('P5: one IP spraying many accounts is throttled after 20 failures; other IPs are not', async (t) => {
  const app = await build(t)
  await addUser(app, 'dave', 'dave-pw')
  for (let i = 0; i < 20; i++) t.equal((await attempt(app, `user${i}`, 'x', '192.0.2.50')).statusCode, 400)
  t.equal((await attempt(app, 'dave', 'dave-pw', '192.0.2.50')).statusCode, 429, 'the spraying IP must wait, even with a right password')
  t.equal((await attempt(app, 'dave', 'dave-pw', '192.0.2.51')).statusCode, 200, 'dave from elsewhere is fine')
})

t.test('a success clears the account\'s failures', async (t) => {
  const app = await build(t)
  await addUser(app, 'erin', 'erin-pw')
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 9; i++) await attempt(app, 'erin', 'wrong', `10.0.${round}.${i}`)
    t.equal((await attempt(app, 'erin', 'erin-pw', `10.1.${round}.1`)).statusCode, 200, `round ${round}`)
  }
})

t.test('I2: a caller fishing with random tokens at /introspect is throttled', async (t) => {
  const { addClient, basic, post } = await import('./helper.js')
  const app = await build(t)
  const rs = { authorization: basic('rs', (await addClient(app, 'rs', { grantTypes: ['client_credentials'] }))!) }
  const other = { authorization: basic('rs2', (await addClient(app, 'rs2', { grantTypes: ['client_credentials'] }))!) }
  const statuses: number[] = []
  for (let i = 0; i < 110; i++) statuses.push((await post(app, '/introspect', { token: `random-${i}` }, rs)).statusCode)
  t.equal(statuses.slice(0, 100).every((s) => s === 200), true, 'the first 100 misses are answered')
  t.equal(statuses.slice(100).every((s) => s === 429), true, 'then the caller must wait')
  t.equal((await post(app, '/introspect', { token: 'random' }, other)).statusCode, 200, 'other callers are unaffected')
})

t.test('with REDIS_URL, counters are shared by instances of one issuer; an unreachable Redis falls back to local limits', async (t) => {
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
  const issuer = `http://shared-${Date.now()}-${Math.random().toString(36).slice(2)}.test`
  const a = await build(t, { REDIS_URL: redisUrl, ISSUER: issuer })
  const b = await build(t, { REDIS_URL: redisUrl, ISSUER: issuer })
  const other = await build(t, { REDIS_URL: redisUrl, ISSUER: `${issuer}.other` })
  for (const app of [a, b, other]) await addUser(app, 'frank', 'frank-pw')
  for (let i = 0; i < 10; i++) t.equal((await attempt(i % 2 ? a : b, 'frank', 'wrong', `192.0.2.${i}`)).statusCode, 400)
  t.equal((await attempt(b, 'frank', 'frank-pw', '192.0.2.200')).statusCode, 429, 'failures at A and B add up')
  t.equal((await attempt(a, 'frank', 'frank-pw', '192.0.2.201')).statusCode, 429)
  t.equal((await attempt(other, 'frank', 'frank-pw', '192.0.2.202')).statusCode, 200, 'another deployment on the same Redis is not affected')

  const { freePort } = await import('./helper.js')
  const down = await build(t, { REDIS_URL: `redis://127.0.0.1:${await freePort()}` })
  await addUser(down, 'gina', 'gina-pw')
  const started = Date.now()
  t.equal((await attempt(down, 'gina', 'gina-pw')).statusCode, 200, 'sign-in works without Redis')
  t.ok(Date.now() - started < 1000, 'and does not wait on it')
  for (let i = 0; i < 10; i++) await attempt(down, 'gina', 'wrong', `198.51.100.${i}`)
  t.equal((await attempt(down, 'gina', 'gina-pw', '198.51.100.99')).statusCode, 429, 'local limits still apply')
  t.equal((await down.inject({ url: '/ready' })).statusCode, 200, '/ready does not depend on Redis')
})

import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { addUser, build, FORM, form } from './helper.js'

const attempt = (app: FastifyInstance, username: string, password: string, ip = '192.0.2.1') =>
  app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'password', username, password }), remoteAddress: ip })

// The P5 cases (per account, per IP, unknown usernames) are in test/security/password.test.ts.

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

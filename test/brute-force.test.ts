import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { addUser, build, FORM, form } from './helper.js'

const attempt = (app: FastifyInstance, username: string, password: string, ip = '192.0.2.1') =>
  app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'password', username, password }), remoteAddress: ip })

// The P5 cases (per account, per IP, unknown usernames) are in test/security/password.test.ts, I2 in
// test/security/introspection.test.ts.

t.test('a success clears the account\'s failures', async (t) => {
  const app = await build(t)
  await addUser(app, 'erin', 'erin-pw')
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 9; i++) await attempt(app, 'erin', 'wrong', `10.0.${round}.${i}`)
    t.equal((await attempt(app, 'erin', 'erin-pw', `10.1.${round}.1`)).statusCode, 200, `round ${round}`)
  }
})

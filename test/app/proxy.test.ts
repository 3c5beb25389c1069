import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, FORM, form } from '../support/helper.js'

/**
 * TRUST_PROXY (SECURITY-CASES X7): per-address limits use X-Forwarded-For only from trusted proxies.
 * Each attempt is a failed sign-in of a distinct unknown user, so only the per-address limit can answer 429.
 */
let attempt = 0
const failedLogin = (app: FastifyInstance, forwardedFor: string) => app.inject({
  method: 'POST',
  url: '/token',
  remoteAddress: '127.0.0.1',
  headers: { ...FORM, 'x-forwarded-for': forwardedFor },
  payload: form({ grant_type: 'password', username: `nobody-${++attempt}`, password: 'wrong' })
})

/** Fails sign-ins "from" `forwardedFor` until the per-address limit answers 429; returns how many it took. */
async function exhaust (t: Test, app: FastifyInstance, forwardedFor: string): Promise<number> {
  for (let i = 1; i <= 500; i++) {
    const res = await failedLogin(app, forwardedFor)
    if (res.statusCode === 429) return i
    t.equal(res.statusCode, 400, `attempt ${i} is an ordinary failure`)
  }
  t.fail('the per-address limit never answered')
  return -1
}

t.test('without TRUST_PROXY, X-Forwarded-For is ignored: every attempt counts against the socket address', async (t) => {
  const app = await build(t)
  await exhaust(t, app, '203.0.113.1')
  const other = await failedLogin(app, '203.0.113.2')
  t.equal(other.statusCode, 429, 'a different forwarded address changes nothing: the proxy (socket) address is limited')
  const probe = await app.inject({ method: 'GET', url: '/health', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.9' } })
  t.equal(probe.statusCode, 200)
})

t.test('with TRUST_PROXY=127.0.0.1, limits apply to the forwarded address', async (t) => {
  const app = await build(t, { TRUST_PROXY: '127.0.0.1' })
  await exhaust(t, app, '203.0.113.1')
  const same = await failedLogin(app, '203.0.113.1')
  t.equal(same.statusCode, 429, 'the address behind the proxy stays limited')
  const other = await failedLogin(app, '203.0.113.2')
  t.equal(other.statusCode, 400, 'another client behind the same proxy is not locked out')
})

t.test('with TRUST_PROXY set to another address, a client cannot pick its own address', async (t) => {
  const app = await build(t, { TRUST_PROXY: '10.9.9.9' })
  await exhaust(t, app, '203.0.113.1')
  t.equal((await failedLogin(app, '203.0.113.2')).statusCode, 429, 'X-Forwarded-For from an untrusted peer is ignored')
})

t.test('issuer and metadata never come from forwarded headers, even from a trusted proxy', async (t) => {
  const app = await build(t, { TRUST_PROXY: 'true' })
  const res = await app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server', headers: { 'x-forwarded-host': 'evil.test', 'x-forwarded-proto': 'https', host: 'evil.test' } })
  t.equal(res.json().issuer, 'http://gatehouse.test')
  t.notMatch(res.body, /evil/)
})

t.test('request ids: a usable X-Request-Id is kept and returned, anything else replaced by a UUID', async (t) => {
  const app = await build(t)
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
  const a = await app.inject({ method: 'GET', url: '/health' })
  const b = await app.inject({ method: 'GET', url: '/health' })
  t.match(a.headers['x-request-id'], uuid, 'a generated id is a UUID')
  t.not(a.headers['x-request-id'], b.headers['x-request-id'], 'never the same twice (not a counter)')
  const kept = await app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'lb-7f3a:0042' } })
  t.equal(kept.headers['x-request-id'], 'lb-7f3a:0042', 'the caller\'s id is returned')
  for (const bad of ['x'.repeat(129), 'a b', 'a"b', '{"level":60}', '']) {
    const res = await app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': bad } })
    t.match(res.headers['x-request-id'], uuid, `${JSON.stringify(bad.slice(0, 20))} is replaced`)
  }
  const error = await app.inject({ method: 'GET', url: '/nope', headers: { 'x-request-id': 'trace-1' } })
  t.equal(error.headers['x-request-id'], 'trace-1', 'error replies carry it too')
})

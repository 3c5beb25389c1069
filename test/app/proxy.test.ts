import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, FORM, form } from '../support/helper.js'
import { InjectBrowser, field } from '../support/browser.js'
import { startUpstreamOp } from '../support/upstream/op.js'
import { addOidcProvider, callbackUrl } from '../support/upstream/flow.js'
import { ADDRESS_ACCOUNTS, UPSTREAM_STARTS } from '../../lib/oauth/brute-force.js'

/**
 * TRUST_PROXY (SECURITY-CASES X7): per-address limits use X-Forwarded-For only from trusted proxies.
 * Each attempt is a failed sign-in of a distinct unknown user, so only the per-address limit can answer 429.
 */
let attempt = 0
const failedLogin = (app: FastifyInstance, forwardedFor: string | undefined, remoteAddress = '127.0.0.1') => app.inject({
  method: 'POST',
  url: '/token',
  remoteAddress,
  headers: { ...FORM, ...(forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }) },
  payload: form({ grant_type: 'password', username: `nobody-${++attempt}`, password: 'wrong' })
})

/**
 * Fails sign-ins until the per-address limit answers 429; returns how many it took. Attempt i is sent with
 * X-Forwarded-For `forwardedFor(i)` (a fixed string: the same each time) from socket address `remoteAddress(i)`.
 */
async function exhaust (t: Test, app: FastifyInstance, forwardedFor: string | undefined | ((i: number) => string | undefined), remoteAddress: (i: number) => string = () => '127.0.0.1'): Promise<number> {
  for (let i = 1; i <= 500; i++) {
    const res = await failedLogin(app, typeof forwardedFor === 'function' ? forwardedFor(i) : forwardedFor, remoteAddress(i))
    if (res.statusCode === 429) return i
    if (res.statusCode !== 400) t.fail(`attempt ${i}: ${res.statusCode}, not an ordinary failure`)
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

t.test('X7: TRUST_PROXY=1 trusts exactly one hop: a client-chosen first X-Forwarded-For entry changes nothing, the address the proxy saw is limited after 50 accounts', async (t) => {
  const app = await build(t, { TRUST_PROXY: '1' })
  // What a client sends through one proxy: its own (forged) X-Forwarded-For, to which the proxy appends what it saw.
  const taken = await exhaust(t, app, (i) => `10.${i >> 8}.${i & 255}.1, 198.51.100.7`)
  t.equal(taken, ADDRESS_ACCOUNTS.max + 1, `429 at account ${ADDRESS_ACCOUNTS.max + 1}: every attempt counted against 198.51.100.7`)
  t.equal((await failedLogin(app, '203.0.113.50, 198.51.100.8')).statusCode, 400, 'another client of the proxy is not limited')
})

t.test('X7: the login page (POST /login) reaches its 429 page: 51 accounts from one address, a new X-Forwarded-For each, no TRUST_PROXY', async (t) => {
  const app = await build(t)
  const browser = new InjectBrowser(app)
  const page = await browser.get('/login')
  t.equal(page.statusCode, 200)
  const csrf = field(page.body, 'csrf')
  for (let i = 1; i <= ADDRESS_ACCOUNTS.max; i++) {
    const res = await browser.post('/login', { username: `page-${i}`, password: 'wrong', csrf }, { 'x-forwarded-for': `198.51.100.${i}` })
    if (res.statusCode !== 401) t.fail(`attempt ${i}: ${res.statusCode}, not the wrong-password page`)
  }
  const refused = await browser.post('/login', { username: `page-${ADDRESS_ACCOUNTS.max + 1}`, password: 'wrong', csrf }, { 'x-forwarded-for': '198.51.100.250' })
  t.equal(refused.statusCode, 429, `account ${ADDRESS_ACCOUNTS.max + 1} from the same socket address: 429`)
  t.match(String(refused.headers['content-type']), /^text\/html/, 'the login page (HTML), not JSON')
  t.match(refused.body, /Too many failed attempts/)
  t.match(refused.body, /name="password"/, 'the form is shown again')
  t.ok(Number(refused.headers['retry-after']) >= 1, 'Retry-After')
})

t.test('22.8: IPv6 clients count by their /64: fresh addresses of one /64 are limited as one client, the next /64 is not', async (t) => {
  const app = await build(t)
  const taken = await exhaust(t, app, undefined, (i) => `2001:db8:1:2:${i.toString(16)}::${((i * 7919) % 0xffff).toString(16)}`)
  t.equal(taken, ADDRESS_ACCOUNTS.max + 1, 'a new address of 2001:db8:1:2::/64 each time: 429 after 50 accounts')
  t.equal((await failedLogin(app, undefined, '2001:db8:1:3::1')).statusCode, 400, 'the neighbouring /64 is another client')

  const mapped = await exhaust(t, app, undefined, (i) => i % 2 === 0 ? '::ffff:203.0.113.5' : '203.0.113.5')
  t.equal(mapped, ADDRESS_ACCOUNTS.max + 1, 'an IPv4-mapped IPv6 address counts as the IPv4 address')
})

t.test('22.8: behind TRUST_PROXY, forwarded IPv6 addresses count by their /64 too; IPV6_PREFIX_LENGTH changes the network', async (t) => {
  const app = await build(t, { TRUST_PROXY: '127.0.0.1' })
  t.equal(await exhaust(t, app, (i) => `2001:db8:aa:bb::${i.toString(16)}`), ADDRESS_ACCOUNTS.max + 1, '429 after 50 accounts from one /64')
  t.equal((await failedLogin(app, '2001:db8:aa:bc::1')).statusCode, 400, 'another /64 behind the proxy: not limited')

  const wide = await build(t, { TRUST_PROXY: '127.0.0.1', IPV6_PREFIX_LENGTH: '48' })
  t.equal(await exhaust(t, wide, (i) => `2001:db8:cc:${i.toString(16)}::1`), ADDRESS_ACCOUNTS.max + 1, 'IPV6_PREFIX_LENGTH=48: one /48 is one client')
  const narrow = await build(t, { TRUST_PROXY: '127.0.0.1', IPV6_PREFIX_LENGTH: '128' })
  for (let i = 1; i <= ADDRESS_ACCOUNTS.max + 5; i++) {
    const res = await failedLogin(narrow, `2001:db8:dd:ee::${i.toString(16)}`)
    if (res.statusCode !== 400) t.fail(`IPV6_PREFIX_LENGTH=128, address ${i}: ${res.statusCode}`)
  }
  t.pass('IPV6_PREFIX_LENGTH=128: each address on its own')
})

t.test('22.8: upstream sign-in starts count by the /64 as well', async (t) => {
  const app = await build(t)
  const op = await startUpstreamOp({ redirectUris: callbackUrl('corp') })
  t.teardown(() => op.close())
  await addOidcProvider(app, 'corp', op)
  const start = (remoteAddress: string) => app.inject({ method: 'GET', url: '/login/corp', remoteAddress })
  for (let i = 1; i <= UPSTREAM_STARTS.max; i++) {
    const res = await start(`2001:db8:5:6:${i.toString(16)}::1`)
    if (res.statusCode !== 303) t.fail(`start ${i}: ${res.statusCode}`)
  }
  const refused = await start('2001:db8:5:6:ffff::1')
  t.equal(refused.statusCode, 429, `start ${UPSTREAM_STARTS.max + 1} from the same /64, from a fresh address: 429`)
  t.equal((await start('2001:db8:5:7::1')).statusCode, 303, 'another /64 starts')
})

t.test('issuer and metadata never come from forwarded headers, even from a trusted proxy', async (t) => {
  const app = await build(t, { TRUST_PROXY: 'true' })
  const res = await app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server', headers: { 'x-forwarded-host': 'evil.test', 'x-forwarded-proto': 'https', host: 'evil.test' } })
  t.equal(res.json().issuer, 'http://gatehouse.test')
  t.notMatch(res.body, /evil/)
})

t.test('request ids: a usable X-Request-Id from a trusted proxy is kept and returned, anything else replaced by a UUID', async (t) => {
  const app = await build(t, { TRUST_PROXY: '127.0.0.1' })
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

t.test('22.12: a client\'s own X-Request-Id is not taken: without TRUST_PROXY, or from a peer that is not a trusted proxy', async (t) => {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
  const direct = await build(t)
  const res = await direct.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'chosen-by-client' } })
  t.match(res.headers['x-request-id'], uuid, 'no TRUST_PROXY: a UUID of ours')
  const error = await direct.inject({ method: 'GET', url: '/nope', headers: { 'x-request-id': 'chosen-by-client' } })
  t.match(error.headers['x-request-id'], uuid, 'on error replies too')

  const proxied = await build(t, { TRUST_PROXY: '10.0.0.1' })
  const stranger = await proxied.inject({ method: 'GET', url: '/health', remoteAddress: '203.0.113.9', headers: { 'x-request-id': 'chosen-by-client' } })
  t.match(stranger.headers['x-request-id'], uuid, 'a peer that is not the trusted proxy: a UUID of ours')
  const proxy = await proxied.inject({ method: 'GET', url: '/health', remoteAddress: '10.0.0.1', headers: { 'x-request-id': 'lb-42' } })
  t.equal(proxy.headers['x-request-id'], 'lb-42', 'the trusted proxy\'s id is kept')
})

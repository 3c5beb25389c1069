import t from 'tap'
import type { IncomingMessage } from 'node:http'
import { parseTrustProxy, peerTrusted, requestIdGenerator } from '../../../lib/http/request-context.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const withId = (value?: string | string[], remoteAddress = '10.0.0.1') =>
  ({ headers: value === undefined ? {} : { 'x-request-id': value }, socket: { remoteAddress } }) as unknown as IncomingMessage
/** Behind a trusted proxy at 10.0.0.1. */
const requestId = requestIdGenerator(['10.0.0.1'])

t.test('requestId: a tame X-Request-Id from a trusted proxy is kept as it is', async (t) => {
  for (const id of ['abc', 'req-42', 'a.b_c:d@e/f+g=h', 'X'.repeat(128), '0af7651916cd43dd8448eb211c80319c']) {
    t.equal(requestId(withId(id)), id, JSON.stringify(id))
  }
})

t.test('requestId: anything else, or nothing, is replaced by a fresh UUID', async (t) => {
  for (const id of [undefined, '', 'X'.repeat(129), 'with space', 'line\nbreak', 'quote"', '<script>', 'ünïcode', ['a', 'b']]) {
    t.match(requestId(withId(id)), UUID, JSON.stringify(id))
  }
  t.not(requestId(withId()), requestId(withId()), 'never the same twice')
})

t.test('22.12: requestId: a client\'s own X-Request-Id is never taken, only a trusted proxy\'s', async (t) => {
  t.match(requestIdGenerator(undefined)(withId('client-chosen', '10.0.0.1')), UUID, 'without TRUST_PROXY: nobody\'s')
  t.match(requestIdGenerator(false)(withId('client-chosen', '10.0.0.1')), UUID, 'TRUST_PROXY=false: nobody\'s')
  t.match(requestIdGenerator(0)(withId('client-chosen', '10.0.0.1')), UUID, 'TRUST_PROXY=0: nobody\'s')
  t.match(requestId(withId('client-chosen', '203.0.113.9')), UUID, 'a peer that is not a trusted proxy: replaced')
  t.match(requestId({ headers: { 'x-request-id': 'client-chosen' }, socket: {} } as unknown as IncomingMessage), UUID, 'no socket address: replaced')
  t.equal(requestIdGenerator(true)(withId('lb-1', '203.0.113.9')), 'lb-1', 'TRUST_PROXY=true trusts every peer (and says so at start)')
  t.equal(requestIdGenerator(1)(withId('lb-1', '203.0.113.9')), 'lb-1', 'a hop count: the nearest hop is the proxy')
  const ranges = requestIdGenerator(['10.1.0.0/16', 'loopback', '2001:db8::/32'])
  t.equal(ranges(withId('lb-2', '10.1.200.3')), 'lb-2', 'in a trusted range')
  t.equal(ranges(withId('lb-3', '::ffff:127.0.0.1')), 'lb-3', 'loopback, IPv4-mapped')
  t.equal(ranges(withId('lb-4', '2001:db8:1::1')), 'lb-4', 'an IPv6 range')
  t.match(ranges(withId('lb-5', '10.2.0.1')), UUID, 'outside every range')
})

t.test('peerTrusted: as Fastify trusts the nearest hop', async (t) => {
  t.equal(peerTrusted(['uniquelocal'])('192.168.1.1'), true)
  t.equal(peerTrusted(['linklocal'])('fe80::1'), true)
  t.equal(peerTrusted(['192.0.2.1'])('192.0.2.2'), false)
  t.equal(peerTrusted(['192.0.2.1'])('not an address'), false)
})

t.test('parseTrustProxy: true, false and a hop count', async (t) => {
  t.equal(parseTrustProxy('true'), true)
  t.equal(parseTrustProxy('false'), false)
  t.equal(parseTrustProxy('0'), 0)
  t.equal(parseTrustProxy('2'), 2)
})

t.test('parseTrustProxy: addresses, CIDR ranges and proxy-addr\'s named ranges, trimmed', async (t) => {
  t.same(parseTrustProxy('127.0.0.1'), ['127.0.0.1'])
  t.same(parseTrustProxy(' 10.0.0.0/8 , ::1, fd00::/8,loopback,linklocal, uniquelocal '), ['10.0.0.0/8', '::1', 'fd00::/8', 'loopback', 'linklocal', 'uniquelocal'])
  t.same(parseTrustProxy('192.0.2.1/32,2001:db8::/128'), ['192.0.2.1/32', '2001:db8::/128'], 'the widest prefix of each family')
})

t.test('parseTrustProxy: anything else is refused, naming the entry', async (t) => {
  const refused: Array<[string, RegExp]> = [
    ['proxy.example', /"proxy\.example"/],
    ['10.0.0.0/33', /10\.0\.0\.0\/33/],
    ['::1/129', /::1\/129/],
    ['10.0.0.0/8/1', /10\.0\.0\.0\/8\/1/],
    ['10.0.0.0/x', /10\.0\.0\.0\/x/],
    ['127.0.0.1, nope', /"nope"/],
    ['-1', /"-1"/],
    [',', /","/],
    ['', /""/]
  ]
  for (const [value, names] of refused) t.throws(() => parseTrustProxy(value), names, JSON.stringify(value))
})

import t from 'tap'
import type { IncomingMessage } from 'node:http'
import { parseTrustProxy, requestId } from '../../../lib/http/request-context.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const withId = (value?: string | string[]) => ({ headers: value === undefined ? {} : { 'x-request-id': value } }) as unknown as IncomingMessage

t.test('requestId: a tame X-Request-Id is kept as it is', async (t) => {
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

import t from 'tap'
import crypto from 'node:crypto'
import { syncBuiltinESMExports } from 'node:module'
import { metricsAccess } from '../../../lib/ops/metrics-token.js'
import { startupWarnings } from '../../../lib/ops/startup-warnings.js'
import { isLoopback } from '../../../lib/http/listen-address.js'

// Who may read /metrics (lib/ops/metrics-token.ts) and the warnings a server gives at start (lib/ops/startup-warnings.ts).

const TOKEN = 'kT8w-3fQ.zR_p~1x+Yb/9Lm2'

t.test('22.12: metricsAccess: anyone without METRICS_TOKEN; with it, only `Bearer <token>`', async (t) => {
  t.equal(metricsAccess(undefined, undefined), 'allowed', 'no METRICS_TOKEN: open')
  t.equal(metricsAccess(undefined, 'Bearer anything'), 'allowed')
  t.equal(metricsAccess(TOKEN, `Bearer ${TOKEN}`), 'allowed')
  t.equal(metricsAccess(TOKEN, `bearer  ${TOKEN}`), 'allowed', 'the scheme in any case, one or more spaces (RFC 6750 §2.1)')
  for (const none of [undefined, '', 'Bearer', 'Bearer ', `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`, `${TOKEN}`, `Bearer ${TOKEN} extra`]) {
    t.equal(metricsAccess(TOKEN, none), 'no-token', `${JSON.stringify(none)}: no bearer token`)
  }
  for (const wrong of [TOKEN.slice(0, -1), `${TOKEN}x`, TOKEN.toUpperCase(), 'x'.repeat(500), 'a']) {
    t.equal(metricsAccess(TOKEN, `Bearer ${wrong}`), 'wrong-token', `${wrong.slice(0, 30)}: wrong`)
  }
})

t.test('22.12: metricsAccess compares in constant time: timingSafeEqual on two equal-length digests, whatever the length sent', async (t) => {
  const real = crypto.timingSafeEqual
  const calls: Array<[number, number]> = []
  crypto.timingSafeEqual = ((a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => { calls.push([a.byteLength, b.byteLength]); return real(a, b) }) as typeof real
  syncBuiltinESMExports()
  try {
    metricsAccess(TOKEN, `Bearer ${TOKEN}`)
    metricsAccess(TOKEN, `Bearer ${TOKEN.slice(0, 20)}`)
    metricsAccess(TOKEN, `Bearer ${'y'.repeat(300)}`)
  } finally {
    crypto.timingSafeEqual = real
    syncBuiltinESMExports()
  }
  t.same(calls, [[32, 32], [32, 32], [32, 32]], 'every comparison is timingSafeEqual on 32-byte digests')
})

t.test('22.8: startupWarnings: TRUST_PROXY=true, one line that names what to set instead', async (t) => {
  const base = { host: '127.0.0.1', metricsToken: undefined, trustProxy: undefined }
  t.same(startupWarnings(base), [], 'loopback, no TRUST_PROXY: nothing to say')
  for (const trustProxy of [1, 2, ['10.0.0.1'], false] as const) {
    t.same(startupWarnings({ ...base, trustProxy: trustProxy as number | boolean | string[] }), [], `TRUST_PROXY=${String(trustProxy)}: no warning`)
  }
  const [warning, ...more] = startupWarnings({ ...base, trustProxy: true })
  t.same(more, [], 'one line')
  t.match(warning, /TRUST_PROXY=true trusts every X-Forwarded-For hop/)
  t.match(warning, /TRUST_PROXY=1/, 'suggests a hop count')
  t.match(warning, /addresses/, 'or addresses')
})

t.test('22.12: startupWarnings: /metrics open beyond loopback', async (t) => {
  const [warning, ...more] = startupWarnings({ host: '0.0.0.0', metricsToken: undefined, trustProxy: undefined })
  t.same(more, [])
  t.match(warning, /METRICS_TOKEN/)
  t.same(startupWarnings({ host: '0.0.0.0', metricsToken: TOKEN, trustProxy: undefined }), [], 'with a token: nothing')
  for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '::ffff:127.0.0.1']) t.ok(isLoopback(host), `${host}: loopback`)
  for (const host of ['0.0.0.0', '::', '10.0.0.1', 'gatehouse.internal', '128.0.0.1']) t.notOk(isLoopback(host), `${host}: reachable from elsewhere`)
})

import t from 'tap'
import { addClient, addUser, basic, build, manualClock, post } from '../support/helper.js'
import { parseExposition, sampleValue } from '../support/prometheus.js'

t.test('GET /metrics: Prometheus text with request counts, latency histograms and error codes by route pattern', async (t) => {
  const app = await build(t)
  await app.inject({ url: '/health' })
  await app.inject({ url: '/users/me' })
  await app.inject({ url: '/admin/users/some-name' })
  await app.inject({ url: '/no/such/path?secret=x' })
  const res = await app.inject({ url: '/metrics' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  const e = parseExposition(res.body)
  t.same(e.problems, [], 'valid exposition format, consistent histograms')
  t.equal(sampleValue(e, 'gatehouse_http_requests_total', { method: 'GET', route: '/health', status: '200' }), 1)
  t.equal(sampleValue(e, 'gatehouse_http_requests_total', { method: 'GET', route: '/users/me', status: '401' }), 1)
  t.equal(sampleValue(e, 'gatehouse_http_requests_total', { route: '/admin/users/:username', status: '401' }), 1, 'route patterns, not raw URLs')
  t.notMatch(res.body, /some-name|secret/, 'no raw paths or query strings')
  t.equal(e.types.get('gatehouse_http_request_duration_seconds'), 'histogram')
  t.equal(sampleValue(e, 'gatehouse_http_request_duration_seconds_count', { method: 'GET', route: '/health' }), 1, 'one latency observation per request')
  t.equal(sampleValue(e, 'gatehouse_http_errors_total', { route: '/users/me', error: 'unauthorized' }), 1, 'errors by code')
  t.equal(sampleValue(e, 'gatehouse_http_errors_total', { route: 'unmatched', error: 'not_found' }), 1)
  t.equal(sampleValue(e, 'gatehouse_database_up'), 1)
  const ping = sampleValue(e, 'gatehouse_database_ping_seconds')
  t.ok(ping !== undefined && ping > 0 && ping < 5, `the scrape's database round trip (${ping} s)`)
  if (app.storage.kind === 'postgres') {
    const total = sampleValue(e, 'gatehouse_database_connections', { state: 'total' }) ?? 0
    t.ok(total >= 1, `pool connections (${total})`)
    t.ok((sampleValue(e, 'gatehouse_database_connections', { state: 'idle' }) ?? -1) >= 0, 'idle connections')
    t.equal(sampleValue(e, 'gatehouse_database_connections', { state: 'waiting' }), 0, 'nothing waits for a connection')
  } else {
    t.equal(sampleValue(e, 'gatehouse_database_connections', { state: 'total' }), undefined, 'SQLite has no pool')
  }
  t.ok((sampleValue(e, 'process_resident_memory_bytes') ?? 0) > 0)
  t.ok(sampleValue(e, 'nodejs_eventloop_delay_p99_seconds') !== undefined)
})

t.test('tokens issued by grant and client; security events by type', async (t) => {
  const app = await build(t)
  await addUser(app, 'root', 'root-pw', { scope: 'admin' })
  const svc = (await addClient(app, 'svc', { grantTypes: ['client_credentials'] }))!
  await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: basic('svc', svc) })
  await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: basic('svc', svc) })
  const login = (await post(app, '/token', { username: 'root', password: 'root-pw', scope: 'admin' })).json()
  const rotated = await app.inject({ method: 'POST', url: '/admin/keys/rotate', headers: { authorization: `Bearer ${login.access_token}` } })
  t.equal(rotated.statusCode, 200, 'key rotation (before the reuse below revokes this token)')
  await post(app, '/token', { grant_type: 'refresh_token', refresh_token: login.refresh_token })
  await post(app, '/token', { grant_type: 'refresh_token', refresh_token: login.refresh_token })
  const e = parseExposition((await app.inject({ url: '/metrics' })).body)
  t.same(e.problems, [])
  t.equal(sampleValue(e, 'gatehouse_tokens_issued_total', { grant_type: 'client_credentials', client_id: 'svc' }), 2)
  t.equal(sampleValue(e, 'gatehouse_tokens_issued_total', { grant_type: 'password', client_id: 'default' }), 1)
  t.equal(sampleValue(e, 'gatehouse_tokens_issued_total', { grant_type: 'refresh_token', client_id: 'default' }), 1)
  t.equal(sampleValue(e, 'gatehouse_security_events_total', { type: 'refresh_reuse' }), 1, 'the replayed refresh token')
  t.equal(sampleValue(e, 'gatehouse_security_events_total', { type: 'key_rotated' }), 1)
  t.equal(sampleValue(e, 'gatehouse_security_events_total', { type: 'admin_change' }), 1)
  t.equal(sampleValue(e, 'gatehouse_http_errors_total', { route: '/token', error: 'invalid_grant' }), 1)
})

t.test('label sets are capped: values a request carries cannot grow /metrics without bound', async (t) => {
  const { Registry, MAX_SERIES } = await import('../../lib/ops/metrics.js')
  const registry = new Registry()
  const c = registry.counter('x_total', 'x', ['client_id'])
  for (let i = 0; i < MAX_SERIES + 500; i++) c.inc([`client-${i}`])
  const e = parseExposition(registry.render())
  t.equal(e.samples.length, MAX_SERIES + 1, 'MAX_SERIES series plus one "other"')
  t.equal(sampleValue(e, 'x_total', { client_id: 'other' }), 500, 'the overflow is counted, not lost')
})

t.test('cache hit rates: user and client lookups answered from memory or by the store', async (t) => {
  const clock = manualClock()
  const app = await build(t, {}, { clock })
  await addUser(app, 'alice', 'alice-pw')
  const token = (await post(app, '/token', { username: 'alice', password: 'alice-pw' })).json().access_token as string
  const before = parseExposition((await app.inject({ url: '/metrics' })).body)
  const lookups = (e: typeof before, cache: string, result: string) => sampleValue(e, 'gatehouse_cache_lookups_total', { cache, result }) ?? 0
  for (let i = 0; i < 5; i++) t.equal((await app.inject({ url: '/users/me', headers: { authorization: `Bearer ${token}` } })).statusCode, 200)
  clock.advance(1) // past the second one exposition is served for
  const after = parseExposition((await app.inject({ url: '/metrics' })).body)
  t.same(after.problems, [])
  t.equal(after.types.get('gatehouse_cache_lookups_total'), 'counter')
  const userLookups = lookups(after, 'users', 'hit') + lookups(after, 'users', 'miss') - lookups(before, 'users', 'hit') - lookups(before, 'users', 'miss')
  t.equal(userLookups, 5, 'one user lookup per bearer check')
  t.ok(lookups(after, 'users', 'hit') - lookups(before, 'users', 'hit') >= 4, 'within the cache lifetime, answered from memory')
})

t.test('22.12: METRICS_TOKEN: without it or with another, 401 and a Bearer challenge; with it, the exposition', async (t) => {
  const token = 'scrape-token-0123456789abcdef'
  const app = await build(t, { METRICS_TOKEN: token })
  const scrape = (authorization?: string) => app.inject({ url: '/metrics', headers: authorization === undefined ? {} : { authorization } })
  const none = await scrape()
  t.equal(none.statusCode, 401)
  t.equal(none.headers['www-authenticate'], 'Bearer realm="gatehouse"')
  t.notMatch(none.body, /gatehouse_/, 'no metric in the refusal')
  for (const wrong of [`Bearer ${token}x`, `Bearer ${token.slice(1)}`, 'Bearer x', `Basic ${Buffer.from(`metrics:${token}`).toString('base64')}`, token]) {
    const res = await scrape(wrong)
    t.equal(res.statusCode, 401, `${wrong.slice(0, 24)}…: 401`)
    t.match(res.headers['www-authenticate'], /^Bearer realm="gatehouse"/)
  }
  const ok = await scrape(`Bearer ${token}`)
  t.equal(ok.statusCode, 200)
  t.match(ok.body, /gatehouse_http_requests_total\{method="GET",route="\/metrics",status="401"\} 6/, 'the refusals are counted')
  t.equal((await app.inject({ url: '/health' })).statusCode, 200, 'nothing else needs it')

  const open = await build(t)
  t.equal((await open.inject({ url: '/metrics' })).statusCode, 200, 'without METRICS_TOKEN, /metrics stays open')
})

t.test('22.12: a scrape flood costs one exposition (and one database ping) a second', async (t) => {
  const clock = manualClock()
  const app = await build(t, {}, { clock })
  let pings = 0
  const ping = app.storage.ping.bind(app.storage)
  app.storage.ping = async () => { pings++; return ping() }
  const bodies = await Promise.all(Array.from({ length: 50 }, () => app.inject({ url: '/metrics' }).then((res) => res.body)))
  t.equal(new Set(bodies).size, 1, '50 scrapes at once: one exposition')
  for (let i = 0; i < 50; i++) await app.inject({ url: '/metrics' })
  t.equal(pings, 1, 'one database ping')
  const again = (await app.inject({ url: '/metrics' })).body
  t.equal(again, bodies[0], 'within the second, the same text (the 100 scrapes since are not in it yet)')
  clock.advance(1)
  const fresh = (await app.inject({ url: '/metrics' })).body
  t.match(fresh, /gatehouse_http_requests_total\{method="GET",route="\/metrics",status="200"\} 101/, 'a second later, a new exposition')
  t.equal(pings, 2)
})

t.test('second factors by factor and outcome, from the security events the app emits; every series at 0 from the start', async (t) => {
  const clock = manualClock()
  const app = await build(t, {}, { clock })
  const series = async () => parseExposition((await app.inject({ url: '/metrics' })).body)
  let e = await series()
  t.same(e.problems, [])
  for (const factor of ['totp', 'recovery_code', 'passkey']) {
    t.equal(sampleValue(e, 'gatehouse_second_factor_total', { factor, outcome: 'success' }), 0, `${factor} success at 0`)
    t.equal(sampleValue(e, 'gatehouse_second_factor_total', { factor, outcome: 'failure' }), 0, `${factor} failure at 0`)
    t.equal(sampleValue(e, 'gatehouse_second_factor_enrolments_total', { factor }), 0, `${factor} enrolments at 0`)
  }
  const ip = '192.0.2.1'
  app.events.emit({ type: 'mfa_enrolled', userId: 'u', ip, factor: 'totp' })
  app.events.emit({ type: 'mfa_enrolled', userId: 'u', ip, factor: 'recovery_code' })
  app.events.emit({ type: 'mfa_failed', userId: 'u', ip, factor: 'totp' })
  app.events.emit({ type: 'mfa_failed', userId: 'u', ip, factor: 'totp' })
  app.events.emit({ type: 'mfa_passed', userId: 'u', ip, factor: 'totp' })
  app.events.emit({ type: 'mfa_passed', userId: 'u', ip, factor: 'recovery_code' })
  app.events.emit({ type: 'passkey_registered', userId: 'u', factorId: 'f', ip })
  app.events.emit({ type: 'passkey_signin', userId: 'u', factorId: 'f', amr: 'hwk', step: 'signin', ip })
  app.events.emit({ type: 'mfa_passed', userId: 'u', ip, factor: 'passkey' })
  app.events.emit({ type: 'mfa_failed', ip, factor: 'passkey' })
  app.events.emit({ type: 'mfa_removed', userId: 'u', ip, factor: 'totp' })
  clock.advance(1) // past the second one exposition is served for
  e = await series()
  t.same(e.problems, [])
  const used = (factor: string, outcome: string) => sampleValue(e, 'gatehouse_second_factor_total', { factor, outcome })
  t.equal(used('totp', 'failure'), 2)
  t.equal(used('totp', 'success'), 1)
  t.equal(used('recovery_code', 'success'), 1)
  t.equal(used('recovery_code', 'failure'), 0)
  t.equal(used('passkey', 'success'), 2, 'a passkey sign-in and a passkey as the second factor')
  t.equal(used('passkey', 'failure'), 1)
  t.equal(sampleValue(e, 'gatehouse_second_factor_enrolments_total', { factor: 'totp' }), 1)
  t.equal(sampleValue(e, 'gatehouse_second_factor_enrolments_total', { factor: 'recovery_code' }), 1)
  t.equal(sampleValue(e, 'gatehouse_second_factor_enrolments_total', { factor: 'passkey' }), 1)
  t.equal(sampleValue(e, 'gatehouse_security_events_total', { type: 'mfa_failed' }), 3, 'and each by type, as every event')
  t.equal(sampleValue(e, 'gatehouse_security_events_total', { type: 'mfa_removed' }), 1)
})

t.test('issue 29: the standard process metrics, under prom-client\'s names, read at the scrape', async (t) => {
  const app = await build(t)
  const e = parseExposition((await app.inject({ url: '/metrics' })).body)
  t.same(e.problems, [], 'valid exposition format')
  for (const name of ['process_cpu_user_seconds_total', 'process_cpu_system_seconds_total', 'process_cpu_seconds_total']) {
    t.equal(e.types.get(name), 'counter', `${name} is a counter`)
    t.ok((sampleValue(e, name) ?? -1) >= 0, name)
  }
  const cpu = sampleValue(e, 'process_cpu_seconds_total')!
  t.ok(Math.abs(cpu - sampleValue(e, 'process_cpu_user_seconds_total')! - sampleValue(e, 'process_cpu_system_seconds_total')!) < 0.01, 'user + system')
  const start = sampleValue(e, 'process_start_time_seconds')!
  t.ok(Math.abs(start - (Date.now() / 1000 - process.uptime())) < 2, `when this process started (${start})`)
  t.ok((sampleValue(e, 'process_resident_memory_bytes') ?? 0) > 0)
  const fds = sampleValue(e, 'process_open_fds')
  t.ok(fds !== undefined && fds > 3, `open file descriptors (${fds})`)
  t.ok((sampleValue(e, 'process_max_fds') ?? 0) >= fds!, 'the limit on them')
  t.ok((sampleValue(e, 'nodejs_heap_size_total_bytes') ?? 0) > 0)
  t.equal(sampleValue(e, 'nodejs_version_info', { version: process.version }), 1)
  t.equal(e.types.get('nodejs_gc_duration_seconds'), 'histogram')

  // A major GC (tests run with --expose-gc when available; otherwise allocate until V8 collects).
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc) gc()
  else { let junk: unknown[] = []; for (let i = 0; i < 2_000_000; i++) junk.push({ i }); junk = []; t.ok(junk) }
  await new Promise((resolve) => setTimeout(resolve, 50)) // the observer is told asynchronously
  await new Promise((resolve) => setTimeout(resolve, 1_050)) // past the second one exposition is served for
  const after = parseExposition((await app.inject({ url: '/metrics' })).body)
  t.same(after.problems, [])
  const pauses = after.samples.filter((s) => s.name === 'nodejs_gc_duration_seconds_count').reduce((n, s) => n + s.value, 0)
  t.ok(pauses > 0, `GC pauses counted by kind (${pauses})`)
  t.ok(after.samples.filter((s) => s.name === 'nodejs_gc_duration_seconds_count').every((s) => ['major', 'minor', 'incremental', 'weakcb'].includes(s.labels.kind!)), 'kinds named as prom-client names them')
})

t.test('issue 29: the event-loop delay is the window since the previous scrape: a stall shows once, then is gone', async (t) => {
  const clock = manualClock()
  const app = await build(t, {}, { clock })
  const scrape = async () => {
    clock.advance(1) // past the second one exposition is served for
    const e = parseExposition((await app.inject({ url: '/metrics' })).body)
    t.same(e.problems, [])
    return { max: sampleValue(e, 'nodejs_eventloop_lag_max_seconds')!, p99: sampleValue(e, 'nodejs_eventloop_delay_p99_seconds')! }
  }
  await scrape() // closes the window of the app's start
  await new Promise((resolve) => setTimeout(resolve, 100))
  const quiet = await scrape()
  t.ok(quiet.max < 0.15, `a quiet window: max ${quiet.max} s`)
  // (perf_hooks' reset restarts the monitor's own clock: a stall that begins before its next tick, within 10 ms
  // of a scrape, is not recorded. So the stall starts a few ticks later.)
  await new Promise((resolve) => setTimeout(resolve, 50))
  const until = Date.now() + 200
  while (Date.now() < until) { /* block the event loop for 200 ms */ }
  await new Promise((resolve) => setTimeout(resolve, 50)) // the monitor's next tick records the stall
  const blocked = await scrape()
  t.ok(blocked.max >= 0.18, `the next scrape shows the 200 ms stall: max ${blocked.max} s`)
  t.ok(blocked.p99 >= 0.18, `and its p99: ${blocked.p99} s`)
  await new Promise((resolve) => setTimeout(resolve, 100))
  const after = await scrape()
  t.ok(after.max < 0.15, `the scrape after it no longer does: max ${after.max} s`)
  t.ok(after.p99 < 0.15, `nor its p99: ${after.p99} s`)
})

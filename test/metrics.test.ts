import t from 'tap'
import { build } from './helper.js'

t.test('GET /metrics: Prometheus text with request counts by route pattern', async (t) => {
  const app = await build(t)
  await app.inject({ url: '/health' })
  await app.inject({ url: '/users/me' })
  await app.inject({ url: '/admin/users/some-name' })
  await app.inject({ url: '/no/such/path?secret=x' })
  const res = await app.inject({ url: '/metrics' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  t.match(res.body, /^gatehouse_http_requests_total\{method="GET",route="\/health",status="200"\} 1$/m)
  t.match(res.body, /^gatehouse_http_requests_total\{method="GET",route="\/users\/me",status="401"\} 1$/m)
  t.match(res.body, /route="\/admin\/users\/:username",status="401"/, 'route patterns, not raw URLs')
  t.notMatch(res.body, /some-name|secret/, 'no raw paths or query strings')
  t.match(res.body, /^gatehouse_database_up 1$/m)
  t.match(res.body, /^process_resident_memory_bytes \d+$/m)
  t.match(res.body, /^nodejs_eventloop_delay_p99_seconds [\d.]+$/m)
  for (const line of res.body.trim().split('\n')) t.match(line, /^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? [\d.e+-]+)$/, 'every line is valid exposition format')
})

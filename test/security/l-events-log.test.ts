import t from 'tap'
import { addUser, post } from '../support/helper.js'
import { assertJsonLines, buildLogged } from '../support/security.js'

/**
 * Security events in the log (issue: "logs an operator can use"): who changed what, refresh-token reuse,
 * key rotation, each as one JSON line with the request's id, and never a secret (SECURITY-CASES L1).
 */
t.test('admin changes, refresh reuse and key rotation are logged, without secrets', async (t) => {
  // The requests come "through a proxy" at 127.0.0.1 (app.inject's address): only a trusted proxy's X-Request-Id is kept.
  const { app, lines } = await buildLogged(t, { ACCESS_LOG: 'off', LOG_LEVEL: 'info', TRUST_PROXY: '127.0.0.1' })
  await addUser(app, 'root', 'root-pw-1', { scope: 'admin' })
  await addUser(app, 'alice', 'alice-pw-1')
  const login = (await post(app, '/token', { username: 'root', password: 'root-pw-1', scope: 'admin' })).json()
  const admin = { authorization: `Bearer ${login.access_token}`, 'content-type': 'application/json', 'x-request-id': 'admin-req-1' }
  const patched = await app.inject({ method: 'PATCH', url: '/admin/users/alice', headers: admin, payload: { password: 'new-secret-pw-9', full_name: 'Alice L' } })
  t.equal(patched.statusCode, 200)
  t.equal((await app.inject({ method: 'PATCH', url: '/admin/users/nobody', headers: admin, payload: { full_name: 'x' } })).statusCode, 404)
  await app.inject({ method: 'GET', url: '/admin/users', headers: admin })
  t.equal((await app.inject({ method: 'POST', url: '/admin/keys/rotate', headers: { authorization: admin.authorization } })).statusCode, 200)
  const aliceTokens = (await post(app, '/token', { username: 'alice', password: 'new-secret-pw-9' })).json()
  await post(app, '/token', { grant_type: 'refresh_token', refresh_token: aliceTokens.refresh_token })
  await post(app, '/token', { grant_type: 'refresh_token', refresh_token: aliceTokens.refresh_token }, { 'x-request-id': 'replay-1' })

  const entries = assertJsonLines(t, lines())
  const events = entries.filter((e) => typeof e.event === 'string')
  const changes = events.filter((e) => e.event === 'admin_change')
  t.equal(changes.length, 2, 'the successful PATCH and the key rotation; not the 404, not the GET')
  t.match(changes[0], { level: 30, actor: 'root', action: 'PATCH /admin/users/:username', target: 'alice', fields: ['password', 'full_name'], reqId: 'admin-req-1' })
  t.match(changes[1], { actor: 'root', action: 'POST /admin/keys/rotate' })
  t.match(events.find((e) => e.event === 'key_rotated'), { level: 30, kid: String })
  t.match(events.find((e) => e.event === 'refresh_reuse'), { level: 40, grantId: String, clientId: 'default', reqId: 'replay-1' })
  const log = lines().join('\n')
  for (const secret of ['new-secret-pw-9', 'root-pw-1', 'alice-pw-1', login.access_token, aliceTokens.refresh_token]) {
    t.notOk(log.includes(secret), `no secret in the log (${secret.slice(0, 6)}…)`)
  }
})

t.test('failed and throttled sign-ins are logged with a username digest, the client and the address, and counted', async (t) => {
  // 10.9.8.7 is a trusted proxy (whose X-Request-Id is kept) sending no X-Forwarded-For: the address is its own.
  const { app, lines } = await buildLogged(t, { ACCESS_LOG: 'off', LOG_LEVEL: 'info', TRUST_PROXY: '10.9.8.7' })
  await addUser(app, 'alice', 'alice-pw-1')
  const { usernameDigest } = await import('../../lib/ops/events.js')
  const guess = (i: number) => app.inject({
    method: 'POST',
    url: '/token',
    remoteAddress: '10.9.8.7',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-request-id': `guess-${i}` },
    payload: `username=alice&password=wrong-guess-${i}`
  })
  const statuses: number[] = []
  for (let i = 0; i < 11; i++) statuses.push((await guess(i)).statusCode)
  t.same(statuses, [...Array(10).fill(400), 429], 'ten failures, then the account is throttled')

  const events = assertJsonLines(t, lines()).filter((e) => typeof e.event === 'string')
  const failed = events.filter((e) => e.event === 'login_failed')
  t.equal(failed.length, 10, 'one login_failed per failure')
  t.match(failed[0], { level: 30, user: usernameDigest('alice'), clientId: 'default', ip: '10.9.8.7', reqId: 'guess-0' })
  t.notOk('username' in failed[0]!, 'no username in clear')
  t.match(events.find((e) => e.event === 'login_throttled'), { level: 40, user: usernameDigest('alice'), clientId: 'default', ip: '10.9.8.7', reqId: 'guess-10' })
  const log = lines().join('\n')
  t.notOk(/wrong-guess|alice-pw-1/.test(log), 'no password in the log')
  t.notOk(log.includes('"alice"'), 'no username in clear anywhere')

  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(metrics, /^gatehouse_security_events_total\{type="login_failed"\} 10$/m, 'counted by type')
  t.match(metrics, /^gatehouse_security_events_total\{type="login_throttled"\} 1$/m)
})

import t from 'tap'
import { createTestSchema } from '../support/pg-schema.js'
import { formPost, runCli, startServer, stopServer, type ServerProcess } from '../support/server-process.js'
import { freePort } from '../support/helper.js'

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

async function until (what: string, check: () => Promise<boolean>, ms = 5000): Promise<number> {
  const start = Date.now()
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return Date.now() - start
}

/**
 * Two Gatehouse processes on one PostgreSQL schema and one Redis: what one instance does, the other
 * honours (CONTRACT.md, "Several instances").
 */
t.test('two instances on PostgreSQL and Redis behave as one server', async (t) => {
  const { url: DATABASE_URL, drop } = await createTestSchema()
  const ISSUER = `http://127.0.0.1:${await freePort()}` // one issuer for every instance, as a load balancer would present
  // REDIS_TIMEOUT_MS: this test is about sharing; on a loaded machine the default 50 ms timeout would trip the
  // circuit breaker and each instance would count alone (test/plugins/redis.test.ts tests the timeout itself).
  const env = { DATABASE_URL, ISSUER, REDIS_URL: redisUrl, REDIS_TIMEOUT_MS: '1000', KEYS_REFRESH_SECONDS: '1', KEY_PUBLISH_DELAY_SECONDS: '4' }
  const servers: ServerProcess[] = []
  t.teardown(async () => {
    await Promise.all(servers.map(stopServer))
    await drop()
  })
  // Started at the same moment: migrations and the first signing key must not race.
  servers.push(...await Promise.all([startServer(env), startServer(env)]))
  const [a, b] = servers
  if (a === undefined || b === undefined) throw new Error('expected two started servers')

  const addUser = (name: string, scope: string) => runCli(['users', 'add', name, '--password-stdin', '--scope', scope], env, `${name}-pw`)
  await addUser('bob', 'read')
  await addUser('root', 'admin')
  const login = async (server: ServerProcess, username: string) => {
    const res = await formPost(`${server.url}/token`, { grant_type: 'password', username, password: `${username}-pw` })
    t.equal(res.status, 200, `${username} signs in at ${server.url}`)
    return res.json() as Promise<{ access_token: string, refresh_token: string }>
  }
  const me = (server: ServerProcess, token: string) => fetch(`${server.url}/users/me`, { headers: { authorization: `Bearer ${token}` } })
  const jwksKids = async (server: ServerProcess) => ((await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid).sort()

  t.same(await jwksKids(a), await jwksKids(b), 'one signing key per algorithm, the same JWKS on both')
  t.equal((await jwksKids(a)).length, 2, 'RS256 and ES256')

  const fromA = await login(a, 'bob')
  t.equal((await me(b, fromA.access_token)).status, 200, 'a token from A works at B')

  t.equal((await formPost(`${a.url}/revoke`, { token: fromA.access_token, client_id: 'default' })).status, 200)
  const revokedIn = await until('B to refuse the revoked token', async () => (await me(b, fromA.access_token)).status === 401, 1000)
  t.ok(revokedIn <= 1000, `a revocation at A is honoured at B (${revokedIn} ms)`)

  const admin = (await login(a, 'root')).access_token
  const bobAgain = await login(b, 'bob')
  const disable = await fetch(`${a.url}/admin/users/bob`, { method: 'PATCH', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ disabled: true }) })
  t.equal(disable.status, 200)
  await until('B to refuse the disabled user', async () => (await me(b, bobAgain.access_token)).status === 401, 1000)
  t.equal((await formPost(`${b.url}/token`, { grant_type: 'password', username: 'bob', password: 'bob-pw' })).status, 400, 'bob cannot sign in at B')

  const rotated = await fetch(`${a.url}/admin/keys/rotate`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } })
  const { kid } = await rotated.json() as { kid: string }
  const publishedIn = await until('B to publish the rotated key', async () => (await jwksKids(b)).includes(kid))
  t.ok(publishedIn < 4000, `B publishes the new key before it signs (${publishedIn} ms < 4 s publish delay)`)
  const oldToken = (await login(b, 'root')).access_token
  await until('B to sign with the new key', async () => JSON.parse(Buffer.from((await login(b, 'root')).access_token.split('.')[0]!, 'base64url').toString()).kid === kid)
  t.equal((await me(a, oldToken)).status, 200, 'tokens signed before the rotation still verify')

  // The refresh race, many times: the same refresh token at A and B at the same moment.
  await addUser('carol', 'read')
  let winners = 0
  for (let round = 0; round < 25; round++) {
    const { refresh_token: rt } = await login(round % 2 ? a : b, 'carol')
    const results = await Promise.all([a, b, a, b].map((s) => formPost(`${s.url}/token`, { grant_type: 'refresh_token', refresh_token: rt })))
    const ok = results.filter((r) => r.status === 200)
    t.ok(ok.length <= 1, `round ${round}: at most one winner`)
    for (const r of results.filter((r) => r.status !== 200)) {
      t.equal(r.status, 400)
      t.equal(((await r.json()) as { error: string }).error, 'invalid_grant')
    }
    if (ok.length === 1) {
      winners++
      const next = (await ok[0]!.json()) as { refresh_token: string }
      const after = await formPost(`${a.url}/token`, { grant_type: 'refresh_token', refresh_token: next.refresh_token })
      t.equal(after.status, 400, `round ${round}: the family was revoked by the losers`)
    }
  }
  t.ok(winners >= 20, `almost every round has its one winner (${winners}/25)`)

  // Brute-force counters are shared through Redis: failures at A count at B.
  await addUser('dave', 'read')
  for (let i = 0; i < 10; i++) await formPost(`${(i % 2 ? a : b).url}/token`, { grant_type: 'password', username: 'dave', password: 'wrong' })
  const throttled = await formPost(`${b.url}/token`, { grant_type: 'password', username: 'dave', password: 'dave-pw' })
  t.equal(throttled.status, 429, 'the account limit is shared by both instances')
})

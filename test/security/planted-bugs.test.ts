import t from 'tap'
import { GATEHOUSE_BIN } from '../support/paths.js'
import { addClient, addUser, basic, build, FAST_HASH, ISSUER, manualClock, post } from '../support/helper.js'
import { spawnNode } from '../support/oauth.js'
import { ADDRESS_ACCOUNTS } from '../../lib/oauth/brute-force.js'

// Issue 10, acceptance: bugs planted one at a time that the suite did not catch. Each test here passes on the
// code as it is and fails with its bug planted (checked by planting it). Runs on SQLite, and on PostgreSQL
// (test/postgres/list.ts). "A refresh after the user lost a scope returns the narrowed
// scope" is in test/routes/admin/changes.test.ts (defect 7).

const bearer = (token: string) => ({ authorization: `Bearer ${token as string}` })

t.test('introspection of a refresh token past its own TTL is active:false (injected clock)', async (t) => {
  const clock = manualClock()
  const app = await build(t, { REFRESH_TOKEN_TTL: '3600', REFRESH_TOKEN_MAX_LIFETIME: '86400' }, { clock })
  await addUser(app, 'alice', 'pw')
  const secret = await addClient(app, 'web', { grantTypes: ['password', 'refresh_token'] })
  const web = { authorization: basic('web', secret!) }
  const refresh = (await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw' }, web)).json().refresh_token as string
  const introspect = async () => (await post(app, '/introspect', { token: refresh }, web)).json()
  clock.advance(3599)
  t.equal((await introspect()).active, true, 'alive one second before its TTL')
  clock.advance(2)
  t.same(await introspect(), { active: false }, 'inactive past its TTL, though its family lives on')
})

t.test('a rotated refresh token expires at its own TTL, not at the family\'s end nor its predecessor\'s', async (t) => {
  const clock = manualClock()
  const app = await build(t, { REFRESH_TOKEN_TTL: '3600', REFRESH_TOKEN_MAX_LIFETIME: '86400' }, { clock })
  await addUser(app, 'alice', 'pw')
  const secret = await addClient(app, 'web', { grantTypes: ['password', 'refresh_token'] })
  const web = { authorization: basic('web', secret!) }
  const first = (await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw' }, web)).json().refresh_token as string
  clock.advance(1800)
  const rotatedAt = clock.now()
  const second = (await post(app, '/token', { grant_type: 'refresh_token', refresh_token: first }, web)).json().refresh_token as string
  const seen = (await post(app, '/introspect', { token: second }, web)).json()
  t.equal(seen.exp, rotatedAt + 3600, 'exp is the rotation time plus REFRESH_TOKEN_TTL')
  clock.advance(3599)
  t.equal((await post(app, '/introspect', { token: second }, web)).json().active, true, 'alive past its predecessor\'s end')
  clock.advance(2)
  t.same((await post(app, '/introspect', { token: second }, web)).json(), { active: false }, 'dead after its own TTL')
  t.equal((await post(app, '/token', { grant_type: 'refresh_token', refresh_token: second }, web)).json().error, 'invalid_grant')
})

t.test('a revoked access token stays refused after the deny-list mirror syncs', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', 'pw')
  const secret = await addClient(app, 'web', { grantTypes: ['password'] })
  const web = { authorization: basic('web', secret!) }
  const token = (await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw' }, web)).json().access_token as string
  t.equal((await app.inject({ url: '/users/me', headers: bearer(token) })).statusCode, 200)
  t.equal((await post(app, '/revoke', { token }, web)).statusCode, 200)
  t.equal((await app.inject({ url: '/users/me', headers: bearer(token) })).statusCode, 401, 'refused at once')
  await app.storage.cache.sync()
  await app.storage.cache.sync()
  t.equal((await app.inject({ url: '/users/me', headers: bearer(token) })).statusCode, 401, 'still refused after the sync')
})

t.test('from one address: failures up to one under the address limit, a success on the attacker\'s own account, and the next failure still counts toward 429', async (t) => {
  const app = await build(t)
  await addUser(app, 'mallory', 'mallory-pw')
  const attempt = (username: string, password: string) => post(app, '/token', { grant_type: 'password', username, password })
  // The address limit counts distinct accounts failed from it (lib/oauth/brute-force.ts): one failure each, so no
  // account comes near its own limit; unknown usernames count like real ones.
  const max = ADDRESS_ACCOUNTS.max
  for (let i = 0; i < max - 1; i++) t.equal((await attempt(`victim${i}`, `guess-${i}`)).statusCode, 400)
  t.equal((await attempt('mallory', 'mallory-pw')).statusCode, 200, 'the attacker signs in to their own account')
  t.equal((await attempt(`victim${max - 1}`, 'guess')).statusCode, 400, `the ${max}th account's failure is still answered`)
  // A new account with no failure of its own: only the address counter can refuse this one.
  const limited = await attempt(`victim${max}`, 'guess')
  t.equal(limited.statusCode, 429, 'the success did not reset the address counter')
  t.equal(limited.json().error, 'too_many_requests')
})

t.test('a route requiring two scopes refuses a token holding one (403 insufficient_scope)', async (t) => {
  const app = await build(t)
  const check = app.requireScope('items:read', 'items:write')
  const request = (scope: string | undefined) => ({ auth: { claims: { scope }, user: undefined } }) as never
  await t.rejects(check.call(app, request('items:read'), {} as never), { statusCode: 403, code: 'insufficient_scope' }, 'one of two')
  await t.rejects(check.call(app, request('items:write'), {} as never), { statusCode: 403, code: 'insufficient_scope' }, 'the other one of two')
  await t.rejects(check.call(app, request(undefined), {} as never), { statusCode: 403, code: 'insufficient_scope' }, 'none')
  await t.resolves(check.call(app, request('items:write other items:read'), {} as never), 'both')

  // And over the admin API, which needs `admin`: a token with another scope gets 403 with the challenge.
  await addUser(app, 'alice', 'pw', { scope: 'items:read' })
  const token = (await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw' })).json().access_token as string
  const res = await app.inject({ url: '/admin/users', headers: bearer(token) })
  t.equal(res.statusCode, 403)
  t.match(res.headers['www-authenticate'], /error="insufficient_scope"/)
})

t.test('client_credentials with client_id=default is 400 unauthorized_client', async (t) => {
  const app = await build(t)
  const res = await post(app, '/token', { grant_type: 'client_credentials', client_id: 'default' })
  t.equal(res.statusCode, 400)
  t.equal(res.json().error, 'unauthorized_client')
  t.notOk(res.json().access_token)
})

// dist/test → bin/gatehouse.js at the repository root, as `npx gatehouse` runs it.
const BIN = GATEHOUSE_BIN

t.test('a user disabled through the CLI after the server cached them is refused within the cache bound', async (t) => {
  const clock = manualClock()
  const app = await build(t, {}, { clock })
  await addUser(app, 'alice', 'pw')
  // A client without refresh tokens: no grant, so no deny-list entry either; only the user row can refuse it.
  const secret = await addClient(app, 'svc', { grantTypes: ['password'] })
  const token = (await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw' }, { authorization: basic('svc', secret!) })).json().access_token as string
  t.equal((await app.inject({ url: '/users/me', headers: bearer(token) })).statusCode, 200, 'the server has alice in its cache')

  const databaseUrl = app.config.databaseUrl
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawnNode([BIN, 'users', 'disable', 'alice'], { PATH: process.env.PATH ?? '', ...FAST_HASH, ISSUER, DATABASE_URL: databaseUrl })
    child.on('error', reject)
    child.on('close', resolve)
    child.stdin!.end()
  })
  t.equal(code, 0, 'the CLI disabled alice')
  // The user cache holds an entry 1 s (plugins/storage.ts): past it, the server reads the row again.
  clock.advance(1)
  clock.advance(0.001)
  const res = await app.inject({ url: '/users/me', headers: bearer(token) })
  t.equal(res.statusCode, 401, 'refused once the cache bound has passed')
  t.match(res.headers['www-authenticate'], /error="invalid_token"/)
})

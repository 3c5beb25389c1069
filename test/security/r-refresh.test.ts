import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { decodeJwt } from 'jose'
import { addClient, addUser, basic, build, post, manualClock } from '../support/helper.js'
import { assertOAuthError, bearer } from '../support/oauth.js'
import { assertNoStore } from '../support/security.js'

// SECURITY-CASES R1–R5: refresh-token rotation, reuse detection, scope, client binding, lifetime.

async function passwordLogin (app: FastifyInstance, fields: Record<string, string> = {}, headers: Record<string, string> = {}) {
  const res = await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw', ...fields }, headers)
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.body}`)
  return res.json() as { access_token: string, refresh_token?: string, scope?: string }
}

async function setup (t: Test) {
  const app = await build(t)
  await addUser(app, 'alice', 'pw', { scope: 'read write' })
  const web = { authorization: basic('web', (await addClient(app, 'web', { grantTypes: ['password', 'refresh_token'] }))!) }
  const rs = { authorization: basic('rs', (await addClient(app, 'rs', { grantTypes: ['client_credentials'] }))!) }
  const introspect = async (token: string) => (await post(app, '/introspect', { token }, rs)).json()
  const refresh = (rt: string, extra: Record<string, string> = {}, auth = web) => post(app, '/token', { grant_type: 'refresh_token', refresh_token: rt, ...extra }, auth)
  return { app, web, rs, introspect, refresh }
}

t.test('R1: replaying a rotated refresh token is invalid_grant and kills the family: every later RT and every AT of the grant', async (t) => {
  const { app, web, introspect, refresh } = await setup(t)
  const rt1 = await passwordLogin(app, {}, web)
  const r2 = await refresh(rt1.refresh_token!)
  t.equal(r2.statusCode, 200)
  const rt2 = r2.json()
  t.not(rt2.refresh_token, rt1.refresh_token, 'a new refresh token every time')
  t.equal(decodeJwt(rt2.access_token).grant_id, decodeJwt(rt1.access_token).grant_id, 'same family')
  const rt3 = (await refresh(rt2.refresh_token)).json()
  const other = await passwordLogin(app, {}, web)
  for (const token of [rt1.access_token, rt2.access_token, rt3.access_token]) t.equal((await introspect(token)).active, true, 'active before the replay')

  // Replay RT1 (two rotations ago): invalid_grant, and the whole family is revoked.
  const replay = await refresh(rt1.refresh_token!)
  assertOAuthError(t, replay, 400, 'invalid_grant', undefined, 'RT1 replayed')
  assertOAuthError(t, await refresh(rt2.refresh_token), 400, 'invalid_grant', undefined, 'RT2 (spent, and of a revoked family)')
  assertOAuthError(t, await refresh(rt3.refresh_token), 400, 'invalid_grant', undefined, 'RT3, the live descendant')
  for (const [name, token] of [['AT1', rt1.access_token], ['AT2', rt2.access_token], ['AT3', rt3.access_token]]) {
    t.same(await introspect(token), { active: false }, `${name}: active:false`)
    t.equal((await app.inject({ url: '/users/me', headers: bearer(token) })).statusCode, 401, `${name}: refused by /users/me`)
  }
  t.equal((await introspect(other.access_token)).active, true, 'another grant of the same user and client is untouched')
  t.equal((await refresh(other.refresh_token!)).statusCode, 200)

  // No grace window: the immediately previous token replayed at once is reuse too.
  const fresh = await passwordLogin(app, {}, web)
  const next = (await refresh(fresh.refresh_token!)).json()
  assertOAuthError(t, await refresh(fresh.refresh_token!), 400, 'invalid_grant', undefined, 'the previous RT replayed at once')
  assertOAuthError(t, await refresh(next.refresh_token), 400, 'invalid_grant', undefined, 'and its successor is dead')
})

t.test('R2: one refresh token sent 50 times at once succeeds exactly once, and the family is revoked', async (t) => {
  const { app, introspect } = await setup(t)
  const { refresh_token: rt } = await passwordLogin(app)
  const results = await Promise.all(Array.from({ length: 50 }, () =>
    post(app, '/token', { grant_type: 'refresh_token', refresh_token: rt! })))
  t.equal(results.filter((r) => r.statusCode === 200).length, 1, 'exactly one 200')
  t.ok(results.filter((r) => r.statusCode !== 200).every((r) => r.statusCode === 400 && r.json().error === 'invalid_grant'), 'every other one is invalid_grant')
  for (const res of results) assertNoStore(t, res)
  const winner = results.find((r) => r.statusCode === 200)!.json()
  const next = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: winner.refresh_token })
  assertOAuthError(t, next, 400, 'invalid_grant', undefined, 'the winner\'s new RT: the family was revoked by the losers')
  t.same(await introspect(winner.access_token), { active: false }, 'the winner\'s access token is revoked too')
})

t.test('R3: a refresh may not add a scope (invalid_scope); the granted scope works; narrowing does not shrink the family', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', 'pw', { scope: 'read write admin' })
  const { refresh_token: rt } = await passwordLogin(app, { scope: 'read' })
  const wider = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: rt!, scope: 'read write' })
  assertOAuthError(t, wider, 400, 'invalid_scope', undefined, 'RT granted read, refresh asks read write')
  const same = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: rt!, scope: 'read' })
  t.equal(same.statusCode, 200, 'read is OK')
  t.equal(same.json().scope, 'read')

  const { refresh_token: rt2 } = await passwordLogin(app, { scope: 'read write' })
  const other = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: rt2!, scope: 'read admin' })
  assertOAuthError(t, other, 400, 'invalid_scope', undefined, 'RT granted read write, refresh asks read admin')
  const narrow = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: rt2!, scope: 'read' })
  t.equal(narrow.statusCode, 200)
  t.equal(narrow.json().scope, 'read')
  t.equal(decodeJwt(narrow.json().access_token).scope, 'read', 'the access token is narrowed')
  const again = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: narrow.json().refresh_token })
  t.equal(again.json().scope, 'read write', 'a narrower request does not shrink the grant')
})

t.test('R4: c1\'s refresh token presented by c2 (valid c2 authentication), or by no client: invalid_grant', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', 'pw')
  const s1 = (await addClient(app, 'c1', { grantTypes: ['password', 'refresh_token'] }))!
  const s2 = (await addClient(app, 'c2', { grantTypes: ['password', 'refresh_token'] }))!
  const c1 = { authorization: basic('c1', s1) }
  const { refresh_token: rt } = await passwordLogin(app, {}, c1)

  const stolen = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: rt! }, { authorization: basic('c2', s2) })
  assertOAuthError(t, stolen, 400, 'invalid_grant', undefined, 'c2 presents c1\'s RT')
  const stolenPost = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: rt!, client_id: 'c2', client_secret: s2 })
  assertOAuthError(t, stolenPost, 400, 'invalid_grant', undefined, 'the same with client_secret_post')
  const anonymous = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: rt! })
  assertOAuthError(t, anonymous, 400, 'invalid_grant', undefined, 'not the default client either')
  t.equal((await post(app, '/token', { grant_type: 'refresh_token', refresh_token: rt! }, c1)).statusCode, 200, 'the owner still can: the thief did not spend it')
})

t.test('R5: past the absolute lifetime despite sliding use, past its own lifetime, random, 10 KB, JWT-looking, revoked: invalid_grant, no 5xx', async (t) => {
  const clock = manualClock()
  const app = await build(t, { REFRESH_TOKEN_TTL: '100', REFRESH_TOKEN_MAX_LIFETIME: '250' }, { clock })
  await addUser(app, 'alice', 'pw')
  const s1 = (await addClient(app, 'c1', { grantTypes: ['password', 'refresh_token'] }))!
  const c1 = { authorization: basic('c1', s1) }
  let { refresh_token: rt } = await passwordLogin(app, {}, c1)

  for (const [label, garbage] of [['random', 'x'], ['random 43 characters', 'A'.repeat(43)], ['10 KB', 'A'.repeat(10 * 1024)], ['JWT-looking', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'], ['unicode', 'ré\u0000fresh']] as const) {
    const res = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: garbage }, c1)
    assertOAuthError(t, res, 400, 'invalid_grant', undefined, label)
  }

  // Sliding use keeps a family alive only up to its absolute lifetime.
  for (let i = 0; i < 2; i++) {
    clock.advance(90)
    const res = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: rt! }, c1)
    t.equal(res.statusCode, 200, `sliding refresh ${i}`)
    rt = res.json().refresh_token
  }
  clock.advance(90) // 270 s after the grant: past REFRESH_TOKEN_MAX_LIFETIME
  assertOAuthError(t, await post(app, '/token', { grant_type: 'refresh_token', refresh_token: rt! }, c1), 400, 'invalid_grant', undefined, 'past the absolute lifetime')

  const fresh = await passwordLogin(app, {}, c1)
  clock.advance(101) // past REFRESH_TOKEN_TTL
  assertOAuthError(t, await post(app, '/token', { grant_type: 'refresh_token', refresh_token: fresh.refresh_token! }, c1), 400, 'invalid_grant', undefined, 'past its own lifetime')

  const revoked = await passwordLogin(app, {}, c1)
  t.equal((await post(app, '/revoke', { token: revoked.refresh_token! }, c1)).statusCode, 200)
  assertOAuthError(t, await post(app, '/token', { grant_type: 'refresh_token', refresh_token: revoked.refresh_token! }, c1), 400, 'invalid_grant', undefined, 'after /revoke')
})

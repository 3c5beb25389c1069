import t from 'tap'
import { decodeJwt } from 'jose'
import { addClient, addUser, basic, build, post } from '../../support/helper.js'

// The refresh_token grant (RFC 6749 §6) at POST /token: rotation on every use, the family kept by grant_id.
// Attacks on refresh tokens (SECURITY-CASES R1–R5) are in test/security/r-refresh.test.ts; refresh tokens
// issued by the code grant in test/routes/token/authorization-code.test.ts.

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' }

async function passwordLogin (app: Awaited<ReturnType<typeof build>>, fields: Record<string, string> = {}, headers: Record<string, string> = {}) {
  const res = await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw', ...fields }, headers)
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.body}`)
  return res.json() as { access_token: string, refresh_token?: string, scope?: string }
}

t.test('refresh tokens: issued when allowed, rotate on use', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', 'pw', { scope: 'read write' })
  const secret = (await addClient(app, 'web', { grantTypes: ['password', 'refresh_token'] }))!
  const noRefresh = (await addClient(app, 'web2', { grantTypes: ['password'] }))!
  const auth = { authorization: basic('web', secret) }

  t.equal((await passwordLogin(app, {}, { authorization: basic('web2', noRefresh) })).refresh_token, undefined, 'no refresh token without the refresh_token grant')

  const first = await passwordLogin(app, {}, auth)
  t.type(first.refresh_token, 'string')
  const rotated = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token! }, auth)
  t.equal(rotated.statusCode, 200)
  t.match(rotated.headers, NO_STORE)
  const second = rotated.json()
  t.not(second.refresh_token, first.refresh_token, 'a new refresh token every time')
  t.equal(second.scope, 'read write')
  t.equal(decodeJwt(second.access_token).grant_id, decodeJwt(first.access_token).grant_id, 'same family')

  const me = (token: string) => app.inject({ url: '/users/me', headers: { authorization: `Bearer ${token}` } })
  t.equal((await me(second.access_token)).statusCode, 200)

  // Replaying a spent token (R1), concurrency (R2), scope (R3), client binding (R4) and lifetimes (R5) are
  // in test/security/r-refresh.test.ts.
})

t.test('the default client: refresh with client_id=default or with no client at all', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', 'pw')
  const { refresh_token: rt } = await passwordLogin(app)
  const withId = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: rt!, client_id: 'default' })
  t.equal(withId.statusCode, 200)
  const without = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: withId.json().refresh_token })
  t.equal(without.statusCode, 200)
  t.equal(decodeJwt(without.json().access_token).client_id, 'default')
  const secretForDefault = await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw', client_id: 'default', client_secret: 'x' })
  t.equal(secretForDefault.statusCode, 401, 'the built-in client has no secret')
})

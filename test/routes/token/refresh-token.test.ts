import t from 'tap'
import { decodeJwt } from 'jose'
import { addClient, addUser, basic, build, post } from '../../support/helper.js'

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' }

t.test('client_credentials with client_secret_basic and client_secret_post', async (t) => {
  const app = await build(t)
  const secret = (await addClient(app, 'svc', { grantTypes: ['client_credentials'], scope: 'read write' }))!

  const viaBasic = await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: basic('svc', secret) })
  t.equal(viaBasic.statusCode, 200)
  t.match(viaBasic.headers, NO_STORE)
  const body = viaBasic.json()
  t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type'], 'no refresh token for client_credentials')
  t.equal(body.token_type, 'Bearer')
  t.equal(body.scope, 'read write', 'no scope requested: everything the client may have')
  const claims = decodeJwt(body.access_token)
  t.equal(claims.sub, 'svc')
  t.equal(claims.client_id, 'svc')

  const viaPost = await post(app, '/token', { grant_type: 'client_credentials', client_id: 'svc', client_secret: secret, scope: 'read' })
  t.equal(viaPost.statusCode, 200)
  t.equal(viaPost.json().scope, 'read')

  // A scope the client was not given (CC1) is in test/security/cc-client-credentials.test.ts.
})

t.test('a client without --scope gets no scope with client_credentials', async (t) => {
  const app = await build(t)
  const secret = (await addClient(app, 'bare', { grantTypes: ['client_credentials'] }))!
  const res = await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: basic('bare', secret) })
  t.equal(res.statusCode, 200)
  t.equal(res.json().scope, undefined)
  t.equal(decodeJwt(res.json().access_token).scope, undefined, 'scope claim omitted when empty')
  const asked = await post(app, '/token', { grant_type: 'client_credentials', scope: 'read' }, { authorization: basic('bare', secret) })
  t.equal(asked.json().error, 'invalid_scope')
})

// Client authentication failures (T7, T8), form-decoded Basic (T8), a client's grant types (T6) and a
// public client's client_credentials (CC1) are in test/security/.

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

t.test('PASSWORD_GRANT=off refuses the password grant for every client', async (t) => {
  const app = await build(t, { PASSWORD_GRANT: 'off' })
  await addUser(app, 'alice', 'pw')
  const secret = (await addClient(app, 'web', { grantTypes: ['password'] }))!
  for (const headers of [{}, { authorization: basic('web', secret) }] as Array<Record<string, string>>) {
    const res = await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw' }, headers)
    t.equal(res.statusCode, 400)
    t.equal(res.json().error, 'unauthorized_client')
  }
})

t.test('client scope limits what a user-facing client can grant', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', 'pw', { scope: 'read write admin' })
  const secret = (await addClient(app, 'limited', { grantTypes: ['password'], scope: 'read write' }))!
  const auth = { authorization: basic('limited', secret) }
  t.equal((await passwordLogin(app, {}, auth)).scope, 'read write', 'user ∩ client')
  const admin = await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw', scope: 'admin' }, auth)
  t.equal(admin.json().error, 'invalid_scope')
})

t.test('a FastAPI-tutorial client posting only username and password gets the password grant', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', 'pw', { scope: 'read' })
  const res = await post(app, '/token', { username: 'alice', password: 'pw' })
  t.equal(res.statusCode, 200)
  t.equal(res.json().scope, 'read')
  const noGrantType = await post(app, '/token', { client_id: 'x', refresh_token: 'y' })
  t.equal(noGrantType.statusCode, 400)
  t.same(noGrantType.json(), { error: 'invalid_request', error_description: 'missing parameter: grant_type' })
  const onlyUsername = await post(app, '/token', { username: 'alice' })
  t.equal(onlyUsername.json().error, 'invalid_request')
})

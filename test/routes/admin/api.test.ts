import t from 'tap'
import { addClient, addUser, basic, build, post } from '../../support/helper.js'

async function setup (t: Parameters<typeof build>[0]) {
  const app = await build(t)
  await addUser(app, 'root', 'pw', { scope: 'admin' })
  await addUser(app, 'plain', 'pw', { scope: 'read' })
  const token = async (username: string) => (await post(app, '/token', { grant_type: 'password', username, password: 'pw' })).json().access_token as string
  const admin = { authorization: `Bearer ${await token('root')}` }
  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, headers = admin) =>
    app.inject({ method, url, headers, ...(payload ? { payload } : {}) })
  return { app, admin, call, token }
}

t.test('admin routes need a bearer token with scope admin', async (t) => {
  const { call, token } = await setup(t)
  const none = await call('GET', '/admin/users', undefined, {} as typeof setup extends never ? never : { authorization: string })
  t.equal(none.statusCode, 401)
  t.equal(none.headers['www-authenticate'], 'Bearer realm="gatehouse"')
  const plain = await call('GET', '/admin/users', undefined, { authorization: `Bearer ${await token('plain')}` })
  t.equal(plain.statusCode, 403)
  t.match(plain.headers['www-authenticate'], /error="insufficient_scope", error_description="[^"]*", scope="admin"/)
  for (const [method, url] of [['POST', '/admin/users'], ['GET', '/admin/clients'], ['DELETE', '/admin/clients/x'], ['POST', '/admin/keys/rotate']] as const) {
    t.equal((await call(method, url, method === 'POST' ? {} : undefined, { authorization: `Bearer ${await token('plain')}` })).statusCode, 403, `${method} ${url}`)
  }
})

t.test('users: create, read, list, update, delete', async (t) => {
  const { app, call } = await setup(t)
  const created = await call('POST', '/admin/users', { username: 'carol', password: 'secret-pw', full_name: 'Carol C', email: 'carol@example.test', scope: 'read write' })
  t.equal(created.statusCode, 201)
  t.match(created.json(), { username: 'carol', full_name: 'Carol C', email: 'carol@example.test', scope: 'read write', disabled: false })
  t.notMatch(created.body, /argon2|password/, 'no hash, no password in replies')
  t.equal((await call('POST', '/admin/users', { username: 'carol', password: 'x' })).statusCode, 409)
  t.equal((await call('POST', '/admin/users', { username: 'Carol', password: 'x' })).json().error, 'invalid_request', 'uppercase usernames are refused (no look-alikes)')
  t.equal((await call('POST', '/admin/users', { username: 'dave', password: 'x', role: 'god' })).statusCode, 400, 'unknown fields refused')
  t.equal((await call('POST', '/admin/users', { username: 'dave', password: 'x', email: 'not-an-email' })).statusCode, 400)
  t.equal((await call('GET', '/admin/users/carol')).json().username, 'carol')
  t.equal((await call('GET', '/admin/users/nobody')).statusCode, 404)
  t.same((await call('GET', '/admin/users?limit=2')).json().map((u: { username: string }) => u.username), ['carol', 'plain'])
  t.same((await call('GET', '/admin/users?limit=2&offset=2')).json().map((u: { username: string }) => u.username), ['root'])
  t.equal((await call('GET', '/admin/users?limit=0')).statusCode, 400)

  const login = async (password: string) => post(app, '/token', { grant_type: 'password', username: 'carol', password })
  const before = (await login('secret-pw')).json()
  const updated = await call('PATCH', '/admin/users/carol', { full_name: null, password: 'new-pw' })
  t.equal(updated.statusCode, 200)
  t.equal(updated.json().full_name, null)
  t.equal((await login('secret-pw')).statusCode, 400, 'old password no longer works')
  t.equal((await login('new-pw')).statusCode, 200)
  const me = await app.inject({ url: '/users/me', headers: { authorization: `Bearer ${before.access_token}` } })
  t.equal(me.statusCode, 401, 'a password change revokes the user\'s grants')

  const fresh = (await login('new-pw')).json()
  t.equal((await call('DELETE', '/admin/users/carol')).statusCode, 204)
  t.equal((await call('DELETE', '/admin/users/carol')).statusCode, 404)
  t.equal((await app.inject({ url: '/users/me', headers: { authorization: `Bearer ${fresh.access_token}` } })).statusCode, 401)
  t.equal((await post(app, '/token', { grant_type: 'refresh_token', refresh_token: fresh.refresh_token })).json().error, 'invalid_grant')
})

t.test('disabling revokes; enabling does not bring old tokens back', async (t) => {
  const { app, call } = await setup(t)
  const old = (await post(app, '/token', { grant_type: 'password', username: 'plain', password: 'pw' })).json()
  t.equal((await call('PATCH', '/admin/users/plain', { disabled: true })).json().disabled, true)
  t.equal((await call('PATCH', '/admin/users/plain', { disabled: false })).json().disabled, false)
  t.equal((await app.inject({ url: '/users/me', headers: { authorization: `Bearer ${old.access_token}` } })).statusCode, 401)
  t.equal((await post(app, '/token', { grant_type: 'refresh_token', refresh_token: old.refresh_token })).json().error, 'invalid_grant')
  t.equal((await post(app, '/token', { grant_type: 'password', username: 'plain', password: 'pw' })).statusCode, 200)
})

t.test('clients: register, read, update, rotate secret, delete', async (t) => {
  const { app, call } = await setup(t)
  const created = await call('POST', '/admin/clients', { client_id: 'svc', grant_types: ['client_credentials'], scope: 'read' })
  t.equal(created.statusCode, 201)
  const { client_secret: secret } = created.json()
  t.match(secret, /^[A-Za-z0-9_-]{43}$/, '256-bit secret, shown once')
  t.equal((await call('GET', '/admin/clients/svc')).json().client_secret, undefined)
  t.notMatch((await call('GET', '/admin/clients')).body, /hmac|client_secret/)
  t.equal((await call('POST', '/admin/clients', { client_id: 'svc', grant_types: ['client_credentials'] })).statusCode, 409)
  t.equal((await call('POST', '/admin/clients', { client_id: 'pub', public: true, grant_types: ['client_credentials'] })).statusCode, 400)
  t.equal((await call('POST', '/admin/clients', { client_id: 'default', grant_types: ['password'] })).statusCode, 400, 'reserved id')
  t.equal((await call('POST', '/admin/clients', { client_id: 'web', grant_types: ['authorization_code'], redirect_uris: ['http://evil.test/cb'] })).statusCode, 400, 'plain http only for loopback')
  t.equal((await call('POST', '/admin/clients', { client_id: 'web', grant_types: ['authorization_code'], redirect_uris: ['https://app.test/cb#x'] })).statusCode, 400, 'no fragments')
  t.equal((await call('POST', '/admin/clients', { client_id: 'native', public: true, grant_types: ['authorization_code'], redirect_uris: ['http://127.0.0.1/cb'] })).statusCode, 201)

  const cc = (s: string) => post(app, '/token', { grant_type: 'client_credentials' }, { authorization: basic('svc', s) })
  const token = (await cc(secret)).json().access_token
  const patched = await call('PATCH', '/admin/clients/svc', { scope: 'read write', rotate_secret: true })
  t.equal(patched.statusCode, 200)
  t.equal(patched.json().scope, 'read write')
  const newSecret = patched.json().client_secret
  t.equal((await cc(secret)).statusCode, 401, 'the old secret stops working')
  t.equal((await cc(newSecret)).json().scope, 'read write')
  t.equal((await call('PATCH', '/admin/clients/nope', { scope: 'x' })).statusCode, 404)

  t.equal((await call('DELETE', '/admin/clients/svc')).statusCode, 204)
  t.equal((await app.inject({ url: '/users/me', headers: { authorization: `Bearer ${token}` } })).statusCode, 401)
  t.equal((await cc(newSecret)).statusCode, 401)
})

t.test('clients: the second-factor flags (require_mfa, password_grant_skips_mfa), off by default, shown, patched alone', async (t) => {
  const { call } = await setup(t)
  const created = await call('POST', '/admin/clients', { client_id: 'web', grant_types: ['authorization_code', 'password'], redirect_uris: ['https://app.test/cb'], require_mfa: true })
  t.equal(created.statusCode, 201, created.body)
  t.match(created.json(), { require_mfa: true, password_grant_skips_mfa: false })
  t.match((await call('POST', '/admin/clients', { client_id: 'svc', grant_types: ['client_credentials'] })).json(), { require_mfa: false, password_grant_skips_mfa: false }, 'the defaults, shown')
  t.match((await call('PATCH', '/admin/clients/web', { password_grant_skips_mfa: true })).json(), { require_mfa: true, password_grant_skips_mfa: true })
  t.match((await call('PATCH', '/admin/clients/web', { require_mfa: false, scope: 'read' })).json(), { require_mfa: false, password_grant_skips_mfa: true }, 'each flag patched alone')
  t.match((await call('GET', '/admin/clients/web')).json(), { require_mfa: false, password_grant_skips_mfa: true })
  t.equal((await call('PATCH', '/admin/clients/web', { require_mfa: 'yes' })).statusCode, 400, 'a boolean, nothing else')
})

t.test('clients: PKCE per client, signing algorithms and the back-channel logout URI', async (t) => {
  const { call } = await setup(t)
  const web = { client_id: 'web', grant_types: ['authorization_code'], redirect_uris: ['https://app.test/cb'] }
  const created = await call('POST', '/admin/clients', web)
  t.equal(created.statusCode, 201)
  t.match(created.json(), { pkce: 'required', id_token_alg: null, userinfo_alg: null, backchannel_logout_uri: null }, 'the defaults, shown')
  const patched = await call('PATCH', '/admin/clients/web', { pkce: 'optional', id_token_alg: 'ES256', userinfo_alg: 'RS256', backchannel_logout_uri: 'https://app.test/backchannel' })
  t.equal(patched.statusCode, 200, patched.body)
  t.match((await call('GET', '/admin/clients/web')).json(), { pkce: 'optional', id_token_alg: 'ES256', userinfo_alg: 'RS256', backchannel_logout_uri: 'https://app.test/backchannel' })
  t.match((await call('PATCH', '/admin/clients/web', { scope: 'read' })).json(), { pkce: 'optional', id_token_alg: 'ES256' }, 'a patch of other fields keeps them')
  t.match((await call('PATCH', '/admin/clients/web', { id_token_alg: null, userinfo_alg: null, backchannel_logout_uri: null })).json(), { id_token_alg: null, userinfo_alg: null, backchannel_logout_uri: null })

  const pub = { client_id: 'spa', public: true, grant_types: ['authorization_code'], redirect_uris: ['https://spa.test/cb'] }
  const refused = await call('POST', '/admin/clients', { ...pub, pkce: 'optional' })
  t.equal(refused.statusCode, 400, 'a public client cannot go without PKCE')
  t.match(refused.json(), { error: 'invalid_request', error_description: /public client must use PKCE/ })
  t.equal((await call('POST', '/admin/clients', pub)).statusCode, 201)
  t.equal((await call('PATCH', '/admin/clients/spa', { pkce: 'optional' })).statusCode, 400, 'nor after registration')
  for (const [field, value] of [['pkce', 'plain'], ['id_token_alg', 'HS256'], ['id_token_alg', 'none'], ['userinfo_alg', 'RS512']] as const) {
    t.equal((await call('PATCH', '/admin/clients/web', { [field]: value })).statusCode, 400, `${field}: ${value}`)
  }
  for (const uri of ['http://app.test/bc', 'https://app.test/bc#frag', 'not a uri', '/relative', 'com.example.app:/bc', 'ftp://app.test/bc']) {
    const bad = await call('PATCH', '/admin/clients/web', { backchannel_logout_uri: uri })
    t.equal(bad.statusCode, 400, uri)
    t.match(bad.json().error_description, /back-channel logout URI/)
  }
  t.equal((await call('PATCH', '/admin/clients/web', { backchannel_logout_uri: 'http://127.0.0.1:4000/bc' })).statusCode, 200, 'plain http on loopback, as redirect URIs')
})

t.test('grant_types are stored once each: POST and PATCH drop repeats (issue 11)', async (t) => {
  const { app, call } = await setup(t)
  const created = await call('POST', '/admin/clients', { client_id: 'web', grant_types: ['password', 'password', 'refresh_token', 'password'] })
  t.equal(created.statusCode, 201)
  t.same(created.json().grant_types, ['password', 'refresh_token'])
  const patched = await call('PATCH', '/admin/clients/web', { grant_types: ['refresh_token', 'client_credentials', 'refresh_token', 'client_credentials'] })
  t.equal(patched.statusCode, 200)
  t.same(patched.json().grant_types, ['refresh_token', 'client_credentials'], 'the reply')
  t.same((await call('GET', '/admin/clients/web')).json().grant_types, ['refresh_token', 'client_credentials'], 'a later read')
  t.same((await app.storage.clients.find('web'))?.grantTypes, ['refresh_token', 'client_credentials'], 'the stored row')
})

t.test('deleting a client revokes the tokens it obtained for users', async (t) => {
  const { app, call } = await setup(t)
  const secret = (await addClient(app, 'web', { grantTypes: ['password'] }))!
  const { access_token: at } = (await post(app, '/token', { grant_type: 'password', username: 'plain', password: 'pw' }, { authorization: basic('web', secret) })).json()
  t.equal((await app.inject({ url: '/users/me', headers: { authorization: `Bearer ${at}` } })).statusCode, 200)
  t.equal((await call('DELETE', '/admin/clients/web')).statusCode, 204)
  t.equal((await app.inject({ url: '/users/me', headers: { authorization: `Bearer ${at}` } })).statusCode, 401)
})

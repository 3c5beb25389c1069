import t from 'tap'
import { addClient, addUser, basic, build, post } from './helper.js'

async function setup (t: Parameters<typeof build>[0]) {
  const app = await build(t)
  await addUser(app, 'alice', 'pw', { scope: 'read write' })
  const c1 = { authorization: basic('c1', (await addClient(app, 'c1', { grantTypes: ['password', 'refresh_token', 'client_credentials'], scope: 'read write' }))!) }
  const c2 = { authorization: basic('c2', (await addClient(app, 'c2', { grantTypes: ['password', 'refresh_token'] }))!) }
  const rs = { authorization: basic('rs', (await addClient(app, 'rs', { grantTypes: ['client_credentials'] }))!) }
  await addClient(app, 'p1', { isPublic: true, grantTypes: ['password', 'refresh_token'] })
  const login = async (auth: Record<string, string> = c1, extra: Record<string, string> = {}) => {
    const res = await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw', ...extra }, auth)
    t.equal(res.statusCode, 200, 'login')
    return res.json() as { access_token: string, refresh_token: string }
  }
  const introspect = async (token: string, extra: Record<string, string> = {}) => (await post(app, '/introspect', { token, ...extra }, rs)).json()
  return { app, c1, c2, rs, login, introspect }
}

t.test('I3: an active access token introspects with its claims', async (t) => {
  const { app, login, rs } = await setup(t)
  const { access_token: at } = await login()
  const res = await post(app, '/introspect', { token: at }, rs)
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  t.equal(res.headers.pragma, 'no-cache')
  const body = res.json()
  t.match(body, { active: true, scope: 'read write', client_id: 'c1', username: 'alice', token_type: 'Bearer', iss: 'http://gatehouse.test', aud: 'http://gatehouse.test' })
  t.type(body.sub, 'string')
  t.type(body.exp, 'number')
  t.type(body.iat, 'number')
  t.type(body.jti, 'string')
})

t.test('I1: introspection needs an authenticated confidential client', async (t) => {
  const { app, login } = await setup(t)
  const { access_token: at } = await login()
  const none = await post(app, '/introspect', { token: at })
  t.equal(none.statusCode, 401)
  t.same(Object.keys(none.json()).sort(), ['error', 'error_description'])
  t.equal(none.json().error, 'invalid_client')
  const bad = await post(app, '/introspect', { token: at }, { authorization: basic('rs', 'wrong') })
  t.equal(bad.statusCode, 401)
  t.equal(bad.headers['www-authenticate'], 'Basic realm="gatehouse"')
  const pub = await post(app, '/introspect', { token: at, client_id: 'p1' })
  t.equal(pub.statusCode, 401, 'a public client is not a resource server')
  const missing = await post(app, '/introspect', {}, { authorization: basic('rs', 'wrong') })
  t.equal(missing.statusCode, 400, 'missing token is invalid_request (checked by the schema first)')
  t.equal(missing.json().error, 'invalid_request')
})

t.test('J8, V1: garbage, expired and revoked tokens are {"active":false} and nothing else', async (t) => {
  const { app, c1, login, introspect } = await setup(t)
  for (const garbage of ['garbage', 'a.b.c', 'x'.repeat(5000)]) t.same(await introspect(garbage), { active: false })
  const { access_token: at } = await login()
  const revoked = await post(app, '/revoke', { token: at, token_type_hint: 'bogus' }, c1)
  t.equal(revoked.statusCode, 200)
  t.equal(revoked.body, '', 'empty body')
  t.same(await introspect(at), { active: false })
  const me = await app.inject({ url: '/users/me', headers: { authorization: `Bearer ${at}` } })
  t.equal(me.statusCode, 401)
  t.match(me.headers['www-authenticate'], /error="invalid_token"/)
})

t.test('V1: the wrong hint still finds and revokes the token', async (t) => {
  const { app, c1, login, introspect } = await setup(t)
  const a = await login()
  t.equal((await post(app, '/revoke', { token: a.access_token, token_type_hint: 'refresh_token' }, c1)).statusCode, 200)
  t.same(await introspect(a.access_token), { active: false })
  t.equal((await post(app, '/revoke', { token: a.refresh_token, token_type_hint: 'access_token' }, c1)).statusCode, 200)
  t.equal((await post(app, '/token', { grant_type: 'refresh_token', refresh_token: a.refresh_token }, c1)).json().error, 'invalid_grant')
  t.equal((await post(app, '/revoke', { token: 'unknown-token' }, c1)).statusCode, 200, 'unknown tokens: 200')
})

t.test('V2: revocation needs client auth, and a client cannot revoke another client\'s token', async (t) => {
  const { app, c2, login, introspect } = await setup(t)
  const { access_token: at, refresh_token: rt } = await login()
  const anonymous = await post(app, '/revoke', { token: at })
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.json().error, 'invalid_client')
  // Documented choice: a silent 200 (nothing is revealed about the foreign token), and the token stays valid.
  t.equal((await post(app, '/revoke', { token: at }, c2)).statusCode, 200)
  t.equal((await post(app, '/revoke', { token: rt }, c2)).statusCode, 200)
  t.equal((await introspect(at)).active, true)
  t.equal((await introspect(rt, { token_type_hint: 'refresh_token' })).active, false, 'refresh tokens introspect only for their own client')
})

t.test('V3: revoking a refresh token revokes every access token of its grant', async (t) => {
  const { app, c1, login, introspect } = await setup(t)
  const first = await login()
  const next = (await post(app, '/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token }, c1)).json()
  const other = await login()
  t.equal((await post(app, '/introspect', { token: next.refresh_token }, c1)).json().active, true, 'the owner can introspect its refresh token')
  t.equal((await post(app, '/revoke', { token: next.refresh_token }, c1)).statusCode, 200)
  t.same(await introspect(first.access_token), { active: false })
  t.same(await introspect(next.access_token), { active: false })
  t.equal((await introspect(other.access_token)).active, true, 'another grant of the same user is untouched')
})

t.test('a public client revokes its own tokens with only its client_id', async (t) => {
  const { app, introspect } = await setup(t)
  const login = await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw', client_id: 'p1' })
  const { access_token: at } = login.json()
  t.equal((await post(app, '/revoke', { token: at, client_id: 'p1' })).statusCode, 200)
  t.same(await introspect(at), { active: false })
})

t.test('client_credentials tokens introspect with sub = client id, and die with the client', async (t) => {
  const { app, c1, introspect } = await setup(t)
  const { access_token: at } = (await post(app, '/token', { grant_type: 'client_credentials' }, c1)).json()
  t.match(await introspect(at), { active: true, sub: 'c1', client_id: 'c1' })
  await app.storage.clients.delete('c1')
  t.same(await introspect(at), { active: false })
})

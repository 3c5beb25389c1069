import t, { type Test } from 'tap'
import { decodeJwt } from 'jose'
import { addClient, addUser, basic, build, post } from '../support/helper.js'
import { assertOAuthError, bearer } from '../support/oauth.js'
import { assertNoStore } from '../support/security.js'
import { denyEntry } from '../../lib/stores/deny-list.js'

// SECURITY-CASES V1–V3: POST /revoke (RFC 7009).

async function setup (t: Test) {
  const app = await build(t)
  await addUser(app, 'alice', 'pw', { scope: 'read write' })
  const c1 = { authorization: basic('c1', (await addClient(app, 'c1', { grantTypes: ['password', 'refresh_token', 'client_credentials'], scope: 'read write' }))!) }
  const c2 = { authorization: basic('c2', (await addClient(app, 'c2', { grantTypes: ['password', 'refresh_token'] }))!) }
  const rs = { authorization: basic('rs', (await addClient(app, 'rs', { grantTypes: ['client_credentials'] }))!) }
  const login = async (auth: Record<string, string> = c1) => {
    const res = await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw' }, auth)
    t.equal(res.statusCode, 200, 'login')
    return res.json() as { access_token: string, refresh_token: string }
  }
  const introspect = async (token: string, extra: Record<string, string> = {}) => (await post(app, '/introspect', { token, ...extra }, rs)).json()
  const revoke = async (fields: Record<string, string>, auth: Record<string, string> = c1) => {
    const res = await post(app, '/revoke', fields, auth)
    t.equal(res.statusCode, 200, `revoke ${fields.token_type_hint ?? ''}: 200`)
    t.equal(res.body, '', 'empty body')
    assertNoStore(t, res)
    return res
  }
  return { app, c1, c2, rs, login, introspect, revoke }
}

t.test('V1: token=garbage is 200 with an empty body; a bogus or wrong hint still finds and revokes the token', async (t) => {
  const { app, c1, login, introspect, revoke } = await setup(t)
  for (const garbage of ['garbage', 'a.b.c', 'x'.repeat(5000), 'eyJhbGciOiJub25lIn0.e30.']) await revoke({ token: garbage })
  await revoke({ token: 'unknown-token', token_type_hint: 'refresh_token' })

  const bogus = await login()
  await revoke({ token: bogus.access_token, token_type_hint: 'bogus' })
  t.same(await introspect(bogus.access_token), { active: false }, 'access token revoked with token_type_hint=bogus')
  const me = await app.inject({ url: '/users/me', headers: bearer(bogus.access_token) })
  t.equal(me.statusCode, 401)
  t.match(me.headers['www-authenticate'], /error="invalid_token"/)
  await revoke({ token: bogus.refresh_token, token_type_hint: 'bogus' })
  assertOAuthError(t, await post(app, '/token', { grant_type: 'refresh_token', refresh_token: bogus.refresh_token }, c1), 400, 'invalid_grant', undefined, 'refresh token revoked with token_type_hint=bogus')

  const wrong = await login()
  await revoke({ token: wrong.access_token, token_type_hint: 'refresh_token' })
  t.same(await introspect(wrong.access_token), { active: false }, 'access token revoked with the refresh_token hint')
  await revoke({ token: wrong.refresh_token, token_type_hint: 'access_token' })
  assertOAuthError(t, await post(app, '/token', { grant_type: 'refresh_token', refresh_token: wrong.refresh_token }, c1), 400, 'invalid_grant', undefined, 'refresh token revoked with the access_token hint')
})

t.test('V2: no client authentication is 401 invalid_client; c2 revoking c1\'s token gets a silent 200 and the token stays active', async (t) => {
  const { app, c1, c2, login, introspect, revoke } = await setup(t)
  const { access_token: at, refresh_token: rt } = await login()
  const anonymous = await post(app, '/revoke', { token: at })
  assertOAuthError(t, anonymous, 401, 'invalid_client', undefined, 'no client authentication')
  t.equal(anonymous.headers['www-authenticate'], undefined, 'no Basic challenge when Basic was not used')
  const badSecret = await post(app, '/revoke', { token: at }, { authorization: basic('c1', 'wrong') })
  assertOAuthError(t, badSecret, 401, 'invalid_client', undefined, 'a wrong secret')
  t.equal(badSecret.headers['www-authenticate'], 'Basic realm="gatehouse"')
  t.equal((await introspect(at)).active, true, 'the failed calls revoked nothing')

  // Documented choice: a silent 200 (nothing is revealed about the foreign token), and the token stays valid.
  await revoke({ token: at }, c2)
  await revoke({ token: rt }, c2)
  await revoke({ token: rt, token_type_hint: 'refresh_token' }, c2)
  t.equal((await introspect(at)).active, true, 'c1\'s access token is still active')
  t.equal((await app.inject({ url: '/users/me', headers: bearer(at) })).statusCode, 200, 'and usable')
  t.equal((await introspect(rt, { token_type_hint: 'refresh_token' })).active, false, 'refresh tokens introspect only for their own client')
  t.equal((await post(app, '/token', { grant_type: 'refresh_token', refresh_token: rt }, c1)).statusCode, 200, 'c1\'s refresh token still works')
})

t.test('V3: revoking a refresh token revokes every access token of its grant; revoking a JWT access token deny-lists its jti', async (t) => {
  const { app, c1, login, introspect, revoke } = await setup(t)
  const first = await login()
  const next = (await post(app, '/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token }, c1)).json()
  const other = await login()
  t.equal((await post(app, '/introspect', { token: next.refresh_token }, c1)).json().active, true, 'the owner can introspect its refresh token')
  await revoke({ token: next.refresh_token })
  t.same(await introspect(first.access_token), { active: false }, 'the grant\'s first access token')
  t.same(await introspect(next.access_token), { active: false }, 'the grant\'s second access token')
  t.equal((await app.inject({ url: '/users/me', headers: bearer(next.access_token) })).statusCode, 401)
  t.equal((await introspect(other.access_token)).active, true, 'another grant of the same user is untouched')

  // A JWT access token: revoked through a deny-list keyed by its jti, until it would have expired.
  const { jti, exp } = decodeJwt(other.access_token)
  t.notOk(await app.storage.revocations.anyRevoked([denyEntry.token(jti!)]), 'not deny-listed before')
  await revoke({ token: other.access_token })
  t.ok(await app.storage.revocations.anyRevoked([denyEntry.token(jti!)]), 'its jti is on the deny-list')
  t.same(await introspect(other.access_token), { active: false }, 'the revoked JWT access token is active:false')
  t.equal((await app.inject({ url: '/users/me', headers: bearer(other.access_token) })).statusCode, 401, 'and refused by /users/me')
  t.ok(exp! > Math.floor(Date.now() / 1000), 'although its signature and exp are still valid')

  // client_credentials access tokens (no grant) are deny-listed the same way.
  const cc = (await post(app, '/token', { grant_type: 'client_credentials' }, c1)).json()
  t.equal((await introspect(cc.access_token)).active, true)
  await revoke({ token: cc.access_token, token_type_hint: 'access_token' })
  t.same(await introspect(cc.access_token), { active: false }, 'a client_credentials token revoked')
})

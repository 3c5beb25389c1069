import t from 'tap'
import type { AccessTokenClaims } from '../../../lib/oauth/access-token-rules.js'
import { DEFAULT_CLIENT } from '../../../lib/oauth/client-auth.js'
import { cachedTokenStanding, claimsNow, decide } from '../../../lib/oauth/token-standing.js'
import type { CachePeek } from '../../../lib/stores/cached.js'
import type { Client, User } from '../../../lib/stores/types.js'
import { clientRecord } from '../../support/records.js'

// Whether a verified token may still be used, and with which scopes (lib/oauth/token-standing.ts), decided on
// plain records: the bearer check and introspection reach the same rules through an app.

const USER_ID = '6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b'
const user = (extra: Partial<User> = {}): User => ({
  id: USER_ID,
  username: 'alice',
  fullName: null,
  email: null,
  emailVerified: false,
  disabled: false,
  scope: 'orders:read orders:write',
  passwordHash: null,
  credentialVersion: 2,
  createdBy: null,
  claims: {},
  createdAt: 0,
  updatedAt: 0,
  ...extra
})
const client = (extra: Partial<Client> = {}): Client => clientRecord({ grantTypes: ['password'], redirectUris: [], generation: 'g1', ...extra })
const userToken = (extra: Partial<AccessTokenClaims> = {}): AccessTokenClaims => ({
  iss: 'i', aud: 'a', exp: 2, iat: 1, jti: 'j', sub: USER_ID, client_id: 'web', sub_kind: 'user', scope: 'openid orders:read', cred_ver: 2, client_gen: 'g1', ...extra
})
const clientToken = (extra: Partial<AccessTokenClaims> = {}): AccessTokenClaims => ({
  iss: 'i', aud: 'a', exp: 2, iat: 1, jti: 'j', sub: 'svc', client_id: 'svc', sub_kind: 'client', scope: 'orders:read', client_gen: 'g1', ...extra
})

t.test('a user\'s token: the user exists, is enabled and still at the token\'s credential version', async (t) => {
  const alice = user()
  t.same(decide(userToken(), alice, client()), { user: alice, scope: 'openid orders:read' }, 'standing')
  t.equal(decide(userToken(), undefined, client()), false, 'the user is gone')
  t.equal(decide(userToken(), user({ disabled: true }), client()), false, 'disabled')
  t.equal(decide(userToken(), user({ credentialVersion: 3 }), client()), false, 'a password change or a disable since')
  t.ok(decide(userToken({ cred_ver: undefined }), user({ credentialVersion: 0 }), client()), 'a token from before cred_ver counts as version 0')
  t.equal(decide(userToken({ cred_ver: undefined }), user({ credentialVersion: 1 }), client()), false, 'and is refused once the version moved')
})

t.test('the client exists in the token\'s generation', async (t) => {
  t.equal(decide(userToken(), user(), undefined), false, 'the client is gone')
  t.equal(decide(userToken(), user(), client({ generation: 'g2' })), false, 'deleted and re-created under the same id')
  t.ok(decide(userToken({ client_gen: undefined }), user(), client({ generation: null })), 'neither has a generation (registered before generations)')
  t.equal(decide(userToken({ client_gen: undefined }), user(), client()), false, 'a token without one for a client with one')
  t.ok(decide(userToken({ client_id: 'default', client_gen: undefined }), user(), DEFAULT_CLIENT), 'the built-in client')
})

t.test('the scope is what still holds: the user\'s current scopes (OIDC ones stay) within the client\'s list', async (t) => {
  t.same(decide(userToken({ scope: 'openid orders:read orders:write' }), user({ scope: 'orders:write' }), client()), { user: user({ scope: 'orders:write' }), scope: 'openid orders:write' }, 'a scope taken from the user is dropped')
  t.equal((decide(userToken({ scope: 'orders:read orders:write' }), user(), client({ scope: 'orders:read' })) || undefined)?.scope, 'orders:read', 'a scope taken from the client is dropped')
  t.equal((decide(userToken({ scope: 'orders:read' }), user({ scope: '' }), client()) || undefined)?.scope, undefined, 'none left: no scope (still a valid token)')
})

t.test('a client\'s own token: no user, the client\'s current scope list', async (t) => {
  t.same(decide(clientToken(), undefined, client({ id: 'svc', scope: 'orders:read' })), { user: undefined, scope: 'orders:read' })
  t.equal((decide(clientToken(), undefined, client({ id: 'svc', scope: null })) || undefined)?.scope, undefined, 'a client without a scope list keeps none')
  t.equal((decide(clientToken({ scope: 'openid' }), undefined, client({ id: 'svc', scope: 'orders:read' })) || undefined)?.scope, undefined, 'OIDC scopes name a user: none for a client\'s own token')
  t.equal(decide(clientToken(), undefined, client({ id: 'svc', generation: 'g0' })), false, 'another generation')
})

t.test('from the read cache: the same decision when every answer is held, undefined when one is missing, false when revoked', async (t) => {
  const alice = user()
  const peek = (held: { revoked?: boolean, user?: boolean, client?: boolean }): CachePeek => ({
    anyRevoked: () => held.revoked,
    user: (id) => held.user === undefined ? undefined : { value: held.user && id === USER_ID ? alice : undefined },
    client: (id) => held.client === undefined ? undefined : { value: held.client && id === 'web' ? client() : undefined }
  })
  t.same(cachedTokenStanding(userToken(), peek({ revoked: false, user: true, client: true })), decide(userToken(), alice, client()))
  t.equal(cachedTokenStanding(userToken(), peek({ revoked: true, user: true, client: true })), false, 'revoked')
  t.equal(cachedTokenStanding(userToken(), peek({ user: true, client: true })), undefined, 'the deny-list mirror is not trusted: ask the store')
  t.equal(cachedTokenStanding(userToken(), peek({ revoked: false, client: true })), undefined, 'the user is not cached')
  t.equal(cachedTokenStanding(userToken(), peek({ revoked: false, user: true })), undefined, 'the client is not cached')
  t.equal(cachedTokenStanding(userToken(), peek({ revoked: false, user: false, client: true })), false, 'cached as gone')
  t.equal(cachedTokenStanding(clientToken({ sub: 'other' }), peek({ revoked: false, client: true })), false, 'a client token naming another subject')
})

t.test('claimsNow: the claims with the scope that holds now, never changing the shared verified claims', async (t) => {
  const claims = userToken()
  t.equal(claimsNow(claims, { user: undefined, scope: claims.scope }), claims, 'unchanged: the same object')
  const narrowed = claimsNow(claims, { user: undefined, scope: 'openid' })
  t.equal(narrowed.scope, 'openid')
  t.equal(claims.scope, 'openid orders:read', 'the original is untouched')
  t.notOk('scope' in claimsNow(claims, { user: undefined, scope: undefined }), 'no scope left: the claim goes')
})

import t from 'tap'
import { CLAIMS_SUPPORTED, MalformedClaims, consentScopes, idTokenUserClaims, parseClaimsParameter, scopesOfClaims, userInfoClaims } from '../../../lib/oauth/claims.js'
import { userRecord } from '../../support/records.js'

// OpenID Connect claims (lib/oauth/claims.ts): scope → claims (OIDC Core §5.4), the claims parameter (§5.5).

const alice = userRecord({
  fullName: 'Alice Liddell',
  email: 'alice@example.test',
  updatedAt: 1700000000,
  emailVerified: true,
  claims: { given_name: 'Alice', locale: 'en-GB', phone_number: '+441865270000', address: { country: 'GB' } }
})

t.test('userinfo by scope: only the claims each scope stands for, and only those the user holds', async (t) => {
  t.same(userInfoClaims(alice, 'openid'), { sub: 'u-1' })
  t.same(userInfoClaims(alice, 'openid profile'), { sub: 'u-1', name: 'Alice Liddell', given_name: 'Alice', preferred_username: 'alice', locale: 'en-GB', updated_at: 1700000000 })
  t.same(userInfoClaims(alice, 'openid email'), { sub: 'u-1', email: 'alice@example.test', email_verified: true }, 'verified when the user record says so')
  t.same(userInfoClaims({ ...alice, emailVerified: false }, 'openid email'), { sub: 'u-1', email: 'alice@example.test', email_verified: false }, 'not verified by default')
  t.same(userInfoClaims(alice, 'openid address'), { sub: 'u-1', address: { country: 'GB' } })
  t.same(userInfoClaims(alice, 'openid phone'), { sub: 'u-1', phone_number: '+441865270000', phone_number_verified: false })
  t.same(userInfoClaims({ ...alice, email: null }, 'openid email'), { sub: 'u-1' }, 'no address, no email_verified')
  t.same(userInfoClaims(alice, 'openid', ['name', 'phone_number']), { sub: 'u-1', name: 'Alice Liddell', phone_number: '+441865270000' }, 'what the claims parameter asked for')
})

t.test('the ID token: the claims asked for there, never sub or the token\'s own', async (t) => {
  t.same(idTokenUserClaims(alice, null), {})
  t.same(idTokenUserClaims(alice, { userinfo: ['name'], idToken: ['given_name', 'nickname'] }), { given_name: 'Alice' }, 'nickname is not held: absent')
})

t.test('the claims parameter: names kept per place, essential/value/values accepted, anything malformed refused', async (t) => {
  t.same(parseClaimsParameter('{}'), { userinfo: [], idToken: [] })
  t.same(parseClaimsParameter(JSON.stringify({
    userinfo: { name: { essential: true }, email: null, sub: { value: 'x' }, frobnicate: null, locale: { values: ['en', 'fr'] } },
    id_token: { auth_time: { essential: true }, given_name: { essential: false, value: 'Alice' } }
  })), { userinfo: ['name', 'email', 'locale'], idToken: ['given_name'] }, 'sub and the token\'s own claims are always there; unknown names ignored')
  for (const bad of ['', 'nope', '[]', '"x"', 'null', '{"userinfo":[]}', '{"userinfo":"name"}', '{"id_token":{"name":1}}',
    '{"userinfo":{"name":{"essential":"yes"}}}', '{"userinfo":{"name":{"values":"a"}}}', `{"userinfo":{"name":null},"x":"${'a'.repeat(4100)}"}`]) {
    t.throws(() => parseClaimsParameter(bad), MalformedClaims, bad.slice(0, 40))
  }
})

t.test('consent: a claim asked for by name is consented like its scope', async (t) => {
  t.same(scopesOfClaims(undefined), [])
  t.same(scopesOfClaims({ userinfo: ['name'], idToken: ['email', 'phone_number_verified'] }), ['profile', 'email', 'phone'])
  t.same(consentScopes(['openid', 'email'], { userinfo: ['email', 'address'], idToken: [] }), ['openid', 'email', 'address'])
})

t.test('claims_supported names every claim released', async (t) => {
  for (const name of ['sub', 'name', 'given_name', 'family_name', 'preferred_username', 'picture', 'locale', 'zoneinfo', 'updated_at', 'email', 'email_verified', 'address', 'phone_number', 'phone_number_verified']) {
    t.ok(CLAIMS_SUPPORTED.includes(name), name)
  }
})

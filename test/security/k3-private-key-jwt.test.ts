import t from 'tap'
import { createClient } from '../../lib/admin/clients.js'
import { build, ISSUER, post } from '../support/helper.js'
import { assertOAuthError } from '../support/oauth.js'
import { assertionFields, clientAssertion, clientKey, hmacJwt, jwksOf, unsignedJwt } from '../support/client-keys.js'

// SECURITY-CASES K3: private_key_jwt (RFC 7523 §3, OIDC Core §9, RFC 9700 §2.5): an assertion replayed (same jti), with
// aud = another server, exp 1 h ahead, signed by a key not in the client's JWKS, `alg: none`, or HS256 keyed with the
// public key: 401 invalid_client each time, at /token and at /introspect; nothing issued.

const TOKEN = `${ISSUER}/token`

t.test('K3: an assertion replayed, aud = another server, exp 1 h ahead, a key not in the JWKS, alg none, HS256 with the public key: 401 invalid_client each time', async (t) => {
  const app = await build(t)
  const key = await clientKey('ES256')
  await createClient(app.storage, 'svc', { isPublic: false, grantTypes: ['client_credentials'], scope: 'orders:read', redirectUris: [], jwks: jwksOf(key) })
  const now = Math.floor(Date.now() / 1000)
  const token = (assertion: string, extra: Record<string, string> = {}) => post(app, '/token', { grant_type: 'client_credentials', ...assertionFields(assertion), ...extra })

  const good = await clientAssertion(key, 'svc', TOKEN)
  const first = await token(good)
  t.equal(first.statusCode, 200, 'a good assertion: tokens')
  t.ok(first.json().access_token)

  const claims = { iss: 'svc', sub: 'svc', aud: TOKEN, exp: now + 60 }
  const cases: Array<[string, string, RegExp]> = [
    ['replayed (same jti)', good, /jti was used before/],
    ['aud = another server', await clientAssertion(key, 'svc', 'https://other.example/token'), /aud does not name this server/],
    ['exp 1 h ahead', await clientAssertion(key, 'svc', TOKEN, { claims: { exp: now + 3600 } }), /more than 300 seconds ahead/],
    ['signed by a key not in the JWKS', await clientAssertion(await clientKey('ES256', key.kid), 'svc', TOKEN), /signature does not verify/],
    ['signed by an unknown key', await clientAssertion(await clientKey('ES256'), 'svc', TOKEN), /no key of the client's JWK Set matches/],
    ['alg none', unsignedJwt({ ...claims, jti: 'none-1' }), /alg "none" is not accepted/],
    ['HS256 keyed with the public key', await hmacJwt({ ...claims, jti: 'hs-1' }, new TextEncoder().encode(JSON.stringify(key.publicJwk)), key.kid), /alg "HS256" is not accepted/]
  ]
  for (const [label, assertion, why] of cases) {
    assertOAuthError(t, await token(assertion), 401, 'invalid_client', why, `/token, ${label}`)
    assertOAuthError(t, await post(app, '/introspect', { token: first.json().access_token, ...assertionFields(assertion) }), 401, 'invalid_client', undefined, `/introspect, ${label}`)
  }
  t.equal(await app.storage.clientAssertions.use('svc', 'hs-1', now + 60, now), true, 'a refused assertion\'s jti was never recorded')
})

t.test('K3: one method only; a secret for a keys-only client; an assertion for another client', async (t) => {
  const app = await build(t)
  const key = await clientKey('RS256')
  await createClient(app.storage, 'svc', { isPublic: false, grantTypes: ['client_credentials'], scope: null, redirectUris: [], jwks: jwksOf(key) })
  const assertion = await clientAssertion(key, 'svc', TOKEN)
  assertOAuthError(t, await post(app, '/token', { grant_type: 'client_credentials', ...assertionFields(assertion), client_secret: 'x', client_id: 'svc' }), 400, 'invalid_request', /more than one method/, 'assertion and a secret')
  assertOAuthError(t, await post(app, '/token', { grant_type: 'client_credentials', ...assertionFields(assertion) }, { authorization: 'Basic ' + Buffer.from('svc:x').toString('base64') }), 400, 'invalid_request', /more than one method/, 'assertion and Basic')
  assertOAuthError(t, await post(app, '/token', { grant_type: 'client_credentials', client_assertion: assertion }), 400, 'invalid_request', /go together/, 'no assertion type')
  assertOAuthError(t, await post(app, '/token', { grant_type: 'client_credentials', client_assertion_type: 'urn:other', client_assertion: assertion }), 401, 'invalid_client', /client_assertion_type must be/, 'another assertion type')
  assertOAuthError(t, await post(app, '/token', { grant_type: 'client_credentials', client_id: 'other', ...assertionFields(assertion) }), 401, 'invalid_client', /not the client_id sent/, 'client_id another than sub')
  assertOAuthError(t, await post(app, '/token', { grant_type: 'client_credentials', client_id: 'svc', client_secret: 'guess' }), 401, 'invalid_client', undefined, 'a keys-only client has no secret to guess')
  assertOAuthError(t, await post(app, '/token', { grant_type: 'client_credentials', client_id: 'svc' }), 401, 'invalid_client', undefined, 'nor is it public')
  const secretClient = await createClient(app.storage, 'plain', { isPublic: false, grantTypes: ['client_credentials'], scope: null, redirectUris: [] })
  t.ok(secretClient.secret)
  assertOAuthError(t, await post(app, '/token', { grant_type: 'client_credentials', ...assertionFields(await clientAssertion(key, 'plain', TOKEN)) }), 401, 'invalid_client', /no keys registered/, 'a client without keys')
})

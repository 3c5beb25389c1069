import t, { type Test } from 'tap'
import { scopeCatalog, serverMetadata, TOKEN_ENDPOINT_AUTH_METHODS } from '../../../lib/oauth/metadata.js'
import { createClient } from '../../../lib/admin/clients.js'
import { openStorage } from '../../../lib/stores/index.js'
import { manualClock, tempDatabaseUrl } from '../../support/helper.js'

t.test('serverMetadata: every URL from the issuer (a trailing slash dropped), the lists name what exists', async (t) => {
  const m = serverMetadata({ issuer: 'https://auth.example.test/tenant/' })
  t.equal(m.issuer, 'https://auth.example.test/tenant/', 'the issuer exactly as configured (RFC 8414 §3.3)')
  for (const [member, path] of [['authorization_endpoint', '/authorize'], ['token_endpoint', '/token'], ['device_authorization_endpoint', '/device_authorization'], ['userinfo_endpoint', '/userinfo'], ['end_session_endpoint', '/logout'],
    ['jwks_uri', '/.well-known/jwks.json'], ['revocation_endpoint', '/revoke'], ['introspection_endpoint', '/introspect'], ['service_documentation', '/docs']] as const) {
    t.equal(m[member], `https://auth.example.test/tenant${path}`, member)
  }
  t.same([...m.grant_types_supported].sort(), ['authorization_code', 'client_credentials', 'password', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:token-exchange'])
  t.same(m.response_types_supported, ['code'], 'no implicit flow')
  t.same(m.code_challenge_methods_supported, ['S256'], 'no plain PKCE (also with PKCE optional for some clients)')
  t.same(m.response_modes_supported, ['query', 'form_post'], 'OAuth 2.0 Form Post Response Mode')
  t.equal(m.request_parameter_supported, true, 'signed request objects by value (RFC 9101), from clients with keys')
  t.equal(m.request_uri_parameter_supported, false, 'by reference: refused')
  t.ok(m.token_endpoint_auth_methods_supported.includes('private_key_jwt'), 'private_key_jwt (RFC 7523)')
  t.notOk((m.token_endpoint_auth_methods_supported as string[]).includes('client_secret_jwt'), 'client_secret_jwt: secrets are stored as digests')
  for (const list of [m.token_endpoint_auth_signing_alg_values_supported, m.request_object_signing_alg_values_supported, m.introspection_endpoint_auth_signing_alg_values_supported]) {
    t.ok(list.includes('ES256') && list.includes('RS256') && list.includes('EdDSA'), 'asymmetric algorithms')
    t.notOk((list as string[]).some((alg) => alg === 'none' || alg.startsWith('HS')), 'never none or HMAC')
  }
  t.equal(m.request_uri_parameter_supported, false, 'and by reference (request_uri_not_supported)')
  t.same(m.display_values_supported, ['page', 'popup', 'touch', 'wap'], 'the display values accepted')
  t.same(m.acr_values_supported, ['urn:gatehouse:acr:pwd', 'urn:gatehouse:acr:mfa'], 'one factor, two factors (acr_values may ask for the second)')
  t.ok(m.claims_supported.includes('amr') && m.claims_supported.includes('acr'), 'ID tokens carry amr and acr')
  t.equal(m.authorization_response_iss_parameter_supported, true, 'RFC 9207')
  t.same(m.id_token_signing_alg_values_supported, ['RS256', 'ES256'], 'OIDC Core §15.1: RS256 among them')
  t.same(m.userinfo_signing_alg_values_supported, ['RS256', 'ES256'])
  t.same(m.token_endpoint_auth_methods_supported, [...TOKEN_ENDPOINT_AUTH_METHODS])
  t.notOk(m.introspection_endpoint_auth_methods_supported.includes('none'), 'introspection only for confidential clients')
})

async function catalog (t: Test) {
  const storage = await openStorage(tempDatabaseUrl(t))
  t.teardown(() => storage.close())
  const clock = manualClock()
  const warnings: unknown[] = []
  return { storage, clock, warnings, scopes: scopeCatalog({ storage, clock, warn: (err) => warnings.push(err) }) }
}

t.test('scopeCatalog: the built-in scopes, and every scope a user or a client holds, sorted, once each', async (t) => {
  t.same(await (await catalog(t)).scopes(), ['address', 'admin', 'email', 'openid', 'phone', 'profile'], 'an empty store: the built-in ones')
  const { storage, scopes } = await catalog(t)
  await storage.users.create({ username: 'alice', passwordHash: null, scope: 'items:read items:write' })
  await createClient(storage, 'svc', { isPublic: false, grantTypes: ['client_credentials'], scope: 'reports:read items:read', redirectUris: [] })
  t.same(await scopes(), ['address', 'admin', 'email', 'items:read', 'items:write', 'openid', 'phone', 'profile', 'reports:read'])
})

t.test('scopeCatalog: read at most once a minute; while the store fails, the last list and a warning', async (t) => {
  const { storage, clock, warnings, scopes } = await catalog(t)
  t.same(await scopes(), ['address', 'admin', 'email', 'openid', 'phone', 'profile'])
  await storage.users.create({ username: 'alice', passwordHash: null, scope: 'items:read' })
  clock.advance(59)
  t.notOk((await scopes()).includes('items:read'), 'within the minute: the list read before')
  clock.advance(1)
  t.ok((await scopes()).includes('items:read'), 'a minute later: read again')
  await storage.close()
  clock.advance(60)
  t.same(await scopes(), ['address', 'admin', 'email', 'items:read', 'openid', 'phone', 'profile'], 'the store fails: the last list')
  t.equal(warnings.length, 1, 'and one warning')
})

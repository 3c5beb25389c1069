import t from 'tap'
import * as oauth from 'oauth4webapi'
import * as client from 'openid-client'
import { addRegistrationToken } from '../../lib/admin/registration-tokens.js'
import { createClient } from '../../lib/admin/clients.js'
import { buildListening } from '../support/helper.js'
import { clientKey, jwksOf } from '../support/client-keys.js'

/**
 * private_key_jwt (RFC 7523) with real client libraries over real HTTP: oauth4webapi's PrivateKeyJwt for
 * client_credentials and introspection; openid-client v6's PrivateKeyJwt; a client registered through RFC 7591 with
 * its jwks then authenticating with its key. The authorization code flow with private_key_jwt (and signed request
 * objects) runs through the pages in ../routes/token/private-key-jwt.test.ts and ../routes/browser/request-object.test.ts.
 */
t.test('oauth4webapi and openid-client authenticate with private_key_jwt; a client registered with jwks too', async (t) => {
  const { app, url } = await buildListening(t, { REGISTRATION: 'token' })
  const insecure = { [oauth.allowInsecureRequests]: true }
  const issuer = new URL(url)
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }))
  t.ok(as.token_endpoint_auth_methods_supported?.includes('private_key_jwt'), 'the metadata offers private_key_jwt')

  const svcKey = await clientKey('ES256')
  await createClient(app.storage, 'svc', { isPublic: false, grantTypes: ['client_credentials'], scope: 'read', redirectUris: [], jwks: jwksOf(svcKey) })
  const svc: oauth.Client = { client_id: 'svc' }
  const svcAuth = oauth.PrivateKeyJwt({ key: svcKey.privateKey, kid: svcKey.kid })
  const tokens = await oauth.processClientCredentialsResponse(as, svc, await oauth.clientCredentialsGrantRequest(as, svc, svcAuth, { scope: 'read' }, insecure))
  t.equal(tokens.scope, 'read', 'oauth4webapi: client_credentials with private_key_jwt')
  const introspection = await oauth.processIntrospectionResponse(as, svc, await oauth.introspectionRequest(as, svc, svcAuth, tokens.access_token, insecure))
  t.match(introspection, { active: true, client_id: 'svc' }, 'oauth4webapi: introspected with private_key_jwt')

  const rsKey = await clientKey('PS256')
  await createClient(app.storage, 'rs', { isPublic: false, grantTypes: ['client_credentials'], scope: null, redirectUris: [], jwks: jwksOf(rsKey) })
  const config = await client.discovery(issuer, 'rs', undefined, client.PrivateKeyJwt({ key: rsKey.privateKey, kid: rsKey.kid }), { execute: [client.allowInsecureRequests] })
  const rsTokens = await client.clientCredentialsGrant(config)
  t.type(rsTokens.access_token, 'string', 'openid-client: client_credentials with private_key_jwt')
  const seen = await client.tokenIntrospection(config, tokens.access_token)
  t.equal(seen.active, true, 'openid-client: introspected with private_key_jwt')

  // RFC 7591: a client registers its public keys and authenticates with the private one (no secret issued).
  const { token: initial } = await addRegistrationToken(app.storage, app.clock, { maxUses: 1 })
  const dynKey = await clientKey('Ed25519')
  const registered = await fetch(`${url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${initial}` },
    body: JSON.stringify({ token_endpoint_auth_method: 'private_key_jwt', jwks: jwksOf(dynKey), grant_types: ['client_credentials'], response_types: [], scope: 'openid' })
  })
  t.equal(registered.status, 201)
  const metadata = await registered.json() as { client_id: string, client_secret?: string, token_endpoint_auth_method: string }
  t.equal(metadata.token_endpoint_auth_method, 'private_key_jwt')
  t.equal(metadata.client_secret, undefined, 'no secret')
  const dyn: oauth.Client = { client_id: metadata.client_id }
  const dynTokens = await oauth.processClientCredentialsResponse(as, dyn, await oauth.clientCredentialsGrantRequest(as, dyn, oauth.PrivateKeyJwt({ key: dynKey.privateKey, kid: dynKey.kid }), {}, insecure))
  t.type(dynTokens.access_token, 'string', 'the registered client got tokens with its key')
})

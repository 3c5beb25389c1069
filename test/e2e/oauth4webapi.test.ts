import t from 'tap'
import * as oauth from 'oauth4webapi'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { addClient, addUser, buildListening } from '../support/helper.js'

/**
 * Gatehouse driven by a real, strict OAuth client library (oauth4webapi) over real HTTP: if its
 * discovery, token, revocation or introspection replies bent any RFC, these calls would throw.
 */
t.test('oauth4webapi: discovery, client_credentials, password, refresh rotation and reuse, revocation, introspection', async (t) => {
  const { app, url } = await buildListening(t)
  await addUser(app, 'alice', 'alice-pw', { scope: 'read write' })
  const svcSecret = (await addClient(app, 'svc', { grantTypes: ['client_credentials'], scope: 'read' }))!
  const webSecret = (await addClient(app, 'web', { grantTypes: ['password', 'refresh_token'] }))!
  const rsSecret = (await addClient(app, 'rs', { grantTypes: ['client_credentials'] }))!
  const insecure = { [oauth.allowInsecureRequests]: true }

  const issuer = new URL(url)
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }))
  t.equal(as.issuer, url)
  t.same(as.grant_types_supported, ['password', 'client_credentials', 'refresh_token', 'authorization_code', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:token-exchange'])
  t.ok(as.revocation_endpoint && as.introspection_endpoint)

  const svc: oauth.Client = { client_id: 'svc' }
  for (const auth of [oauth.ClientSecretBasic(svcSecret), oauth.ClientSecretPost(svcSecret)]) {
    const res = await oauth.clientCredentialsGrantRequest(as, svc, auth, { scope: 'read' }, insecure)
    const tokens = await oauth.processClientCredentialsResponse(as, svc, res)
    t.equal(tokens.token_type, 'bearer', 'oauth4webapi normalises the type')
    t.equal(tokens.scope, 'read')
    t.equal(tokens.refresh_token, undefined)
  }

  const web: oauth.Client = { client_id: 'web' }
  const webAuth = oauth.ClientSecretBasic(webSecret)
  const login = await oauth.processGenericTokenEndpointResponse(as, web,
    await oauth.genericTokenEndpointRequest(as, web, webAuth, 'password', { username: 'alice', password: 'alice-pw' }, insecure))
  t.type(login.refresh_token, 'string')

  // The access token, verified as a resource server would: JWKS from the metadata, RFC 9068 rules.
  const jwks = createRemoteJWKSet(new URL(as.jwks_uri!))
  const verified = await jwtVerify(login.access_token, jwks, { issuer: url, audience: url, typ: 'at+jwt', algorithms: ['ES256'] })
  t.equal(verified.payload.client_id, 'web')
  t.equal(verified.payload.scope, 'read write')
  const rsClaims = await oauth.validateJwtAccessToken(as, new Request(`${url}/users/me`, { headers: { authorization: `Bearer ${login.access_token}` } }), url, insecure)
  t.equal(rsClaims.sub, verified.payload.sub)

  const me = await fetch(`${url}/users/me`, { headers: { authorization: `Bearer ${login.access_token}` } })
  t.equal(me.status, 200)
  t.equal(((await me.json()) as { username: string }).username, 'alice')

  const refreshed = await oauth.processRefreshTokenResponse(as, web, await oauth.refreshTokenGrantRequest(as, web, webAuth, login.refresh_token!, insecure))
  t.not(refreshed.refresh_token, login.refresh_token)
  // Reuse of the spent refresh token: the library surfaces the RFC 6749 §5.2 error.
  const refresh = async (token: string) => oauth.processRefreshTokenResponse(as, web, await oauth.refreshTokenGrantRequest(as, web, webAuth, token, insecure)).catch((err: unknown) => err)
  t.match(await refresh(login.refresh_token!), { error: 'invalid_grant', status: 400 })
  t.match(await refresh(refreshed.refresh_token!), { error: 'invalid_grant' }, 'reuse revoked the family')

  const rs: oauth.Client = { client_id: 'rs' }
  const rsAuth = oauth.ClientSecretBasic(rsSecret)
  const fresh = await oauth.processGenericTokenEndpointResponse(as, web,
    await oauth.genericTokenEndpointRequest(as, web, webAuth, 'password', { username: 'alice', password: 'alice-pw', scope: 'read' }, insecure))
  const active = await oauth.processIntrospectionResponse(as, rs, await oauth.introspectionRequest(as, rs, rsAuth, fresh.access_token, insecure))
  t.match(active, { active: true, client_id: 'web', scope: 'read', username: 'alice' })
  await oauth.processRevocationResponse(await oauth.revocationRequest(as, web, webAuth, fresh.refresh_token!, insecure))
  const inactive = await oauth.processIntrospectionResponse(as, rs, await oauth.introspectionRequest(as, rs, rsAuth, fresh.access_token, insecure))
  t.same(inactive, { active: false })
})

import t, { type Test } from 'tap'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { createClient } from '../../../lib/admin/clients.js'
import { addUser, build, post } from '../../support/helper.js'
import { assertOAuthError } from '../../support/oauth.js'
import { selfSignedCertificate } from '../../support/tls.js'
import { authorizeThrough, authorizeUrl, InjectBrowser, PASSWORD, pkce, REDIRECT } from '../../support/browser.js'
import { assertionFields, clientAssertion, clientKey, jwksOf, type ClientKey } from '../../support/client-keys.js'

// private_key_jwt (RFC 7523, docs/client-authentication.md) at /token (client_credentials, authorization_code,
// refresh_token), /introspect, /revoke and /device_authorization: keys given inline, and at a jwks_uri served by a local
// HTTPS server (rotation: an unknown kid refetches once; the server down: invalid_client).

const ISSUER = 'http://127.0.0.1:3000'
const TOKEN = `${ISSUER}/token`

/** The client's side: its JWK Set at https://127.0.0.1:PORT/jwks, changeable, and a switch to answer 503. */
async function jwksServer (t: Test, tls: { key: string, cert: string }) {
  let keys: ClientKey[] = []
  let down = false
  let hits = 0
  const server = createServer(tls, (_req, res) => {
    hits++
    if (down) { res.writeHead(503); return res.end() }
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' })
    res.end(JSON.stringify(jwksOf(...keys)))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return {
    uri: `https://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`,
    serve (...next: ClientKey[]) { keys = next },
    setDown (value: boolean) { down = value },
    hits: () => hits
  }
}

t.test('inline keys: client_credentials, introspection and revocation with private_key_jwt', async (t) => {
  const app = await build(t, { ISSUER })
  const key = await clientKey('EdDSA')
  const { client, secret } = await createClient(app.storage, 'svc', { isPublic: false, grantTypes: ['client_credentials'], scope: 'orders:read', redirectUris: [], jwks: jwksOf(key) })
  t.equal(secret, undefined, 'a client added with keys gets no secret')
  t.equal(client.tokenEndpointAuthMethod, 'private_key_jwt')
  const issued = await post(app, '/token', { grant_type: 'client_credentials', scope: 'orders:read', ...assertionFields(await clientAssertion(key, 'svc', TOKEN)) })
  t.equal(issued.statusCode, 200)
  const accessToken = issued.json().access_token as string
  // aud: the issuer, or the endpoint called, are accepted too.
  const introspected = await post(app, '/introspect', { token: accessToken, ...assertionFields(await clientAssertion(key, 'svc', `${ISSUER}/introspect`)) })
  t.match(introspected.json(), { active: true, client_id: 'svc', scope: 'orders:read' }, 'introspected (aud = the introspection endpoint)')
  const revoked = await post(app, '/revoke', { token: accessToken, ...assertionFields(await clientAssertion(key, 'svc', ISSUER)) })
  t.equal(revoked.statusCode, 200, 'revoked (aud = the issuer)')
  t.match((await post(app, '/introspect', { token: accessToken, ...assertionFields(await clientAssertion(key, 'svc', TOKEN)) })).json(), { active: false }, 'no longer active')
  assertOAuthError(t, await post(app, '/revoke', { token: accessToken, ...assertionFields(await clientAssertion(key, 'svc', `${ISSUER}/device_authorization`)) }), 401, 'invalid_client', /aud does not name this server/, 'another endpoint\'s URL is not an audience here')
})

t.test('inline keys: the authorization code flow and a refresh, the client authenticating with private_key_jwt', async (t) => {
  const app = await build(t, { ISSUER })
  await addUser(app, 'alice', PASSWORD, { scope: 'items:read' })
  const key = await clientKey('ES256')
  await createClient(app.storage, 'web', { isPublic: false, grantTypes: ['authorization_code', 'refresh_token'], scope: null, redirectUris: [REDIRECT], skipConsent: true, jwks: jwksOf(key) })
  const { verifier, challenge } = pkce()
  const code = await authorizeThrough(new InjectBrowser(app), authorizeUrl({ response_type: 'code', client_id: 'web', redirect_uri: REDIRECT, scope: 'openid items:read', state: 's', code_challenge: challenge, code_challenge_method: 'S256' }))
  const tokens = await post(app, '/token', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, ...assertionFields(await clientAssertion(key, 'web', TOKEN)) })
  t.equal(tokens.statusCode, 200, 'code redeemed')
  t.ok(tokens.json().id_token && tokens.json().refresh_token)
  const refreshed = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: tokens.json().refresh_token, ...assertionFields(await clientAssertion(key, 'web', TOKEN)) })
  t.equal(refreshed.statusCode, 200, 'refreshed')
  assertOAuthError(t, await post(app, '/token', { grant_type: 'refresh_token', refresh_token: refreshed.json().refresh_token, client_id: 'web' }), 401, 'invalid_client', undefined, 'without the assertion: refused')
})

t.test('jwks_uri: fetched from the client\'s HTTPS server, rotation refetches once, the server down is invalid_client', async (t) => {
  const tls = selfSignedCertificate(t)
  const keys = await jwksServer(t, tls)
  const app = await build(t, { ISSUER }, { documentFetchCa: tls.cert })
  const first = await clientKey('RS256')
  const second = await clientKey('ES256')
  keys.serve(first)
  await createClient(app.storage, 'svc', { isPublic: false, grantTypes: ['client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'], scope: null, redirectUris: [], jwksUri: keys.uri }, { issuerOnLoopback: true })
  const token = async (key: ClientKey) => post(app, '/token', { grant_type: 'client_credentials', ...assertionFields(await clientAssertion(key, 'svc', TOKEN)) })
  t.equal((await token(first)).statusCode, 200, 'authenticated with a key from the jwks_uri')
  t.equal((await token(first)).statusCode, 200)
  t.equal(keys.hits(), 1, 'fetched once, then cached')
  const device = await post(app, '/device_authorization', { ...assertionFields(await clientAssertion(first, 'svc', `${ISSUER}/device_authorization`)) })
  t.equal(device.statusCode, 200, '/device_authorization takes private_key_jwt too')

  // Rotation: the client publishes a second key and signs with it. More than 10 s after the first fetch, the unknown kid refetches.
  keys.serve(first, second)
  await new Promise((resolve) => setTimeout(resolve, 10_100))
  t.equal((await token(second)).statusCode, 200, 'the new key, after one refetch')
  t.equal(keys.hits(), 2, 'exactly one refetch')
  assertOAuthError(t, await token(await clientKey('ES256')), 401, 'invalid_client', /no key of the client's JWK Set matches/, 'an unknown kid at once')
  t.equal(keys.hits(), 2, 'not refetched again within 10 s')

  // The server down: a client whose set is not cached gets invalid_client (never a 500).
  keys.setDown(true)
  app.clientKeys.forget('svc')
  assertOAuthError(t, await token(first), 401, 'invalid_client', /keys cannot be had: its jwks_uri failed: it answered HTTP 503/, 'jwks_uri down')
})

t.test('the admin API and registration: keys in, private_key_jwt works, private members refused', async (t) => {
  const app = await build(t, { ISSUER, REGISTRATION: 'open' })
  const key = await clientKey('ES256')
  const registered = await app.inject({ method: 'POST', url: '/register', payload: { token_endpoint_auth_method: 'private_key_jwt', jwks: jwksOf(key), redirect_uris: [REDIRECT] } })
  t.equal(registered.statusCode, 201, 'registered')
  const view = registered.json()
  t.equal(view.token_endpoint_auth_method, 'private_key_jwt')
  t.same(view.jwks, jwksOf(key), 'jwks echoed')
  t.equal(view.client_secret, undefined, 'no secret issued')
  const refused = await app.inject({ method: 'POST', url: '/register', payload: { token_endpoint_auth_method: 'private_key_jwt', redirect_uris: [REDIRECT] } })
  t.match(refused.json(), { error: 'invalid_client_metadata', error_description: /needs the client's keys/ })
  const both = await app.inject({ method: 'POST', url: '/register', payload: { token_endpoint_auth_method: 'private_key_jwt', jwks: jwksOf(key), jwks_uri: 'https://k.example/jwks', redirect_uris: [REDIRECT] } })
  t.match(both.json(), { error: 'invalid_client_metadata', error_description: /cannot both/ })
  const secretKey = { ...key.publicJwk, d: 'AAAA' }
  const leaked = await app.inject({ method: 'POST', url: '/register', payload: { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [secretKey] }, redirect_uris: [REDIRECT] } })
  t.match(leaked.json(), { error: 'invalid_client_metadata', error_description: /private or symmetric key/ })
})

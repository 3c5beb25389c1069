import t, { type Test } from 'tap'
import Fastify from 'fastify'
import type { Page } from 'playwright-core'
import * as oauth from 'oauth4webapi'
import * as oidc from 'openid-client'
import { calculateJwkThumbprint, decodeJwt, exportJWK } from 'jose'
import { createClient } from '../../lib/admin/clients.js'
import { addUser, buildListening, freePort } from '../support/helper.js'
import { appCallbackUrl, openBrowser } from '../support/chromium.js'
import { clientKey, jwksOf } from '../support/client-keys.js'

/**
 * Issue 27's acceptance, end to end: a client that holds keys and nothing else (FAPI 2.0's shape). It authenticates
 * with private_key_jwt (RFC 7523), pushes its authorization request (RFC 9126; the client must), the person signs in
 * and consents in Chromium, and its tokens are bound to a DPoP key (RFC 9449; the client must) from the push through
 * the code exchange, the refresh, /userinfo, /users/me, introspection and another Fastify service running the
 * resource-server plugin. oauth4webapi drives it with server nonces off and on (DPOP_NONCES), openid-client v6 once.
 */

const PASSWORD = 'correct horse battery staple'
const insecure = { [oauth.allowInsecureRequests]: true } as const

/** oauth4webapi leaves the nonce retry to the caller (its DPoP handle keeps the nonce the server sent): once. */
async function withNonceRetry<T> (attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt()
  } catch (err) {
    if (oauth.isDPoPNonceError(err)) return await attempt()
    throw err
  }
}

async function signInAndAllow (page: Page, url: string, callback: string): Promise<URL> {
  await page.goto(url)
  const username = page.getByLabel('Username')
  const allow = page.getByRole('button', { name: 'Allow' })
  await Promise.race([username.waitFor(), allow.waitFor()])
  if (await username.isVisible()) {
    await username.fill('alice')
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await allow.waitFor()
  }
  await Promise.all([page.waitForURL((u) => u.href.startsWith(callback)), allow.click()])
  return new URL(page.url())
}

/** Another service with the resource-server plugin: Gatehouse's own audience, DPoP proofs naming its public URL. */
async function ordersService (t: Test, issuer: string) {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const rs = Fastify({ logger: false })
  t.teardown(() => rs.close())
  const plugin = (await import('@gatehouse/server/resource-server') as typeof import('../../resource-server/index.js')).default
  await rs.register(plugin, { issuer, audience: issuer, publicUrl: base })
  rs.get('/orders', { onRequest: [rs.authenticate, rs.requireScope('orders:read')] }, async (request) => ({ sub: request.user.sub, jkt: request.user.cnf?.jkt ?? null }))
  await rs.listen({ port, host: '127.0.0.1' })
  return base
}

for (const nonces of ['off', 'on'] as const) {
  t.test(`oauth4webapi: private_key_jwt, PAR and DPoP through Chromium (DPOP_NONCES=${nonces})`, async (t) => {
    const { app, url: issuer } = await buildListening(t, { DPOP_NONCES: nonces })
    const alice = await addUser(app, 'alice', PASSWORD, { scope: 'orders:read' })
    const callback = await appCallbackUrl(t)
    const key = await clientKey('ES256')
    await createClient(app.storage, 'bank', {
      isPublic: false,
      grantTypes: ['authorization_code', 'refresh_token'],
      scope: null,
      redirectUris: [callback],
      jwks: jwksOf(key),
      dpopBoundAccessTokens: true,
      requirePar: true
    })
    const orders = await ordersService(t, issuer)
    const { page, problems } = await openBrowser(t)

    const as = await oauth.processDiscoveryResponse(new URL(issuer), await oauth.discoveryRequest(new URL(issuer), { ...insecure, algorithm: 'oidc' }))
    t.equal(as.pushed_authorization_request_endpoint, `${issuer}/par`)
    t.ok(as.dpop_signing_alg_values_supported?.includes('ES256'))
    t.ok(as.token_endpoint_auth_methods_supported?.includes('private_key_jwt'))

    const client: oauth.Client = { client_id: 'bank' }
    const auth = oauth.PrivateKeyJwt({ key: key.privateKey, kid: key.kid })
    const dpopKeys = await oauth.generateKeyPair('ES256')
    const jkt = await calculateJwkThumbprint(await exportJWK(dpopKeys.publicKey))
    const DPoP = oauth.DPoP(client, dpopKeys)

    // A plain request from this client is refused: it must push (--require-par).
    await page.goto(`${issuer}/authorize?client_id=bank&response_type=code&redirect_uri=${encodeURIComponent(callback)}&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&state=s0`)
    await page.waitForURL((u) => u.href.startsWith(callback))
    t.equal(new URL(page.url()).searchParams.get('error'), 'invalid_request', 'a plain /authorize is refused back to the client')

    const verifier = oauth.generateRandomCodeVerifier()
    const state = oauth.generateRandomState()
    const nonce = oauth.generateRandomNonce()
    const pushed = await withNonceRetry(async () => oauth.processPushedAuthorizationResponse(as, client,
      await oauth.pushedAuthorizationRequest(as, client, auth, {
        redirect_uri: callback,
        response_type: 'code',
        scope: 'openid orders:read',
        state,
        nonce,
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256'
      }, { ...insecure, DPoP })))
    t.match(pushed.request_uri, /^urn:ietf:params:oauth:request_uri:/)

    const returned = await signInAndAllow(page, `${issuer}/authorize?client_id=bank&request_uri=${encodeURIComponent(pushed.request_uri)}`, callback)
    const params = oauth.validateAuthResponse(as, client, returned, state)

    // The code is bound to the key of the push's proof (RFC 9449 §10.1): another key cannot redeem it.
    const thief = oauth.DPoP(client, await oauth.generateKeyPair('ES256'))
    const stolen = await withNonceRetry(async () => oauth.processAuthorizationCodeResponse(as, client,
      await oauth.authorizationCodeGrantRequest(as, client, auth, params, callback, verifier, { ...insecure, DPoP: thief }))).catch((err: unknown) => err)
    t.match(stolen, { error: 'invalid_dpop_proof' }, 'the code with another DPoP key: refused')

    const tokens = await withNonceRetry(async () => oauth.processAuthorizationCodeResponse(as, client,
      await oauth.authorizationCodeGrantRequest(as, client, auth, params, callback, verifier, { ...insecure, DPoP }), { expectedNonce: nonce, requireIdToken: true }))
    t.equal(tokens.token_type, 'dpop')
    t.same(decodeJwt(tokens.access_token).cnf, { jkt }, 'the access token is bound to the DPoP key')
    t.equal(oauth.getValidatedIdTokenClaims(tokens)?.sub, alice.id)

    const info = await withNonceRetry(async () => oauth.processUserInfoResponse(as, client, alice.id, await oauth.userInfoRequest(as, client, tokens.access_token, { ...insecure, DPoP })))
    t.equal(info.sub, alice.id, '/userinfo with the DPoP scheme and a proof')
    const me = await withNonceRetry(async () => {
      const res = await oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(`${issuer}/users/me`), undefined, undefined, { ...insecure, DPoP })
      if (res.status !== 200) throw new Error(`/users/me: ${res.status} ${res.headers.get('www-authenticate') ?? ''}`)
      return await res.json() as { username: string }
    })
    t.equal(me.username, 'alice', '/users/me with the DPoP scheme and a proof')
    const asBearer = await fetch(`${issuer}/users/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })
    t.equal(asBearer.status, 401, 'the bound token as a bearer token: refused')
    t.match(asBearer.headers.get('www-authenticate'), /^DPoP error="invalid_token"/)

    const served = await oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(`${orders}/orders`), undefined, undefined, { ...insecure, DPoP })
    t.equal(served.status, 200, 'the resource-server plugin of another service verifies the bound token and its proof')
    t.same(await served.json(), { sub: alice.id, jkt })
    const ordersAsBearer = await fetch(`${orders}/orders`, { headers: { authorization: `Bearer ${tokens.access_token}` } })
    t.equal(ordersAsBearer.status, 401, 'and refuses it as a bearer token')

    const seen = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, tokens.access_token, insecure))
    t.match(seen, { active: true, client_id: 'bank', cnf: { jkt } }, 'introspection (private_key_jwt) shows the binding')

    const refreshed = await withNonceRetry(async () => oauth.processRefreshTokenResponse(as, client,
      await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, { ...insecure, DPoP })))
    t.equal(refreshed.token_type, 'dpop', 'the refresh, with a proof, gives a bound token again')
    t.same(decodeJwt(refreshed.access_token).cnf, { jkt })
    const withoutProof = await oauth.processRefreshTokenResponse(as, client,
      await oauth.refreshTokenGrantRequest(as, client, auth, refreshed.refresh_token!, insecure)).catch((err: unknown) => err)
    t.match(withoutProof, { error: 'invalid_dpop_proof' }, 'this client must send a proof every time (--dpop)')
    t.same(problems, [], 'no page errors')
  })
}

t.test('openid-client v6: private_key_jwt, PAR and DPoP through Chromium', async (t) => {
  const { app, url: issuer } = await buildListening(t)
  const alice = await addUser(app, 'alice', PASSWORD, { scope: 'orders:read' })
  const callback = await appCallbackUrl(t)
  const key = await clientKey('PS256')
  await createClient(app.storage, 'portal', { isPublic: false, grantTypes: ['authorization_code', 'refresh_token'], scope: null, redirectUris: [callback], jwks: jwksOf(key), dpopBoundAccessTokens: true, requirePar: true })
  const { page, problems } = await openBrowser(t)

  const config = await oidc.discovery(new URL(issuer), 'portal', undefined, oidc.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }), { execute: [oidc.allowInsecureRequests] })
  const DPoP = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'))
  const verifier = oidc.randomPKCECodeVerifier()
  const state = oidc.randomState()
  const nonce = oidc.randomNonce()
  const authorizationUrl = await oidc.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: callback,
    scope: 'openid orders:read',
    state,
    nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256'
  }, { DPoP })
  t.match(authorizationUrl.searchParams.get('request_uri'), /^urn:ietf:params:oauth:request_uri:/, 'openid-client pushed the request')

  const returned = await signInAndAllow(page, authorizationUrl.href, callback)
  const tokens = await oidc.authorizationCodeGrant(config, returned, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true }, undefined, { DPoP })
  t.equal(tokens.token_type, 'dpop')
  t.equal(tokens.claims()?.sub, alice.id)
  t.type((decodeJwt(tokens.access_token).cnf as { jkt?: unknown } | undefined)?.jkt, 'string', 'bound to the DPoP key')
  const me = await oidc.fetchProtectedResource(config, tokens.access_token, new URL(`${issuer}/users/me`), 'GET', undefined, undefined, { DPoP })
  t.equal(me.status, 200)
  t.equal((await me.json() as { username: string }).username, 'alice')
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP })
  t.equal(refreshed.token_type, 'dpop', 'openid-client refreshes with its DPoP handle')
  t.same(problems, [])
})

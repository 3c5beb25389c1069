import t from 'tap'
import * as oauth from 'oauth4webapi'
import { decodeJwt } from 'jose'
import { addClient, addUser, buildListening } from '../support/helper.js'

/**
 * DPoP (RFC 9449) with a real, strict client library over HTTP: oauth4webapi's DPoP handle makes the proofs, keeps
 * the server's nonce and retries on use_dpop_nonce (isDPoPNonceError), with DPOP_NONCES off and on. The code flow
 * through Chromium and openid-client's getDPoPHandle are not here yet (docs/dpop.md shows the calls).
 */
for (const nonces of ['off', 'on']) {
  t.test(`oauth4webapi DPoP handle, DPOP_NONCES=${nonces}: client_credentials, then a bound public refresh`, async (t) => {
    const { app, url } = await buildListening(t, { DPOP_NONCES: nonces })
    await addUser(app, 'alice', 'alice-pw', { scope: 'read' })
    const svcSecret = (await addClient(app, 'svc', { grantTypes: ['client_credentials'], scope: 'read' }))!
    await addClient(app, 'app', { isPublic: true, grantTypes: ['password', 'refresh_token'] })
    const insecure = { [oauth.allowInsecureRequests]: true }
    const issuer = new URL(url)
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }))
    t.ok(as.dpop_signing_alg_values_supported?.includes('ES256'))

    /** A token request, retried once when the server asks for its nonce (the handle has kept it). */
    const withNonceRetry = async <T>(request: () => Promise<T>): Promise<{ result: T, retried: boolean }> => {
      try {
        return { result: await request(), retried: false }
      } catch (err) {
        if (!oauth.isDPoPNonceError(err)) throw err
        return { result: await request(), retried: true }
      }
    }

    const svc: oauth.Client = { client_id: 'svc' }
    const DPoP = oauth.DPoP(svc, await oauth.generateKeyPair('ES256'))
    const { result: tokens, retried } = await withNonceRetry(async () =>
      oauth.processClientCredentialsResponse(as, svc, await oauth.clientCredentialsGrantRequest(as, svc, oauth.ClientSecretBasic(svcSecret), { scope: 'read' }, { ...insecure, DPoP })))
    t.equal(tokens.token_type, 'dpop')
    t.equal(retried, nonces === 'on', nonces === 'on' ? 'use_dpop_nonce once, then a token' : 'no nonce asked for')
    t.type((decodeJwt(tokens.access_token).cnf as { jkt: string }).jkt, 'string')

    const publicApp: oauth.Client = { client_id: 'app' }
    const appDPoP = oauth.DPoP(publicApp, await oauth.generateKeyPair('ES256'))
    const { result: login } = await withNonceRetry(async () => oauth.processGenericTokenEndpointResponse(as, publicApp,
      await oauth.genericTokenEndpointRequest(as, publicApp, oauth.None(), 'password', { username: 'alice', password: 'alice-pw' }, { ...insecure, DPoP: appDPoP })))
    t.equal(login.token_type, 'dpop')
    const { result: refreshed } = await withNonceRetry(async () => oauth.processRefreshTokenResponse(as, publicApp,
      await oauth.refreshTokenGrantRequest(as, publicApp, oauth.None(), login.refresh_token!, { ...insecure, DPoP: appDPoP })))
    t.equal(refreshed.token_type, 'dpop', 'the bound refresh token, refreshed with its key')

    const thief = oauth.DPoP(publicApp, await oauth.generateKeyPair('ES256'))
    const stolen = await withNonceRetry(async () => oauth.processRefreshTokenResponse(as, publicApp,
      await oauth.refreshTokenGrantRequest(as, publicApp, oauth.None(), refreshed.refresh_token!, { ...insecure, DPoP: thief }))).catch((err: unknown) => err)
    t.match(stolen, { error: 'invalid_dpop_proof', status: 400 }, 'another key: refused')
  })
}

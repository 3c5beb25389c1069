import t from 'tap'
import * as oidc from 'openid-client'
import { appCallbackUrl, openBrowser, withoutChromium } from '../support/chromium.js'
import { addUser, buildListening } from '../support/helper.js'
import { addRegistrationToken } from '../../lib/admin/registration-tokens.js'

// RFC 7591 end to end with a real relying-party library: openid-client v6 registers itself at Gatehouse
// (dynamicClientRegistration: discovery, then POST /register), once as a confidential client with an initial access
// token (REGISTRATION=token) and once as a public one (open), then signs the person in through Chromium and gets
// tokens, verified by openid-client; the consent page shows the registered name as not verified.

const PASSWORD = 'correct horse battery staple'

t.test('openid-client registers dynamically (a confidential client with an initial access token), then the code flow in Chromium', { skip: withoutChromium }, async (t) => {
  const { app, url: issuer } = await buildListening(t, { REGISTRATION: 'token' })
  const alice = await addUser(app, 'alice', PASSWORD, { fullName: 'Alice Liddell' })
  const callback = await appCallbackUrl(t)
  const { page, problems } = await openBrowser(t, { expectedStatus: /^40[01]$/ })
  const metadata = { client_name: 'Reporting app', redirect_uris: [callback], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid profile' }

  const register = (initialAccessToken?: string) => oidc.dynamicClientRegistration(new URL(issuer), metadata, undefined, { execute: [oidc.allowInsecureRequests], ...(initialAccessToken ? { initialAccessToken } : {}) })
  const statusOf = (attempt: Promise<unknown>) => attempt.then(() => 'registered', (err: { status?: number }) => err.status)
  t.equal(await statusOf(register()), 401, 'REGISTRATION=token: without an initial access token, refused (401)')
  const { token } = await addRegistrationToken(app.storage, app.clock, { maxUses: 1 })
  const config = await register(token)
  const registered = config.clientMetadata()
  t.match(registered, { client_name: 'Reporting app', token_endpoint_auth_method: 'client_secret_basic', redirect_uris: [callback] }, 'openid-client holds the registered metadata')
  t.match(registered.client_secret, /\S{20,}/, 'and a client secret')
  t.match(registered.registration_access_token, /\S/, 'and the registration access token (RFC 7592)')
  t.equal(await statusOf(register(token)), 401, 'the initial access token allowed one registration')

  const verifier = oidc.randomPKCECodeVerifier()
  const state = oidc.randomState()
  const nonce = oidc.randomNonce()
  const authorizationUrl = oidc.buildAuthorizationUrl(config, { redirect_uri: callback, scope: 'openid profile', state, nonce, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' })
  await page.goto(authorizationUrl.href)
  await page.getByLabel('Username').fill('alice')
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.getByRole('button', { name: 'Allow' }).waitFor()
  const consent = await page.content()
  t.match(consent, /Reporting app/, 'the consent page names the registered client')
  t.match(consent, /Not verified/, 'marked as not verified')
  await Promise.all([page.waitForURL((u) => u.href.startsWith(callback)), page.getByRole('button', { name: 'Allow' }).click()])
  const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true })
  t.equal(tokens.claims()?.sub, alice.id, 'an ID token for alice, verified by openid-client (client_secret_basic with the registered secret)')
  const userInfo = await oidc.fetchUserInfo(config, tokens.access_token, alice.id)
  t.equal(userInfo.name, 'Alice Liddell', '/userinfo with the access token')

  // RFC 7592: the client reads and then deletes its own registration with its registration access token.
  const at = new URL(String(registered.registration_client_uri))
  const read = await fetch(at, { headers: { authorization: `Bearer ${String(registered.registration_access_token)}` } })
  t.equal(read.status, 200, 'it reads its registration')
  const removed = await fetch(at, { method: 'DELETE', headers: { authorization: `Bearer ${String(registered.registration_access_token)}` } })
  t.equal(removed.status, 204, 'and deletes it')
  const refused = await oidc.refreshTokenGrant(config, String(tokens.refresh_token)).then(() => 'refreshed', (err: { error?: string }) => err.error)
  t.equal(refused, 'invalid_client', 'a deleted registration gets no more tokens')
  t.same(problems, [], 'no console errors or CSP refusals')
})

t.test('openid-client registers a public client (REGISTRATION=open) and completes the code flow with PKCE', { skip: withoutChromium }, async (t) => {
  const { app, url: issuer } = await buildListening(t, { REGISTRATION: 'open' })
  const alice = await addUser(app, 'alice', PASSWORD)
  const callback = await appCallbackUrl(t)
  const { page } = await openBrowser(t)
  const config = await oidc.dynamicClientRegistration(new URL(issuer), { client_name: 'Desktop app', redirect_uris: [callback], token_endpoint_auth_method: 'none' }, oidc.None(), { execute: [oidc.allowInsecureRequests] })
  t.notOk(config.clientMetadata().client_secret, 'a public client gets no secret')
  const verifier = oidc.randomPKCECodeVerifier()
  const authorizationUrl = oidc.buildAuthorizationUrl(config, { redirect_uri: callback, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' })
  await page.goto(authorizationUrl.href)
  await page.getByLabel('Username').fill('alice')
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await Promise.all([page.waitForURL((u) => u.href.startsWith(callback)), page.getByRole('button', { name: 'Allow' }).click()])
  const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, idTokenExpected: true })
  t.equal(tokens.claims()?.sub, alice.id, 'tokens for alice')
})

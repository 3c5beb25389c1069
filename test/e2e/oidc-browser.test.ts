import t from 'tap'
import { SCREENSHOTS as SCREENSHOTS_ROOT } from '../support/paths.js'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { appCallbackUrl, openBrowser } from '../support/chromium.js'
import * as oidc from 'openid-client'
import * as oauth from 'oauth4webapi'
import { addClient, addUser, buildListening } from '../support/helper.js'

// The acceptance test of the browser flows: Debian's Chromium (playwright-core) signs in on the login page and
// allows the consent page; a real OpenID client library exchanges the code and checks state, iss (RFC 9207), the
// ID token and its nonce: openid-client v6 for a confidential client, oauth4webapi for a public one. /userinfo
// and /users/me then answer for the same sub. Screenshots go to screenshots/oidc/ (git-ignored).

const SCREENSHOTS = join(SCREENSHOTS_ROOT, 'oidc')
const PASSWORD = 'correct horse battery staple'

const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true })

t.before(() => { mkdirSync(SCREENSHOTS, { recursive: true }) })

t.test('openid-client (confidential) and oauth4webapi (public) through login and consent in Chromium', async (t) => {
  const { app, url: issuer } = await buildListening(t, { ISSUER_NAME: 'Example Corp' })
  const alice = await addUser(app, 'alice', PASSWORD, { fullName: 'Alice Liddell', email: 'alice@example.test', scope: 'items:read' })
  const rpCallback = await appCallbackUrl(t)
  const spaCallback = await appCallbackUrl(t)
  const secret = await addClient(app, 'rp', { grantTypes: ['authorization_code', 'refresh_token'], redirectUris: [rpCallback] }) as string
  await addClient(app, 'spa', { isPublic: true, grantTypes: ['authorization_code', 'refresh_token'], redirectUris: [spaCallback] })
  const { page, problems } = await openBrowser(t, { expectedStatus: /^40[01]$/ })

  // openid-client: discovery, PKCE, state, nonce.
  const config = await oidc.discovery(new URL(issuer), 'rp', secret, undefined, { execute: [oidc.allowInsecureRequests] })
  const verifier = oidc.randomPKCECodeVerifier()
  const state = oidc.randomState()
  const nonce = oidc.randomNonce()
  const authorizationUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: rpCallback,
    scope: 'openid profile email',
    state,
    nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256'
  })

  await page.goto(authorizationUrl.href)
  await page.getByLabel('Username').waitFor()
  t.equal(await page.title(), 'Sign in · Example Corp', 'the issuer\'s display name')
  await shot(page, 'login')
  await page.getByLabel('Username').fill('alice')
  await page.getByLabel('Password').fill('wrong password')
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.getByRole('alert').waitFor()
  t.match(await page.getByRole('alert').innerText(), /Invalid username or password/)
  await shot(page, 'login-failed')
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.getByRole('button', { name: 'Allow' }).waitFor()
  await shot(page, 'consent')
  await Promise.all([page.waitForURL((u) => u.href.startsWith(rpCallback)), page.getByRole('button', { name: 'Allow' }).click()])
  const callback = new URL(page.url())
  t.equal(callback.searchParams.get('iss'), issuer, 'RFC 9207 iss on the redirect')

  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true })
  const claims = tokens.claims()
  t.equal(claims?.sub, alice.id, 'the ID token names alice')
  t.equal(claims?.nonce, nonce)
  t.ok(tokens.refresh_token, 'a refresh token')
  const userInfo = await oidc.fetchUserInfo(config, tokens.access_token, alice.id)
  t.match(userInfo, { sub: alice.id, name: 'Alice Liddell', preferred_username: 'alice', email: 'alice@example.test' })
  const me = await fetch(`${issuer}/users/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })
  t.equal((await me.json() as { sub: string }).sub, alice.id, '/users/me: the same sub')
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token as string)
  t.ok(refreshed.access_token, 'refresh through openid-client')

  // oauth4webapi, a public client: the browser is signed in already, so only the consent page shows.
  const as = await oauth.processDiscoveryResponse(new URL(issuer), await oauth.discoveryRequest(new URL(issuer), { algorithm: 'oidc', [oauth.allowInsecureRequests]: true }))
  const client: oauth.Client = { client_id: 'spa' }
  const spaVerifier = oauth.generateRandomCodeVerifier()
  const spaState = oauth.generateRandomState()
  const spaNonce = oauth.generateRandomNonce()
  const spaUrl = new URL(as.authorization_endpoint as string)
  for (const [k, v] of Object.entries({
    client_id: 'spa',
    redirect_uri: spaCallback,
    response_type: 'code',
    scope: 'openid profile',
    state: spaState,
    nonce: spaNonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(spaVerifier),
    code_challenge_method: 'S256'
  })) spaUrl.searchParams.set(k, v)
  await page.goto(spaUrl.href)
  await page.getByRole('button', { name: 'Allow' }).waitFor()
  await Promise.all([page.waitForURL((u) => u.href.startsWith(spaCallback)), page.getByRole('button', { name: 'Allow' }).click()])
  const params = oauth.validateAuthResponse(as, client, new URL(page.url()), spaState)
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, spaCallback, spaVerifier, { [oauth.allowInsecureRequests]: true })
  const result = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: spaNonce, requireIdToken: true })
  t.equal(oauth.getValidatedIdTokenClaims(result)?.sub, alice.id, 'the public client\'s ID token names alice too')
  const spaInfo = await oauth.processUserInfoResponse(as, client, alice.id, await oauth.userInfoRequest(as, client, result.access_token, { [oauth.allowInsecureRequests]: true }))
  t.equal(spaInfo.sub, alice.id)

  // The error page: an unknown client is never redirected.
  const errorPage = await page.goto(`${issuer}/authorize?client_id=nobody&response_type=code&redirect_uri=https%3A%2F%2Fevil.test%2F`)
  t.equal(errorPage?.status(), 400)
  t.equal(new URL(page.url()).origin, issuer, 'no redirect')
  await shot(page, 'error')

  // Without an id_token_hint the user is asked first; the confirmation's form signs out.
  await page.goto(`${issuer}/logout`)
  await page.getByRole('button', { name: 'Sign out' }).waitFor()
  await shot(page, 'logout-confirm')
  await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Sign out' }).click()])
  await page.getByRole('heading', { name: 'You are signed out' }).waitFor()
  await shot(page, 'signed-out')
  t.same(problems, [], 'no page errors (CSP, scripts)')
})

t.test('the pages at 320 px wide', async (t) => {
  const { app, url: issuer } = await buildListening(t)
  await addClient(app, 'rp', { grantTypes: ['authorization_code'], redirectUris: ['https://app.test/cb'] })
  const { page, problems } = await openBrowser(t, { width: 320, expectedStatus: /^40[01]$/ })
  const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
  await page.goto(`${issuer}/authorize?client_id=rp&response_type=code&redirect_uri=${encodeURIComponent('https://app.test/cb')}&scope=openid&code_challenge=${challenge}&code_challenge_method=S256`)
  await page.getByLabel('Username').waitFor()
  const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')
  t.equal(overflow, 0, 'no horizontal scrolling at 320 px')
  await shot(page, 'login-320')
  t.same(problems, [])
})

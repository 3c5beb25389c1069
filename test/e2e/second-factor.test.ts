import t from 'tap'
import * as oidc from 'openid-client'
import { TOTP, URI } from 'otpauth'
import type { Page } from 'playwright-core'
import { appCallbackUrl, openBrowser, withoutChromium } from '../support/chromium.js'
import { addClient, addUser, buildListening } from '../support/helper.js'
import { ACR_MFA } from '../../lib/mfa/assurance.js'

// An authenticator app in Debian's Chromium on a real listen, on both stores: added on the account page (the secret
// read from the page, codes computed here with otpauth), then a sign-in through openid-client's authorization-code
// flow with the password and a code, then one with a recovery code.

const PASSWORD = 'correct horse battery staple'

t.test('an authenticator app: enrol on /account, sign in with password + code, then with a recovery code', { skip: withoutChromium }, async (t) => {
  const { app, url: issuer } = await buildListening(t, { ISSUER_NAME: 'Example Corp' })
  const alice = await addUser(app, 'alice', PASSWORD, { scope: 'items:read' })
  const callback = await appCallbackUrl(t)
  const secret = await addClient(app, 'rp', { grantTypes: ['authorization_code'], redirectUris: [callback] }) as string
  await app.storage.clients.update('rp', { skipConsent: true })
  const { page, problems } = await openBrowser(t, { expectedStatus: /^40[01]$/ })

  const signInWithPassword = async () => {
    await page.getByLabel('Username').fill('alice')
    await page.getByLabel('Password').fill(PASSWORD)
    await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Sign in', exact: true }).click()])
  }
  const signOut = async () => {
    await page.goto(`${issuer}/login`)
    await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Sign out' }).click()])
  }

  // Enrol on the account page.
  await page.goto(`${issuer}/account`)
  await signInWithPassword()
  t.equal(new URL(page.url()).pathname, '/account')
  await page.getByLabel('App name').fill('Test phone')
  await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Add an authenticator app' }).click()])
  t.ok(await page.getByRole('img', { name: /QR code/ }).isVisible(), 'the QR code is shown')
  const uri = await page.locator('[data-otpauth-uri]').getAttribute('data-otpauth-uri')
  const totp = URI.parse(uri!) as TOTP
  t.ok(totp instanceof TOTP)
  t.equal(totp.issuer, 'Example Corp')
  t.equal((await page.locator('#totp-secret').innerText()).replace(/\s/g, ''), totp.secret.base32, 'the key as text is the URI\'s')
  await page.getByLabel('The code the app shows now').fill(totp.generate())
  await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Confirm and turn it on' }).click()])
  const recoveryCodes = await page.locator('[data-recovery-code]').evaluateAll((els) => els.map((e) => e.getAttribute('data-recovery-code')!))
  t.equal(recoveryCodes.length, 10, 'ten recovery codes, shown once')
  t.match(await page.getByText('Test phone').innerText(), /Test phone/)
  await signOut()

  // Sign in through openid-client: the password, then the next step's code (this step's was used to confirm).
  const config = await oidc.discovery(new URL(issuer), 'rp', secret, undefined, { execute: [oidc.allowInsecureRequests] })
  async function flow (secondFactor: (page: Page) => Promise<void>) {
    const verifier = oidc.randomPKCECodeVerifier()
    const state = oidc.randomState()
    const nonce = oidc.randomNonce()
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: callback, scope: 'openid', state, nonce, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' })
    await page.goto(url.href)
    await signInWithPassword()
    t.equal(new URL(page.url()).pathname, '/login/factor', 'the second-factor page after the password')
    await page.getByLabel('Code from your authenticator app, or a recovery code').fill('000000')
    await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Continue' }).click()])
    t.match(await page.getByRole('alert').innerText(), /not right/, 'a wrong code first')
    await secondFactor(page)
    await page.waitForURL((u) => u.href.startsWith(callback))
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true })
    const claims = tokens.claims()!
    t.equal(claims.sub, alice.id)
    // What openid-client verified and read from the ID token: both factors (RFC 8176), and the class they make.
    t.same(claims.amr, ['pwd', 'otp', 'mfa'], 'amr: the password, a one-time code, two factors')
    t.equal(claims.acr, ACR_MFA, 'acr: two factors')
    const sessions = await app.storage.sessions.listForUser(alice.id, app.clock.now())
    t.same(sessions.map((s) => s.amr), [['pwd', 'otp', 'mfa']], 'the session used two factors')
  }
  await flow(async (page) => {
    await page.getByLabel('Code from your authenticator app, or a recovery code').fill(totp.generate({ timestamp: Date.now() + 30_000 }))
    await page.getByRole('button', { name: 'Continue' }).click()
  })
  await page.goto(`${issuer}/account`)
  t.equal(new URL(page.url()).pathname, '/account', 'signed in: the account page')
  await signOut()

  // Again, with a recovery code (as typed from paper: upper case, a space).
  await flow(async (page) => {
    await page.getByLabel('Code from your authenticator app, or a recovery code').fill(recoveryCodes[0]!.toUpperCase().replace('-', ' '))
    await page.getByRole('button', { name: 'Continue' }).click()
  })
  t.equal(await app.storage.factors.recoveryCodesLeft(alice.id), 9, 'that recovery code is used')
  t.same(problems, [], 'no CSP refusal or script error on any page')
})

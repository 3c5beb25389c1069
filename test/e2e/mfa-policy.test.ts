import t, { type Test } from 'tap'
import * as oidc from 'openid-client'
import { TOTP, URI } from 'otpauth'
import type { Page } from 'playwright-core'
import { appCallbackUrl, openBrowser, withoutChromium } from '../support/chromium.js'
import { addClient, addUser, buildListening } from '../support/helper.js'
import { addTotp } from '../support/factors.js'
import { ACR_MFA, ACR_PWD } from '../../lib/mfa/assurance.js'
import { totpCode, totpStep } from '../../lib/mfa/totp.js'

// Requiring a second factor, in Debian's Chromium on a real listen, on both stores, each ID token read by
// openid-client: MFA=required enrols a user who has none at their first sign-in; a client added with --require-mfa
// steps up a session that used only a password; acr_values=urn:gatehouse:acr:mfa does either, per request.

const PASSWORD = 'correct horse battery staple'

async function setUp (t: Test, env: Record<string, string> = {}) {
  const { app, url: issuer } = await buildListening(t, env)
  const callback = await appCallbackUrl(t)
  const clients: Record<string, oidc.Configuration> = {}
  for (const [id, requireMfa] of [['plain', false], ['strict', true]] as const) {
    const secret = await addClient(app, id, { grantTypes: ['authorization_code'], redirectUris: [callback] }) as string
    await app.storage.clients.update(id, { skipConsent: true, requireMfa })
    clients[id] = await oidc.discovery(new URL(issuer), id, secret, undefined, { execute: [oidc.allowInsecureRequests] })
  }
  const { page, problems } = await openBrowser(t, { expectedStatus: /^40[01]$/ })
  /** An authorization request by `client` (with `acrValues` if given): `steps` drive the pages; the ID token's claims. */
  const signIn = async (client: 'plain' | 'strict', steps: (page: Page) => Promise<void>, acrValues?: string) => {
    const verifier = oidc.randomPKCECodeVerifier()
    const state = oidc.randomState()
    const nonce = oidc.randomNonce()
    const url = oidc.buildAuthorizationUrl(clients[client]!, {
      redirect_uri: callback,
      scope: 'openid',
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...(acrValues === undefined ? {} : { acr_values: acrValues })
    })
    await page.goto(url.href)
    await steps(page)
    await page.waitForURL((u) => u.href.startsWith(callback))
    const tokens = await oidc.authorizationCodeGrant(clients[client]!, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true })
    return tokens.claims()!
  }
  const password = async (page: Page, username: string) => {
    await page.getByLabel('Username').fill(username)
    await page.getByLabel('Password').fill(PASSWORD)
    await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Sign in', exact: true }).click()])
  }
  /** /login/enroll: set up an app, read its secret from the page, confirm, save the codes, continue; the app. */
  const enrol = async (page: Page): Promise<TOTP> => {
    t.equal(new URL(page.url()).pathname, '/login/enroll', 'sent to add a second factor')
    await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Set up an authenticator app' }).click()])
    const totp = URI.parse((await page.locator('[data-otpauth-uri]').getAttribute('data-otpauth-uri'))!) as TOTP
    await page.getByLabel('The code the app shows now').fill(totp.generate())
    await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Confirm and turn it on' }).click()])
    t.equal(await page.locator('[data-recovery-code]').count(), 10, 'ten recovery codes shown once')
    await page.getByRole('link', { name: 'I have saved them: continue' }).click()
    return totp
  }
  return { app, page, problems, signIn, password, enrol }
}

t.test('MFA=required: a user without a second factor enrols at the first sign-in, and the client gets acr mfa', { skip: withoutChromium }, async (t) => {
  const { app, problems, signIn, password, enrol } = await setUp(t, { MFA: 'required' })
  const bob = await addUser(app, 'bob', PASSWORD)
  const claims = await signIn('plain', async (page) => {
    await password(page, 'bob')
    await enrol(page)
  })
  t.equal(claims.sub, bob.id)
  t.same(claims.amr, ['pwd', 'otp', 'mfa'])
  t.equal(claims.acr, ACR_MFA)
  t.equal(await app.storage.factors.countConfirmed(bob.id), 1, 'the app counts from now on')
  t.same(problems, [], 'no CSP refusal or script error on any page')
})

t.test('--require-mfa steps up a password-only session; acr_values asks per request (enrolment for a user with none)', { skip: withoutChromium }, async (t) => {
  const { app, problems, signIn, password, enrol } = await setUp(t)
  const alice = await addUser(app, 'alice', PASSWORD)
  // A password-only session at the plain client: one factor, said so.
  const first = await signIn('plain', (page) => password(page, 'alice'))
  t.same(first.amr, ['pwd'])
  t.equal(first.acr, ACR_PWD)
  // Alice adds an authenticator app elsewhere (another browser); this browser's session still used one factor.
  const { secret } = await addTotp(app, alice)
  const stepped = await signIn('strict', async (page) => {
    t.equal(new URL(page.url()).pathname, '/login/factor', 'the strict client: the factor asked, not the password')
    t.equal(await page.getByLabel('Password').count(), 0, 'no password field')
    await page.getByLabel('Code from your authenticator app, or a recovery code').fill(totpCode(secret, totpStep(app.clock.now())))
    await page.getByRole('button', { name: 'Continue' }).click()
  })
  t.same(stepped.amr, ['pwd', 'otp', 'mfa'], 'stepped up: both factors')
  t.equal(stepped.acr, ACR_MFA)
  t.ok(Number(stepped.auth_time) >= Number(first.auth_time), 'auth_time of the step-up')
  // The session now has two factors: the strict client passes straight through, and so does acr_values.
  const again = await signIn('strict', async () => {})
  t.equal(again.acr, ACR_MFA, 'no second ask')

  // acr_values at the plain client, for carol who has no factor: enrolment in the flow.
  await app.storage.sessions.deleteForUser(alice.id)
  const carol = await addUser(app, 'carol', PASSWORD)
  const plain = await signIn('plain', (page) => password(page, 'carol'))
  t.equal(plain.acr, ACR_PWD, 'no acr_values: one factor is enough')
  const asked = await signIn('plain', async (page) => { await enrol(page) }, ACR_MFA)
  t.equal(asked.sub, carol.id)
  t.same(asked.amr, ['pwd', 'otp', 'mfa'])
  t.equal(asked.acr, ACR_MFA)
  t.same(problems, [], 'no CSP refusal or script error on any page')
})

import t from 'tap'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import * as oidc from 'openid-client'
import { appCallbackUrl, launchChromium, withoutChromium } from '../support/chromium.js'
import { addClient, addUser, buildListening } from '../support/helper.js'
import { SCREENSHOTS as SCREENSHOTS_ROOT } from '../support/paths.js'
import { NEW_PASSWORD, resetPath } from '../support/password-reset.js'
import { startSmtp } from '../support/smtp.js'

// A forgotten password end to end: Chromium on a real listen, the message read at a real SMTP server, and
// openid-client as the app. One browser context signs in at the app (a refresh token); another goes from the login
// page through "Forgot your password?" to the mailed link and a new password, and signs in with it. The first
// context's session and refresh token are then refused. Screenshots go to screenshots/password-reset/ (git-ignored).

const SCREENSHOTS = join(SCREENSHOTS_ROOT, 'password-reset')
const PASSWORD = 'correct horse battery staple'
const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true })

t.before(() => { mkdirSync(SCREENSHOTS, { recursive: true }) })

t.test('forgot → mailed link → new password → sign in; the old session and refresh token are refused', { skip: withoutChromium }, async (t) => {
  const smtp = await startSmtp(t)
  const { app, url: issuer } = await buildListening(t, { SMTP_URL: smtp.url })
  await addUser(app, 'alice', PASSWORD, { email: 'alice@example.test', scope: 'items:read' })
  const callback = await appCallbackUrl(t)
  const secret = await addClient(app, 'rp', { grantTypes: ['authorization_code', 'refresh_token'], redirectUris: [callback] }) as string
  await app.storage.clients.update('rp', { skipConsent: true })
  const config = await oidc.discovery(new URL(issuer), 'rp', secret, undefined, { execute: [oidc.allowInsecureRequests] })
  const browser = await launchChromium(t)

  /** Starts an authorization request in `page`; `finish` exchanges the code the app got back. */
  const authorize = async (page: Page) => {
    const verifier = oidc.randomPKCECodeVerifier()
    const state = oidc.randomState()
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: callback, scope: 'openid', state, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' })
    await page.goto(url.href)
    return {
      finish: async () => {
        await page.waitForURL((u) => u.href.startsWith(callback))
        return oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state })
      }
    }
  }
  const signIn = async (page: Page, password: string) => {
    await page.getByLabel('Username').fill('alice')
    await page.getByLabel('Password').fill(password)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  }

  // The first device: signed in at the app, with a refresh token.
  const first = await browser.newContext()
  const firstPage = await first.newPage()
  const firstRequest = await authorize(firstPage)
  await signIn(firstPage, PASSWORD)
  const firstTokens = await firstRequest.finish()
  t.ok(firstTokens.refresh_token, 'the app holds a refresh token')

  // Another device: the login page, "Forgot your password?", the e-mail.
  const second = await browser.newContext()
  const page = await second.newPage()
  const secondRequest = await authorize(page)
  await page.getByRole('link', { name: 'Forgot your password?' }).click()
  await page.getByLabel('E-mail address').fill('alice@example.test')
  await shot(page, 'forgot')
  await page.getByRole('button', { name: 'Send the link' }).click()
  await page.getByRole('heading', { name: 'Check your e-mail' }).waitFor()
  t.match(await page.getByRole('status').innerText(), /If an account uses this address, we sent it a link/)
  await shot(page, 'sent')

  const [message] = await smtp.waitFor(1)
  t.equal(message!.to && 'value' in message!.to ? message!.to.value[0]!.address : '', 'alice@example.test')
  await page.goto(issuer + resetPath(issuer, message!))
  await page.getByLabel('New password').fill('password123')
  await page.getByLabel('The same password again').fill('password123')
  await page.getByRole('button', { name: 'Set the new password' }).click()
  t.match(await page.getByRole('alert').innerText(), /too common/, 'a breached password is refused')
  await shot(page, 'refused')
  await page.getByLabel('New password').fill(NEW_PASSWORD)
  await page.getByLabel('The same password again').fill(NEW_PASSWORD)
  await page.getByRole('button', { name: 'Set the new password' }).click()
  await page.getByRole('heading', { name: 'Your password was changed' }).waitFor()
  await shot(page, 'changed')

  // On to the app's pending request through the login page, with the new password.
  await page.getByRole('link', { name: 'Sign in and continue' }).click()
  await signIn(page, NEW_PASSWORD)
  const secondTokens = await secondRequest.finish()
  t.ok(secondTokens.access_token, 'signed in with the new password, back at the app')

  // The first device: its refresh token and its session are gone.
  const refused = await oidc.refreshTokenGrant(config, firstTokens.refresh_token!).then(() => undefined, (err: { error?: string }) => err.error)
  t.equal(refused, 'invalid_grant', 'the old refresh token is refused')
  await firstPage.goto(`${issuer}/login`)
  await firstPage.getByLabel('Username').waitFor()
  t.notOk(await firstPage.getByText('You are signed in').isVisible(), 'the first device\'s session ended')
})

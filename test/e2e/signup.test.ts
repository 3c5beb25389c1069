import t from 'tap'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import * as oidc from 'openid-client'
import { SCREENSHOTS as SCREENSHOTS_ROOT } from '../support/paths.js'
import { appCallbackUrl, openBrowser } from '../support/chromium.js'
import { addClient, buildListening } from '../support/helper.js'
import { startSmtp } from '../support/smtp.js'

// Sign-up end to end: Debian's Chromium on a phone-sized page (390 px), driven by the keyboard, from a client's
// /authorize through "Create an account", the form, "check your e-mail", the message read at a real SMTP server,
// its link opened in the same page and its button, back to the client; openid-client exchanges the code and the
// ID token says the e-mail is verified. Screenshots go to screenshots/signup/ (git-ignored).

const SCREENSHOTS = join(SCREENSHOTS_ROOT, 'signup')
const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true })
const overflow = (page: Page) => page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')

t.before(() => { mkdirSync(SCREENSHOTS, { recursive: true }) })

t.test('from /authorize through sign-up and the mailed link back to the client, email_verified true', async (t) => {
  const smtp = await startSmtp(t)
  const { app, url: issuer } = await buildListening(t, { SIGNUP: 'open', SMTP_URL: smtp.url })
  const callbackUrl = await appCallbackUrl(t)
  const secret = await addClient(app, 'rp', { grantTypes: ['authorization_code'], redirectUris: [callbackUrl] }) as string
  await app.storage.clients.update('rp', { skipConsent: true })
  const { page, problems } = await openBrowser(t, { width: 390, height: 844, expectedStatus: /^400$/ })

  const config = await oidc.discovery(new URL(issuer), 'rp', secret, undefined, { execute: [oidc.allowInsecureRequests] })
  const verifier = oidc.randomPKCECodeVerifier()
  const state = oidc.randomState()
  const nonce = oidc.randomNonce()
  const authorizationUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: callbackUrl,
    scope: 'openid email profile',
    state,
    nonce,
    claims: JSON.stringify({ id_token: { email: null, email_verified: null } }),
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256'
  })

  await page.goto(authorizationUrl.href)
  await page.getByRole('link', { name: 'Create an account' }).click()
  await page.getByRole('heading', { name: 'Create an account' }).waitFor()
  t.equal(await overflow(page), 0, 'no horizontal scrolling at 390 px')
  await shot(page, 'form')
  // The keyboard alone: the username has the focus; Tab goes through the fields in order; Enter submits.
  await page.keyboard.type('Dora')
  await page.keyboard.press('Tab')
  await page.keyboard.type('dora@example.test')
  await page.keyboard.press('Tab')
  await page.keyboard.type('Dora Explorer')
  await page.keyboard.press('Tab')
  await page.keyboard.type('password1')
  await page.keyboard.press('Enter')
  await page.getByRole('alert').waitFor()
  t.match(await page.getByRole('alert').innerText(), /too common/)
  await shot(page, 'form-weak-password')
  await page.getByLabel('Password', { exact: true }).fill('a long enough passphrase')
  await page.keyboard.press('Enter')
  await page.getByRole('heading', { name: 'Check your e-mail' }).waitFor()
  await shot(page, 'check-your-email')

  const [message] = await smtp.waitFor(1)
  t.equal(message!.subject, 'Confirm your e-mail to finish creating your account at Gatehouse')
  const link = new RegExp(`${issuer}/verify-email\\?token=[A-Za-z0-9_-]{43}`).exec(message!.text ?? '')?.[0]
  t.ok(link, 'the link, built from ISSUER, whole in the text part')
  t.equal(await app.storage.users.findByUsername('dora'), undefined, 'no account before the link')

  await page.goto(link!)
  await page.getByRole('heading', { name: 'Finish creating your account dora' }).waitFor()
  t.equal(await app.storage.users.findByUsername('dora'), undefined, 'opening the link makes nothing')
  await shot(page, 'confirm')
  await Promise.all([page.waitForURL((u) => u.href.startsWith(callbackUrl)), page.getByRole('button', { name: 'Create my account' }).click()])

  const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true })
  const dora = await app.storage.users.findByUsername('dora')
  t.match(tokens.claims(), { sub: dora!.id, email: 'dora@example.test', email_verified: true, nonce })
  const userInfo = await oidc.fetchUserInfo(config, tokens.access_token, dora!.id)
  t.match(userInfo, { sub: dora!.id, preferred_username: 'dora', name: 'Dora Explorer', email: 'dora@example.test', email_verified: true })

  await page.goto(link!)
  await page.getByRole('heading', { name: 'This request cannot continue' }).waitFor()
  t.match(await page.getByRole('alert').innerText(), /This link does not work/, 'the link works once')
  t.same(problems, [], 'no page errors (CSP, scripts)')
})

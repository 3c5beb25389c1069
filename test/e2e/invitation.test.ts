import t from 'tap'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import * as oidc from 'openid-client'
import { SCREENSHOTS as SCREENSHOTS_ROOT } from '../support/paths.js'
import { appCallbackUrl, openBrowser } from '../support/chromium.js'
import { addClient, addUser, buildListening } from '../support/helper.js'
import { startSmtp } from '../support/smtp.js'

// An invitation end to end, with SIGNUP off: the admin API invites an address; the message is read at a real SMTP
// server; Chromium (390 px wide, keyboard only) opens its link and fills the form; the new user is signed in. Then a
// fresh browser signs in through a client's /authorize with the chosen password, and openid-client checks the ID
// token: the invited address, verified. Screenshots go to screenshots/invitation/ (git-ignored).

const SCREENSHOTS = join(SCREENSHOTS_ROOT, 'invitation')
const CHOSEN = 'a long enough passphrase'
const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true })

t.before(() => { mkdirSync(SCREENSHOTS, { recursive: true }) })

t.test('invited by the admin API, the account made in Chromium from the mailed link, then signed in through a client', async (t) => {
  const smtp = await startSmtp(t)
  const { app, url: issuer } = await buildListening(t, { SMTP_URL: smtp.url, SIGNUP: 'off' })
  await addUser(app, 'root', 'root-password-1', { scope: 'admin' })
  const callback = await appCallbackUrl(t)
  const secret = await addClient(app, 'rp', { grantTypes: ['authorization_code'], redirectUris: [callback] }) as string
  await app.storage.clients.update('rp', { skipConsent: true })

  const adminToken = await fetch(`${issuer}/token`, { method: 'POST', body: new URLSearchParams({ username: 'root', password: 'root-password-1', scope: 'admin' }) })
  const { access_token: admin } = await adminToken.json() as { access_token: string }
  const invited = await fetch(`${issuer}/admin/invitations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'bob@example.test', scope: 'items:read' })
  })
  t.equal(invited.status, 201)

  await app.mail.run()
  const [message] = await smtp.waitFor(1)
  const link = new RegExp(`${issuer}/invitation\\?token=[A-Za-z0-9_-]{43}`).exec(message!.text ?? '')?.[0]
  t.ok(link, 'the link, whole, in the text part')

  const { page, problems } = await openBrowser(t, { width: 390, height: 844 })
  await page.goto(link!)
  await page.getByRole('heading', { name: 'Create your account' }).waitFor()
  t.match(await page.locator('#invited-email').innerText(), 'bob@example.test')
  t.equal(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'), 0, 'no horizontal scrolling at 390 px')
  await shot(page, 'form-390')
  // Keyboard only: the username has the focus; Tab moves through the fields in order; Enter submits.
  t.equal(await page.evaluate('document.activeElement.name'), 'username', 'the username field has the focus')
  await page.keyboard.type('bob')
  for (const [name, text] of [['full_name', 'Bob Builder'], ['password', CHOSEN], ['password_confirmation', CHOSEN]]) {
    await page.keyboard.press('Tab')
    t.equal(await page.evaluate('document.activeElement.name'), name, `Tab reaches ${name}`)
    await page.keyboard.type(text!)
  }
  await Promise.all([page.waitForURL(`${issuer}/login`), page.keyboard.press('Enter')])
  t.match(await page.locator('main').innerText(), /bob/, 'signed in as bob')
  await shot(page, 'signed-in')

  const bob = await app.storage.users.findByUsername('bob')
  t.match(bob, { email: 'bob@example.test', emailVerified: true, scope: 'items:read', fullName: 'Bob Builder' })

  // A fresh browser: the client's /authorize shows the login page; the chosen password signs in.
  const config = await oidc.discovery(new URL(issuer), 'rp', secret, undefined, { execute: [oidc.allowInsecureRequests] })
  const verifier = oidc.randomPKCECodeVerifier()
  const state = oidc.randomState()
  const nonce = oidc.randomNonce()
  const authorizationUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: callback,
    scope: 'openid email',
    state,
    nonce,
    claims: JSON.stringify({ id_token: { email: null, email_verified: null } }),
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256'
  })
  const other = await openBrowser(t)
  await other.page.goto(authorizationUrl.href)
  await other.page.getByLabel('Username').fill('bob')
  await other.page.getByLabel('Password').fill(CHOSEN)
  await Promise.all([other.page.waitForURL((u) => u.href.startsWith(callback)), other.page.getByRole('button', { name: 'Sign in', exact: true }).click()])
  const tokens = await oidc.authorizationCodeGrant(config, new URL(other.page.url()), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true })
  t.match(tokens.claims(), { sub: bob!.id, email: 'bob@example.test', email_verified: true }, 'the ID token: the invited address, verified')

  // The same link a second time: the error page.
  const again = await page.goto(link!)
  t.equal(again?.status(), 400)
  t.same(problems.filter((p) => !/status of 400/.test(p)), [], 'no page errors (CSP, scripts)')
  t.same(other.problems, [])
})

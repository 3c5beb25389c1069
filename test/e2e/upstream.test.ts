import { SCREENSHOTS as SCREENSHOTS_ROOT } from '../support/paths.js'
import t, { type Test } from 'tap'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { appCallbackUrl, launchChromium } from '../support/chromium.js'
import * as oidc from 'openid-client'
import { addClient, addUser, buildListening } from '../support/helper.js'
import { startUpstreamOp, type UpstreamOp } from '../support/upstream/op.js'
import { addOidcProvider, callbackUrl } from '../support/upstream/flow.js'

// Issue 14's acceptance test: Debian's Chromium (playwright-core) signs in at Gatehouse through an upstream
// OpenID provider. A client app (openid-client v6) sends the browser to Gatehouse's /authorize; the login page
// offers "Continue with Corp SSO"; the upstream (node-oidc-provider, test/support/upstream/op.ts) shows its own login and
// consent pages; back at Gatehouse the consent page; then the code goes to the app, which exchanges it and asks
// /users/me who signed in. Every server is a real listen() on loopback. Screenshots: screenshots/upstream/
// (git-ignored).

const SCREENSHOTS = join(SCREENSHOTS_ROOT, 'upstream')
const DISPLAY = 'Corp SSO'

t.before(() => { mkdirSync(SCREENSHOTS, { recursive: true }) })

const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true })

/** Gatehouse listening, the upstream OP with a client for it, the app `rp`, and openid-client configured for Gatehouse. */
async function world (t: Test, opOptions: Partial<Parameters<typeof startUpstreamOp>[0]> = {}) {
  const { app, url: issuer } = await buildListening(t, { ISSUER_NAME: 'Example Corp' })
  const op = await startUpstreamOp({ redirectUris: [callbackUrl('corp', issuer), callbackUrl('nolink', issuer)], ...opOptions })
  t.teardown(() => op.close())
  const rpCallback = await appCallbackUrl(t)
  const secret = await addClient(app, 'rp', { grantTypes: ['authorization_code'], redirectUris: [rpCallback] }) as string
  const config = await oidc.discovery(new URL(issuer), 'rp', secret, undefined, { execute: [oidc.allowInsecureRequests] })
  return { app, issuer, op, rpCallback, config }
}

/**
 * One sign-in in a fresh browser context: the app's authorization URL → Gatehouse's login page → "Continue with
 * Corp SSO" (provider `name`) → the OP's login (as `account`) and consent → Gatehouse's consent → the app.
 * Returns what /users/me says about the signed-in user. Screenshots under `prefix` when given.
 */
async function signIn (t: Test, browser: Browser, w: Awaited<ReturnType<typeof world>>, account: keyof UpstreamOp['accounts'], name = 'corp', prefix?: string) {
  const context = await browser.newContext({ viewport: { width: 1024, height: 760 } })
  const page = await context.newPage()
  const problems: string[] = []
  // Only Gatehouse's pages count: node-oidc-provider's dev pages load a web font the sandbox cannot resolve.
  const ours = () => page.url().startsWith(new URL(w.issuer).origin)
  page.on('pageerror', (err) => { if (ours()) problems.push(err.message) })
  page.on('console', (m) => { if (ours() && m.type() === 'error' && !/status of 40[0-4]/.test(m.text())) problems.push(m.text()) })
  try {
    const verifier = oidc.randomPKCECodeVerifier()
    const state = oidc.randomState()
    const nonce = oidc.randomNonce()
    const url = oidc.buildAuthorizationUrl(w.config, { redirect_uri: w.rpCallback, scope: 'openid profile email', state, nonce, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' })
    await page.goto(url.href)
    const cont = page.getByRole('link', { name: new RegExp(`Continue with ${name === 'corp' ? DISPLAY : name}`) }).or(page.getByRole('button', { name: new RegExp(`Continue with ${name === 'corp' ? DISPLAY : name}`) }))
    await cont.waitFor()
    if (prefix) await shot(page, `${prefix}-1-gatehouse-login`)
    await cont.click()

    await page.locator('input[name="login"]').waitFor()
    t.ok(page.url().startsWith(w.op.issuer), 'at the upstream OP')
    if (prefix) await shot(page, `${prefix}-2-upstream-login`)
    await page.locator('input[name="login"]').fill(w.op.accounts[account]?.sub ?? '')
    await page.locator('input[name="password"]').fill('anything')
    await page.getByRole('button', { name: 'Sign-in' }).click()
    await page.getByRole('button', { name: 'Continue' }).waitFor()
    if (prefix) await shot(page, `${prefix}-3-upstream-consent`)
    await page.getByRole('button', { name: 'Continue' }).click()

    // Back at Gatehouse: its consent page, unless this user allowed this app these scopes before.
    const allow = page.getByRole('button', { name: 'Allow' })
    const atApp = (u: URL) => u.href.startsWith(w.rpCallback)
    await Promise.race([allow.waitFor().catch(() => {}), page.waitForURL(atApp).catch(() => {})])
    const consentShown = !page.url().startsWith(w.rpCallback)
    if (consentShown) {
      t.ok(page.url().startsWith(new URL(w.issuer).origin), 'back at Gatehouse: its consent page')
      if (prefix) await shot(page, `${prefix}-4-gatehouse-consent`)
      await Promise.all([page.waitForURL(atApp), allow.click()])
    }

    const tokens = await oidc.authorizationCodeGrant(w.config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true })
    const me = await (await fetch(`${w.issuer}/users/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).json() as { sub: string, username: string, full_name?: string | null, email?: string | null }
    t.equal(tokens.claims()?.sub, me.sub, 'the ID token and /users/me name the same local user')
    t.same(problems, [], 'no page errors on Gatehouse\'s pages')
    return { ...me, consentShown }
  } catch (err) {
    await shot(page, `${prefix ?? 'failure'}-failed`).catch(() => {})
    throw err
  } finally {
    await context.close()
  }
}

t.test('Chromium: app → Gatehouse → Continue with Corp SSO → upstream login and consent → Gatehouse consent → app; a second sign-in is the same user', async (t) => {
  const w = await world(t)
  await addOidcProvider(w.app, 'corp', w.op, { displayName: DISPLAY })
  const browser = await launchChromium(t)

  const me = await signIn(t, browser, w, 'verified', 'corp', 'first')
  t.equal(me.consentShown, true, 'a first sign-in asks for consent')
  const vera = w.op.accounts.verified
  t.match(me, { username: vera.preferred_username, full_name: vera.name, email: vera.email }, 'a new local user from the upstream claims')

  w.op.accounts.verified.name = 'Vera Renamed'
  const again = await signIn(t, browser, w, 'verified', 'corp')
  t.equal(again.sub, me.sub, 'the second sign-in is the same local user')
  t.equal(again.full_name, 'Vera Renamed', 'full_name refreshed from the provider')
  t.equal(again.consentShown, false, 'the consent given at the first sign-in is remembered for this user')

  // The error page in the browser: the provider's callback opened with a forged state.
  const context = await browser.newContext()
  const page = await context.newPage()
  const res = await page.goto(`${callbackUrl('corp', w.issuer)}?code=forged&state=forged&iss=${encodeURIComponent(w.op.issuer)}`)
  t.equal(res?.status(), 400, 'forged callback: the 400 page')
  t.equal(new URL(page.url()).origin, new URL(w.issuer).origin, 'no redirect')
  await shot(page, 'error-forged-state')
  await context.close()
})

t.test('Chromium: linking by e-mail only with --link-by-email and a verified e-mail', async (t) => {
  const w = await world(t)
  const valerie = await addUser(w.app, 'valerie', 'valerie-password', { email: w.op.accounts.verified.email, fullName: 'Valerie Local' })
  const umberto = await addUser(w.app, 'umberto', 'umberto-password', { email: w.op.accounts.unverified.email })
  await addOidcProvider(w.app, 'corp', w.op, { displayName: DISPLAY, linkByEmail: true })
  await addOidcProvider(w.app, 'nolink', w.op)
  const browser = await launchChromium(t)

  const unverified = await signIn(t, browser, w, 'unverified', 'corp', 'link-unverified')
  t.not(unverified.sub, umberto.id, '--link-by-email, unverified e-mail: not linked to umberto')
  t.notOk(unverified.email, 'an unverified e-mail is not stored')

  const linked = await signIn(t, browser, w, 'verified', 'corp', 'link-verified')
  t.equal(linked.sub, valerie.id, '--link-by-email, verified e-mail: valerie')
  t.equal(linked.username, 'valerie')

  // The same upstream account through a provider without the flag (its own identity key): not valerie.
  const withoutFlag = await signIn(t, browser, w, 'verified', 'nolink')
  t.not(withoutFlag.sub, valerie.id, 'without --link-by-email: not linked to valerie, even verified')
})

import t from 'tap'
import type { Browser, Page } from 'playwright-core'
import { appCallbackUrl, launchChromium, withoutChromium } from '../support/chromium.js'
import { addClient, addUser, buildListening } from '../support/helper.js'

// The account page in Debian's Chromium on a real listen: two browsers (contexts A and B) signed in at a client,
// each with a refresh token. In B the account page changes the password (A's session and refresh token end, B
// stays signed in), signs out the other sessions and revokes the app (its refresh token is refused). The page
// has no horizontal scroll at 390 px and every form control is reached with Tab.

const PASSWORD = 'correct horse battery staple'
const NEW_PASSWORD = 'a much longer passphrase of mine'

t.test('the account page in Chromium: password change, other sessions, an app revoked; 390 px; the keyboard', { skip: withoutChromium }, async (t) => {
  const { app, url: issuer } = await buildListening(t)
  await addUser(app, 'alice', PASSWORD, { fullName: 'Alice Liddell', email: 'alice@example.test', scope: 'items:read' })
  const callback = await appCallbackUrl(t)
  const secret = await addClient(app, 'rp', { grantTypes: ['authorization_code', 'refresh_token'], redirectUris: [callback] }) as string
  const basic = `Basic ${Buffer.from(`rp:${secret}`).toString('base64')}`
  const chromium: Browser = await launchChromium(t)
  const problems: string[] = []
  const open = async (): Promise<Page> => {
    const context = await chromium.newContext({ viewport: { width: 1024, height: 760 } })
    t.teardown(() => context.close())
    const page = await context.newPage()
    page.on('pageerror', (err) => problems.push(err.message))
    page.on('console', (m) => { if (m.type() === 'error' && !/status of 40[19]/.test(m.text()) && !m.location().url.endsWith('/favicon.ico')) problems.push(m.text()) })
    return page
  }

  const token = (fields: Record<string, string>) => fetch(`${issuer}/token`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) })
  const refresh = async (refreshToken: string) => (await token({ grant_type: 'refresh_token', refresh_token: refreshToken })).status

  /** Through the client's authorization request in `page` (signing in and allowing as needed); its refresh token. */
  async function signInAtClient (page: Page, password = PASSWORD): Promise<string> {
    const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
    const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
    await page.goto(`${issuer}/authorize?client_id=rp&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(callback)}&code_challenge=${challenge}&code_challenge_method=S256&state=s`)
    for (let step = 0; step < 3 && !page.url().startsWith(callback); step++) {
      if (await page.getByLabel('Password').isVisible()) {
        await page.getByLabel('Username').fill('alice')
        await page.getByLabel('Password').fill(password)
        await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Sign in', exact: true }).click()])
      } else if (await page.getByRole('button', { name: 'Allow' }).isVisible()) {
        await Promise.all([page.waitForURL((u) => u.href.startsWith(callback)), page.getByRole('button', { name: 'Allow' }).click()])
      }
      await page.waitForLoadState()
    }
    const code = new URL(page.url()).searchParams.get('code')
    if (!code) throw new Error(`no code at ${page.url()}`)
    const body = await (await token({ grant_type: 'authorization_code', code, redirect_uri: callback, code_verifier: verifier })).json() as { refresh_token: string }
    return body.refresh_token
  }

  const a = await open()
  const b = await open()
  const refreshA = await signInAtClient(a)
  await signInAtClient(b)

  // B changes the password.
  await b.goto(`${issuer}/account`)
  await b.getByLabel('Current password').fill(PASSWORD)
  await b.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD)
  await b.getByLabel('New password, again').fill(NEW_PASSWORD)
  await Promise.all([b.waitForURL(/done=password/), b.getByRole('button', { name: 'Change password' }).click()])
  t.match(await b.getByRole('status').innerText(), /Your password is changed/)
  await a.goto(`${issuer}/account`)
  t.match(new URL(a.url()).pathname, '/login', 'A\'s session is gone: the login page')
  t.equal(await refresh(refreshA), 400, 'A\'s refresh token is refused')
  await b.goto(`${issuer}/account`)
  t.equal(new URL(b.url()).pathname, '/account', 'B is still signed in')

  // A signs in again; B signs out the other sessions.
  const refreshA2 = await signInAtClient(a, NEW_PASSWORD)
  await b.goto(`${issuer}/account`)
  await Promise.all([b.waitForURL(/done=sessions/), b.getByRole('button', { name: 'Sign out the other sessions' }).click()])
  await a.goto(`${issuer}/account`)
  t.match(new URL(a.url()).pathname, '/login', 'A signed out again')

  // B revokes the app: every refresh token it holds for alice is refused.
  const refreshB = await signInAtClient(b, NEW_PASSWORD)
  t.equal(await refresh(refreshB), 200, '(B\'s refresh token works before)')
  await b.goto(`${issuer}/account`)
  await Promise.all([b.waitForURL(/done=app/), b.getByRole('button', { name: 'Revoke rp' }).click()])
  t.equal(await refresh(refreshA2), 400, 'the app\'s refresh tokens are refused')
  t.equal(new URL(b.url()).pathname, '/account')

  // 390 px: nothing wider than the screen (with a long e-mail pending, a long device name and the app list).
  await refresh(await signInAtClient(b, NEW_PASSWORD))
  await b.goto(`${issuer}/account`)
  await b.getByLabel('New e-mail address').fill(`a-very-long-address-${'x'.repeat(40)}@example.test`)
  await Promise.all([b.waitForURL(/done=email/), b.getByRole('button', { name: 'Send a confirmation link' }).click()])
  await b.setViewportSize({ width: 390, height: 844 })
  await b.goto(`${issuer}/account`)
  t.equal(await b.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'), 0, 'no horizontal scroll at 390 px')

  // The keyboard: Tab from the top reaches every form control of the page, in order, and nothing is skipped.
  const controls = await b.evaluate(`(() => {
    const all = [...document.querySelectorAll('form input:not([type=hidden]):not([hidden]), form button, form select, form textarea')]
    all.forEach((el, i) => el.setAttribute('data-tab', String(i)))
    return all.length
  })()`) as number
  t.ok(controls >= 8, `${controls} form controls`)
  const reached = new Set<string>()
  for (let i = 0; i < controls + 10; i++) {
    await b.keyboard.press('Tab')
    const at = await b.evaluate('document.activeElement && document.activeElement.getAttribute(\'data-tab\')') as string | null
    if (at !== null) reached.add(at)
  }
  t.equal(reached.size, controls, 'every form control is reached with Tab')
  t.same(problems, [], 'no page errors (CSP, scripts)')
})

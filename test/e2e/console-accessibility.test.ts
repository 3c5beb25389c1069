import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { Page } from 'playwright-core'
import { openBrowser, withoutChromium } from '../support/chromium.js'
import { addResource } from '../../lib/admin/resources.js'
import { createProvider } from '../../lib/admin/providers.js'
import { addClient, addUser, buildListening } from '../support/helper.js'
import { addTotp, codeNow } from '../support/factors.js'
import { checkAccessibility, describeFindings, focusRingContrast, focusRings } from '../support/accessibility.js'
import { DESKTOP, enterFactorCode, PHONE, sidewaysScroll, signInThroughLoginPage } from '../support/console.js'

// Issue 28's acceptance, in Debian's Chromium on a real listen, on both stores (test/postgres/list.ts): every console
// page, and the sign-in pages the console goes through, has no serious or critical axe-core finding (WCAG 2.0/2.1/2.2
// A and AA and axe's best practices, test/support/accessibility.ts) in the light and the dark colour scheme, at 1024
// and at 390 px (where it has no sideways scroll either); from the keyboard alone, Tab reaches the skip link first and
// then every link of the navigation, and each focus ring has at least 3:1 contrast against what is behind it.

const ROOT_PASSWORD = 'root password 1'
const SCHEMES = ['light', 'dark'] as const
const WIDTHS = [DESKTOP, PHONE] as const

/** What a page of the table may use to reach its page. */
interface Walk { t: Test, app: FastifyInstance, issuer: string, page: Page }

/**
 * Every console page, and how to reach it from the one before (a table: a page the console gains is one line).
 * `reach` leaves the walk's page on it, or returns another page to check (one in a browser of its own). The order
 * matters where a row says so: signed-out ends the session, so it is last.
 */
const CONSOLE_PAGES: ReadonlyArray<{ name: string, reach: (walk: Walk) => Promise<Page | void> }> = [
  { name: 'overview', reach: async ({ page, issuer }) => { await page.goto(`${issuer}/console`) } },
  { name: 'users', reach: async ({ page, issuer }) => { await page.goto(`${issuer}/console/users`) } },
  { name: 'user-new', reach: async ({ page, issuer }) => { await page.goto(`${issuer}/console/users/new`) } },
  { name: 'user-new, refused (alert)', reach: async ({ page }) => { await page.getByLabel('Username').fill('dora'); await page.getByLabel('Password').fill('a password 1'); await submit(page, 'Create') } },
  { name: 'a user', reach: async ({ page, issuer }) => { await page.goto(`${issuer}/console/users/dora`) } },
  { name: 'a user, a change done (status)', reach: async ({ page }) => { await submit(page, 'End all sessions') } },
  { name: 'clients', reach: async ({ page, issuer }) => { await page.goto(`${issuer}/console/clients`) } },
  { name: 'client-new', reach: async ({ page, issuer }) => { await page.goto(`${issuer}/console/clients/new`) } },
  { name: 'a client', reach: async ({ page, issuer }) => { await page.goto(`${issuer}/console/clients/billing`) } },
  { name: 'client-secret', reach: async ({ page }) => { await submit(page, 'Rotate the secret') } },
  { name: 'providers', reach: async ({ page, issuer }) => { await page.goto(`${issuer}/console/providers`) } },
  { name: 'provider-new', reach: async ({ page, issuer }) => { await page.goto(`${issuer}/console/providers/new`) } },
  { name: 'provider-new, discovery refused (alert)', reach: async ({ page }) => { await refusedDiscovery(page) } },
  { name: 'a provider', reach: async ({ page, issuer }) => { await page.goto(`${issuer}/console/providers/corp`) } },
  { name: 'resources', reach: async ({ page, issuer }) => { await page.goto(`${issuer}/console/resources`) } },
  { name: 'invitations', reach: async ({ page, issuer }) => { await page.goto(`${issuer}/console/invitations`) } },
  { name: 'signing keys', reach: async ({ page, issuer }) => { await page.goto(`${issuer}/console/keys`) } },
  { name: 'signing keys, rotated (status)', reach: async ({ page }) => { await submit(page, 'Rotate keys') } },
  { name: 'events', reach: async ({ app, page, issuer }) => { await app.events.flush(); await page.goto(`${issuer}/console/events`) } },
  { name: 'events, filtered by user', reach: async ({ page, issuer }) => { await page.goto(`${issuer}/console/events?user=dora`) } },
  { name: 'events, a refused filter (alert)', reach: async ({ page, issuer }) => { await page.goto(`${issuer}/console/events?type=no_such_type`) } },
  { name: 'error (404)', reach: async ({ page, issuer }) => { await page.goto(`${issuer}/console/users/nobody-of-that-name`) } },
  { name: 'refused (403, not an administrator)', reach: async ({ t, app, issuer }) => await refusedPage(t, app, issuer) },
  { name: 'signed-out', reach: async ({ page, issuer }) => { await page.goto(`${issuer}/console`); await submit(page, 'Sign out') } }
]

/** Presses the button named `name` and waits for the page it leads to. */
async function submit (page: Page, name: string) {
  await Promise.all([page.waitForLoadState(), page.getByRole('button', { name, exact: true }).click()])
}

/** The add-a-provider form with its discovery check ticked, for an issuer on a port nothing listens on: the 400 form. */
async function refusedDiscovery (page: Page) {
  await page.locator('#name').fill('other')
  await page.locator('#issuer').fill('http://127.0.0.1:1')
  await page.locator('#client_id').fill('gatehouse')
  await page.locator('#client_secret').fill('corp secret 1')
  await submit(page, 'Add')
}

/** The 403 page of someone without the admin scope who signs in to the console, in a browser of their own. */
async function refusedPage (t: Test, app: FastifyInstance, issuer: string): Promise<Page> {
  await addUser(app, 'eve', 'eve password 1', { scope: 'items:read' })
  const { page } = await openBrowser(t, { expectedStatus: /^403$/ })
  await page.goto(`${issuer}/console`)
  await signInThroughLoginPage(page, 'eve', 'eve password 1')
  return page
}

/**
 * Checks the page as it is now in both colour schemes and at both widths: no serious or critical axe finding, and
 * no sideways scroll at 390 px. Leaves the page light and at desktop width.
 */
async function checkEveryWay (t: Test, page: Page, name: string) {
  for (const colorScheme of SCHEMES) {
    await page.emulateMedia({ colorScheme })
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: width === PHONE ? 844 : 760 })
      const findings = await checkAccessibility(page)
      t.equal(describeFindings(findings), '', `${name}, ${colorScheme}, ${width} px: no serious or critical axe finding`)
      if (width === PHONE) t.equal(await sidewaysScroll(page), 0, `${name}, ${colorScheme}: no sideways scroll at 390 px`)
    }
  }
  await page.emulateMedia({ colorScheme: 'light' })
  await page.setViewportSize({ width: DESKTOP, height: 760 })
}

/** The focus ring of the sign-in page's first field (and of the controls after it, reached with Tab): at least 3:1 in both schemes. */
async function signInRings (t: Test, page: Page, name: string, field: string) {
  for (const colorScheme of SCHEMES) {
    await page.emulateMedia({ colorScheme })
    for (const selector of [field, 'button[type=submit]', 'main a']) {
      const ratio = await focusRingContrast(page, selector)
      t.ok(ratio >= 3, `${name}, ${colorScheme}: the focus ring of ${selector} has ${ratio}:1 (at least 3:1)`)
    }
    await page.evaluate('document.activeElement.blur()')
  }
  await page.emulateMedia({ colorScheme: 'light' })
}

t.test('every console page and the sign-in on the way: no serious or critical axe finding, light and dark, 1024 and 390 px; keyboard only', { skip: withoutChromium }, async (t) => {
  const { app, url: issuer } = await buildListening(t)
  const root = await addUser(app, 'root', ROOT_PASSWORD, { scope: 'admin' })
  const { secret } = await addTotp(app, root)
  // Something on every page: a user with a name, an e-mail address and a second factor; a confidential client.
  const dora = await addUser(app, 'dora', 'dora password 1', { fullName: 'Dora Explorer', email: 'dora@example.test', scope: 'items:read' })
  await addTotp(app, dora)
  await addClient(app, 'billing', { grantTypes: ['authorization_code', 'refresh_token'], redirectUris: ['https://billing.example.test/cb'], scope: 'items:read' })
  await createProvider({ storage: app.storage, config: app.config }, { name: 'corp', issuer: 'https://login.corp.example', clientId: 'gatehouse', clientSecret: 'corp secret 1', displayName: 'Corp SSO' })
  await addResource({ storage: app.storage, audience: app.config.audience }, { uri: 'https://api.example.test/items', name: 'Items API', scope: 'items:read items:write' })
  const { page, problems } = await openBrowser(t, { expectedStatus: /^(400|403|404|409)$/ })

  // The sign-in the console goes through: the login page, then the second-factor page.
  await page.goto(`${issuer}/console`)
  t.equal(new URL(page.url()).pathname, '/authorize', 'the console starts a sign-in: the login page')
  await checkEveryWay(t, page, 'the login page')
  await signInRings(t, page, 'the login page', '#username')
  await signInThroughLoginPage(page, 'root', ROOT_PASSWORD)
  t.equal(new URL(page.url()).pathname, '/login/factor', 'then the second-factor page')
  await checkEveryWay(t, page, 'the second-factor page')
  await signInRings(t, page, 'the second-factor page', '#code')
  await enterFactorCode(page, codeNow(app, secret), `${issuer}/console`)

  // Keyboard only, from the overview: the skip link first, then every link of the navigation, in order, each with a
  // focus ring of at least 3:1 in both schemes; the skip link moves the focus to the main content.
  const navigation = await page.getByRole('navigation', { name: 'Console' }).getByRole('link').allInnerTexts()
  t.same(navigation, ['Overview', 'Users', 'Clients', 'Providers', 'Resources', 'Invitations', 'Signing keys', 'Events'], 'the navigation\'s links')
  for (const colorScheme of SCHEMES) {
    await page.emulateMedia({ colorScheme })
    await page.goto(`${issuer}/console`)
    const reached: string[] = []
    for (let presses = 0; presses < 20 && !reached.includes('Sign out'); presses++) {
      await page.keyboard.press('Tab')
      reached.push(await page.evaluate<string>('document.activeElement.innerText.trim()'))
      const ratio = await focusRingContrast(page, ':focus')
      t.ok(ratio >= 3, `${colorScheme}: the focus ring of "${reached.at(-1) ?? ''}" has ${ratio}:1 (at least 3:1)`)
    }
    t.equal(reached[0], 'Skip to content', `${colorScheme}: Tab reaches the skip link first`)
    t.same(reached.filter((text) => navigation.includes(text)), navigation, `${colorScheme}: then every link of the navigation, in order`)
    t.ok(reached.indexOf(navigation.at(-1) ?? '') < reached.indexOf('Sign out'), `${colorScheme}: all before the sign-out button`)
    await page.goto(`${issuer}/console`)
    await page.keyboard.press('Tab')
    await page.keyboard.press('Enter')
    t.equal(await page.evaluate('document.activeElement.id'), 'main', `${colorScheme}: the skip link takes the focus to the main content`)
  }
  await page.emulateMedia({ colorScheme: 'light' })

  // Every console page.
  for (const { name, reach } of CONSOLE_PAGES) {
    const other = await reach({ t, app, issuer, page })
    const checked = other ?? page
    t.equal(await checked.locator('h1').count(), 1, `${name}: one h1 (${await checked.title()})`)
    await checkEveryWay(t, checked, name)
    for (const colorScheme of SCHEMES) {
      await checked.emulateMedia({ colorScheme })
      const stops = await focusRings(checked)
      t.ok(stops.length > 0, `${name}, ${colorScheme}: Tab reaches ${stops.length} controls`)
      t.same(stops.filter((stop) => stop.ratio < 3), [], `${name}, ${colorScheme}: every focus ring has at least 3:1`)
    }
    await checked.emulateMedia({ colorScheme: 'light' })
  }
  t.match(await page.getByRole('heading', { level: 1 }).innerText(), /Signed out/, 'the walk ended signed out')
  t.same(problems, [], 'no CSP refusal or script error on any page (axe goes in through the DevTools protocol, not a script)')
})

import t from 'tap'
import { SCREENSHOTS as SCREENSHOTS_ROOT } from '../support/paths.js'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { openBrowser, withoutChromium } from '../support/chromium.js'
import { addClient, addUser, build, buildListening, freePort } from '../support/helper.js'
import { loadConfig } from '../../lib/config.js'

// "Interactive docs like FastAPI's": in Debian's Chromium, /docs (Swagger UI) signs in through "Authorize"
// with the password flow, and "Try it out" on GET /users/me then answers 200; the client-credentials flow
// signs a client in the same way (GET /admin/users). Screenshots go to screenshots/docs/ (git-ignored).

// dist/test → the repository root.
const SCREENSHOTS = join(SCREENSHOTS_ROOT, 'docs')
const PASSWORD = 'correct horse battery staple'

/** Opens the Authorize dialog and signs in with one flow of the oauth2 scheme; resolves once Swagger UI says "Authorized". */
async function authorize (page: Page, flow: 'password' | 'clientCredentials', fields: Record<string, string>, screenshot: string) {
  await page.locator('.auth-wrapper button.authorize').click()
  const container = page.locator('.auth-container').filter({ hasText: `Flow: ${flow}` })
  await container.waitFor()
  for (const [name, value] of Object.entries(fields)) await container.locator(`input[data-name="${name}"]`).fill(value)
  await page.screenshot({ path: join(SCREENSHOTS, `${screenshot}-dialog.png`) })
  await container.locator('button.authorize').click()
  await container.getByText('Authorized', { exact: true }).waitFor({ timeout: 10_000 })
  await page.screenshot({ path: join(SCREENSHOTS, `${screenshot}-authorized.png`) })
  await container.locator('button.btn-done').click()
  await page.locator('.dialog-ux').waitFor({ state: 'detached' })
}

/**
 * Expands an operation (unless it is open), presses "Try it out" (unless it was), then "Execute"; returns the
 * status of the request the page sent and the status and body Swagger UI then shows.
 */
async function tryItOut (page: Page, tag: string, operationId: string, path: string, screenshot: string): Promise<{ sent: number, status: string, body: string }> {
  const operation = page.locator(`#operations-${tag}-${operationId}`)
  if (await operation.locator('.opblock-body').count() === 0) await operation.locator('.opblock-summary').first().click()
  const tryOut = operation.locator('button.try-out__btn')
  if ((await tryOut.innerText()).trim() === 'Try it out') await tryOut.click()
  const [response] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === path),
    operation.locator('button.execute').click()
  ])
  const status = operation.locator('.live-responses-table .response .response-col_status').filter({ hasText: String(response.status()) }).first()
  await status.waitFor({ timeout: 10_000 })
  await operation.locator('.live-responses-table').scrollIntoViewIfNeeded()
  await page.screenshot({ path: join(SCREENSHOTS, `${screenshot}.png`) })
  return { sent: response.status(), status: (await status.innerText()).trim(), body: await operation.locator('.live-responses-table .response .response-col_description pre').first().innerText() }
}

t.test('Swagger UI at /docs: "Authorize" with the password flow, then "Try it out" on GET /users/me answers 200', { skip: withoutChromium }, async (t) => {
  mkdirSync(SCREENSHOTS, { recursive: true })
  const { app, url } = await buildListening(t)
  await addUser(app, 'alice', PASSWORD, { scope: 'items:read', fullName: 'Alice Liddell' })
  const { page, problems } = await openBrowser(t, { width: 1280, height: 900, expectedStatus: /^401$/ })
  const seen: string[] = []
  page.on('response', (response) => { seen.push(`${response.request().method()} ${response.url()} ${response.status()}`) })
  await page.goto(`${url}/docs`)
  await page.locator('#operations-users-getCurrentUser').waitFor()
  await page.screenshot({ path: join(SCREENSHOTS_ROOT, 'docs.png') })

  // Before signing in, "Try it out" gets the bearer challenge.
  const anonymous = await tryItOut(page, 'users', 'getCurrentUser', '/users/me', 'users-me-401')
  t.equal(anonymous.status, '401', 'without signing in: 401')

  // The client fields are left empty, as a FastAPI user would: the built-in public client `default`.
  await authorize(page, 'password', { username: 'alice', password: PASSWORD }, 'password-flow')
  const me = await tryItOut(page, 'users', 'getCurrentUser', '/users/me', 'users-me-200')
  t.equal(me.sent, 200, 'GET /users/me: 200')
  t.equal(me.status, '200', 'Swagger UI shows the 200')
  t.match(JSON.parse(me.body), { username: 'alice', full_name: 'Alice Liddell', scope: 'items:read' }, 'the signed-in user')
  t.ok(seen.includes(`POST ${url}/token 200`), 'the browser posted the password grant to ISSUER/token (same origin, under the page\'s CSP)')
  t.same(problems, [], 'no errors in the page (CSP refusals included)')
})

t.test('Swagger UI at /docs: "Authorize" with the client-credentials flow, then "Try it out" on GET /admin/users answers 200', { skip: withoutChromium }, async (t) => {
  mkdirSync(SCREENSHOTS, { recursive: true })
  const { app, url } = await buildListening(t)
  await addUser(app, 'alice', PASSWORD)
  const secret = (await addClient(app, 'ops', { grantTypes: ['client_credentials'], scope: 'admin' }))!

  const { page, problems } = await openBrowser(t, { width: 1280, height: 900, expectedStatus: /^401$/ })
  await page.goto(`${url}/docs`)
  await page.locator('#operations-admin-listUsers').waitFor()
  await authorize(page, 'clientCredentials', { clientId: 'ops', clientSecret: secret }, 'client-credentials-flow')
  const users = await tryItOut(page, 'admin', 'listUsers', '/admin/users', 'admin-users-200')
  t.equal(users.sent, 200, 'GET /admin/users (no limit or offset filled in): 200')
  t.equal(users.status, '200', 'Swagger UI shows the 200')
  t.match(JSON.parse(users.body), [{ username: 'alice' }])
  t.same(problems, [], 'no errors in the page')
})

/**
 * The first five minutes (issue 29): with ISSUER unset, the server on HOST=127.0.0.1 (the default) has the issuer
 * http://localhost:PORT (lib/config.ts), which its start banner prints, while its own listen line says
 * http://127.0.0.1:PORT. /docs signs in at both addresses: the flows' token URL is relative (schemas/security.ts),
 * so the page posts to its own origin, which its CSP (connect-src 'self') allows. An absolute ISSUER/token failed
 * at 127.0.0.1 with "Auth Error TypeError: Failed to fetch" (a CSP refusal).
 */
t.test('Swagger UI signs in at the address the banner prints and at the listening address (ISSUER unset, HOST=127.0.0.1)', { skip: withoutChromium }, async (t) => {
  mkdirSync(SCREENSHOTS, { recursive: true })
  const port = await freePort()
  // What the server derives when ISSUER is unset, used as the issuer here (the banner prints it).
  const issuer = loadConfig({ HOST: '127.0.0.1', PORT: String(port) }).issuer
  t.equal(issuer, `http://localhost:${port}`, 'ISSUER unset: the issuer is http://localhost:PORT')
  const app = await build(t, { ISSUER: issuer })
  await app.listen({ port, host: '127.0.0.1' })
  await addUser(app, 'alice', PASSWORD, { scope: 'items:read' })
  const secret = (await addClient(app, 'ops', { grantTypes: ['client_credentials'], scope: 'admin' }))!

  for (const origin of [`http://127.0.0.1:${port}`, issuer]) {
    const shot = new URL(origin).hostname.replace(/\W/g, '-')
    const { page, problems } = await openBrowser(t, { width: 1280, height: 900, expectedStatus: /^401$/ })
    const posted: string[] = []
    page.on('response', (response) => { if (response.request().method() === 'POST') posted.push(`${response.url()} ${response.status()}`) })
    await page.goto(`${origin}/docs`)
    await page.locator('#operations-users-getCurrentUser').waitFor()
    await authorize(page, 'password', { username: 'alice', password: PASSWORD }, `${shot}-password-flow`)
    const me = await tryItOut(page, 'users', 'getCurrentUser', '/users/me', `${shot}-users-me-200`)
    t.equal(me.sent, 200, `${origin}/docs: password flow, then GET /users/me: 200`)
    t.match(JSON.parse(me.body), { username: 'alice' })
    t.ok(posted.includes(`${origin}/token 200`), `${origin}/docs posted the grant to its own origin's /token`)
    await page.locator('.auth-wrapper button.authorize').click()
    await page.locator('.auth-container').filter({ hasText: 'Flow: password' }).locator('button.authorize', { hasText: 'Logout' }).click()
    await page.locator('.dialog-ux button.close-modal').click()
    await authorize(page, 'clientCredentials', { clientId: 'ops', clientSecret: secret }, `${shot}-client-credentials-flow`)
    const users = await tryItOut(page, 'admin', 'listUsers', '/admin/users', `${shot}-admin-users-200`)
    t.equal(users.sent, 200, `${origin}/docs: client-credentials flow, then GET /admin/users: 200`)
    t.same(problems, [], `${origin}/docs: no errors in the page (CSP refusals included)`)
  }
})

import t from 'tap'
import * as oidc from 'openid-client'
import { openBrowser, withoutChromium } from '../support/chromium.js'
import { addClient, addUser, buildListening } from '../support/helper.js'
import { claimsOf, deviceSignIn } from '../../examples/device-cli/index.js'

// RFC 8628 end to end: a real client (openid-client v6, then the example device CLI) starts the flow and polls
// while Chromium opens verification_uri_complete, confirms the code, signs in and allows the device.

const PASSWORD = 'correct horse battery staple'
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'

t.test('openid-client polls while Chromium enters the code, signs in and allows; then the example CLI, denied', { skip: withoutChromium }, async (t) => {
  const { app, url: issuer } = await buildListening(t)
  const alice = await addUser(app, 'alice', PASSWORD, { fullName: 'Alice Liddell', scope: 'items:read' })
  await addClient(app, 'tv', { isPublic: true, grantTypes: [DEVICE_GRANT, 'refresh_token'] })
  const { page, problems } = await openBrowser(t, { expectedStatus: /^40[01]$/ })

  const config = await oidc.discovery(new URL(issuer), 'tv', undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] })
  const started = await oidc.initiateDeviceAuthorization(config, { scope: 'openid profile items:read' })
  t.match(started.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/)
  const polling = oidc.pollDeviceAuthorizationGrant(config, started)

  await page.goto(String(started.verification_uri_complete))
  t.equal(await page.getByLabel('Code').inputValue(), started.user_code, 'the code filled in from the link')
  await page.getByRole('button', { name: 'Continue' }).click()
  await page.getByLabel('Username').fill('alice')
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  // Back on the device page with the code: confirmed once more, then the consent page naming it.
  await page.getByRole('button', { name: 'Continue' }).click()
  await page.getByText(`Only allow this if your device shows the code ${started.user_code}`).waitFor()
  await page.getByRole('button', { name: 'Allow' }).click()
  await page.getByText('You may return to your device').waitFor()

  const tokens = await polling
  t.equal(tokens.claims()?.sub, alice.id, 'an ID token for alice, checked by openid-client')
  t.ok(tokens.refresh_token)
  t.equal(tokens.scope, 'openid profile items:read')
  const me = await fetch(`${issuer}/users/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })
  t.equal((await me.json() as { sub: string }).sub, alice.id, 'the access token works at /users/me')

  // The example device CLI (plain fetch): the person denies it this time.
  let printed: (text: string) => void = () => {}
  const shownText = new Promise<string>((resolve) => { printed = resolve })
  const cli = deviceSignIn({ issuer, clientId: 'tv', scope: 'openid', show: (text) => printed(text) })
  const rejected = t.rejects(cli, /denied/, 'the CLI stops on access_denied')
  const shown = await shownText
  const link = /open (\S+\?user_code=\S+)\)/.exec(shown)?.[1]
  t.ok(link, 'it prints verification_uri_complete')
  await page.goto(String(link))
  await page.getByRole('button', { name: 'Continue' }).click()
  await page.getByRole('button', { name: 'Deny' }).click()
  await page.getByText('Device not connected').waitFor()
  await rejected
  t.same(problems, [], 'no console errors, no CSP refusals')
  t.equal(claimsOf(tokens.access_token).sub, alice.id, 'claimsOf reads a token\'s claims')
})

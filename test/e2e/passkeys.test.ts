import t from 'tap'
import * as oidc from 'openid-client'
import { appCallbackUrl, openBrowser, withoutChromium } from '../support/chromium.js'
import { addClient, addUser, build, freePort } from '../support/helper.js'
import { ACR_MFA } from '../../lib/mfa/assurance.js'

// Passkeys in Debian's Chromium with its virtual authenticator (Chrome DevTools Protocol `WebAuthn`: CTAP2, internal
// transport, resident keys, user verification): alice adds a passkey on /account with the "Add a passkey" button,
// signs out, and signs in at a client (openid-client: discovery, PKCE, state, nonce) with "Sign in with a passkey"
// and no password; the ID token names her. The issuer is http://localhost:PORT: WebAuthn runs only in a secure
// context, which localhost is and 127.0.0.1 is not for an RP ID (an IP address is no RP ID). Runs on both stores
// (test/postgres/list.ts).

const PASSWORD = 'correct horse battery staple'

t.test('Chromium\'s virtual authenticator: Add a passkey on /account, then Sign in with a passkey at a client, no password', { skip: withoutChromium }, async (t) => {
  const port = await freePort()
  const issuer = `http://localhost:${port}`
  const app = await build(t, { ISSUER: issuer })
  await app.listen({ port, host: '127.0.0.1' })
  const alice = await addUser(app, 'alice', PASSWORD, { fullName: 'Alice Liddell', scope: 'items:read' })
  const callback = await appCallbackUrl(t)
  const secret = await addClient(app, 'rp', { grantTypes: ['authorization_code'], redirectUris: [callback] }) as string
  const { page, problems } = await openBrowser(t, { expectedStatus: /^40[01]$/ })

  const cdp = await page.context().newCDPSession(page)
  await cdp.send('WebAuthn.enable', { enableUI: false })
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true }
  })

  // Sign in with the password, add a passkey on the account page.
  await page.goto(`${issuer}/login?return_to=/account`)
  await page.getByLabel('Username').fill('alice')
  await page.getByLabel('Password').fill(PASSWORD)
  await Promise.all([page.waitForURL(`${issuer}/account`), page.getByRole('button', { name: 'Sign in', exact: true }).click()])
  await page.getByLabel('Passkey name').fill('Virtual key')
  await Promise.all([page.waitForURL(/done=passkey/), page.getByRole('button', { name: 'Add a passkey' }).click()])
  t.match(await page.getByRole('status').innerText(), /The passkey is added/)
  t.match(await page.locator('section[aria-labelledby=passkeys-h]').innerText(), /Virtual key\s*added .* · last used never/)
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId })
  t.equal(credentials.length, 1, 'the authenticator holds one credential')
  t.equal(credentials[0]?.isResidentCredential, true, 'a discoverable one')
  t.equal(credentials[0]?.rpId, 'localhost', 'for the issuer\'s host')
  t.equal(await app.storage.factors.countConfirmed(alice.id), 1)

  // Sign out.
  await Promise.all([page.waitForURL(`${issuer}/logout`), page.getByRole('button', { name: 'Sign out' }).click()])
  t.equal((await app.storage.sessions.listForUser(alice.id, Math.floor(Date.now() / 1000))).length, 0, 'signed out')

  // A client's authorization request: the login page, "Sign in with a passkey", no password typed. The virtual
  // authenticator answers the page's conditional request (the username field's autofill) at once when user presence
  // is simulated, as if the person picked the passkey there; so presence is off while the page loads, on for the click.
  const authorize = async () => {
    const verifier = oidc.randomPKCECodeVerifier()
    const state = oidc.randomState()
    const nonce = oidc.randomNonce()
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: callback, scope: 'openid profile', state, nonce, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256'
    })
    return { url, checks: { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true } }
  }
  const config = await oidc.discovery(new URL(issuer), 'rp', secret, undefined, { execute: [oidc.allowInsecureRequests] })
  const presence = (enabled: boolean) => cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled })
  await presence(false)
  const first = await authorize()
  await page.goto(first.url.href)
  t.equal(await page.getByLabel('Username').getAttribute('autocomplete'), 'username webauthn', 'conditional UI offered in the username field')
  await presence(true)
  await Promise.all([page.waitForURL(/\/authorize\?/), page.getByRole('button', { name: 'Sign in with a passkey' }).click()])
  await Promise.all([page.waitForURL((u) => u.href.startsWith(callback)), page.getByRole('button', { name: 'Allow' }).click()])
  const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), first.checks)
  t.equal(tokens.claims()?.sub, alice.id, 'the ID token names alice')
  t.same(tokens.claims()?.amr, ['hwk', 'user', 'mfa'], 'the ID token\'s amr (verified by openid-client): a hardware key, its user verified, two factors')
  t.equal(tokens.claims()?.acr, ACR_MFA, 'acr: two factors')
  const [session] = await app.storage.sessions.listForUser(alice.id, Math.floor(Date.now() / 1000))
  t.same(session?.amr, ['hwk', 'user', 'mfa'], 'a device-bound passkey with its user verified')
  const [factor] = await app.storage.factors.list(alice.id)
  t.ok(factor?.lastUsedAt, 'the passkey\'s last use is recorded')

  // Conditional UI: signed out again, the login page's username field offers the passkey; picked, it signs in.
  await app.storage.sessions.deleteForUser(alice.id)
  const second = await authorize()
  await page.goto(second.url.href)
  await page.waitForURL((u) => u.href.startsWith(callback))
  t.equal((await oidc.authorizationCodeGrant(config, new URL(page.url()), second.checks)).claims()?.sub, alice.id, 'signed in through the autofill, no click')
  t.same(problems, [], 'no page errors (CSP, scripts)')
})

t.test('MFA=required: a user without a second factor adds a passkey at the first sign-in (/login/enroll), then uses it as the second factor after the password; the client gets acr mfa', { skip: withoutChromium }, async (t) => {
  const port = await freePort()
  const issuer = `http://localhost:${port}`
  const app = await build(t, { ISSUER: issuer, MFA: 'required' })
  await app.listen({ port, host: '127.0.0.1' })
  const bob = await addUser(app, 'bob', PASSWORD)
  const callback = await appCallbackUrl(t)
  const secret = await addClient(app, 'rp', { grantTypes: ['authorization_code'], redirectUris: [callback] }) as string
  await app.storage.clients.update('rp', { skipConsent: true })
  const { page, problems } = await openBrowser(t, { expectedStatus: /^40[01]$/ })
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('WebAuthn.enable', { enableUI: false })
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true }
  })
  const config = await oidc.discovery(new URL(issuer), 'rp', secret, undefined, { execute: [oidc.allowInsecureRequests] })
  const verifier = oidc.randomPKCECodeVerifier()
  const state = oidc.randomState()
  const nonce = oidc.randomNonce()
  const url = oidc.buildAuthorizationUrl(config, { redirect_uri: callback, scope: 'openid', state, nonce, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' })
  await page.goto(url.href)
  await page.getByLabel('Username').fill('bob')
  await page.getByLabel('Password').fill(PASSWORD)
  await Promise.all([page.waitForURL(/\/login\/enroll/), page.getByRole('button', { name: 'Sign in', exact: true }).click()])
  await page.getByLabel('Passkey name').fill('Laptop')
  await Promise.all([page.waitForURL((u) => u.href.startsWith(callback)), page.getByRole('button', { name: 'Add a passkey' }).click()])
  const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true })
  t.equal(tokens.claims()?.sub, bob.id)
  t.same(tokens.claims()?.amr, ['pwd', 'hwk', 'mfa'], 'the password, then the new passkey (its user verified)')
  t.equal(tokens.claims()?.acr, ACR_MFA)
  t.same((await app.storage.factors.list(bob.id)).map((f) => [f.kind, f.name]), [['passkey', 'Laptop']])

  // Next time: the password, then the passkey as the second factor. Presence is off on the login page, so the
  // username field's passkey offer (conditional UI) is not taken at once; on for the second-factor page's button.
  await app.storage.sessions.deleteForUser(bob.id)
  const presence = (enabled: boolean) => cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled })
  await presence(false)
  const again = { verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce() }
  await page.goto(oidc.buildAuthorizationUrl(config, {
    redirect_uri: callback, scope: 'openid', state: again.state, nonce: again.nonce, code_challenge: await oidc.calculatePKCECodeChallenge(again.verifier), code_challenge_method: 'S256'
  }).href)
  await page.getByLabel('Username').fill('bob')
  await page.getByLabel('Password').fill(PASSWORD)
  await Promise.all([page.waitForURL(/\/login\/factor/), page.getByRole('button', { name: 'Sign in', exact: true }).click()])
  await presence(true)
  await Promise.all([page.waitForURL((u) => u.href.startsWith(callback)), page.getByRole('button', { name: 'Sign in with a passkey' }).click()])
  const second = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: again.verifier, expectedState: again.state, expectedNonce: again.nonce, idTokenExpected: true })
  t.same(second.claims()?.amr, ['pwd', 'hwk', 'mfa'], 'a passkey as the second factor after the password')
  t.equal(second.claims()?.acr, ACR_MFA)
  t.same(problems, [], 'no CSP refusal or script error on any page')
})

import t, { type Test } from 'tap'
import { decodeJwt } from 'jose'
import { ACR_MFA, ACR_PWD } from '../../../lib/mfa/assurance.js'
import { safeReturnTo } from '../../../lib/oauth/authorize.js'
import { ACCOUNT_FAILURES } from '../../../lib/oauth/brute-force.js'
import { addClient, basic, build, ISSUER, post } from '../../support/helper.js'
import { assertOAuthError } from '../../support/oauth.js'
import { InjectBrowser, PASSWORD, authorizeThrough, browserFixtures, callbackParams, exchange, field, signInAt, webRequest } from '../../support/browser.js'
import { addConfirmedFactor, returnToOf, sessionWithAmr } from '../../support/second-factor-policy.js'

// The second-factor policy at the pages (lib/oauth/interaction.ts, prompt mfa): what asks for a second factor
// (MFA=required, --require-mfa, acr_values, a user who has one), where /authorize sends the browser (the step-up
// page when the user has a factor, enrolment when not), prompt=none, a session that used two factors, the ID token's
// amr and acr, and the password grant. The factor and enrolment pages are tested with them (helper A's files); here
// a session's amr is written straight into the store. Runs on SQLite; test/postgres/ re-runs it.

async function setup (t: Test, env: Record<string, string> = {}) {
  const app = await build(t, env)
  const fixtures = await browserFixtures(app)
  return { app, ...fixtures, browser: new InjectBrowser(app) }
}

/** Signs alice in with her password on the login page `url` shows, then follows the 303 back to /authorize. */
async function passwordThen (browser: InjectBrowser, url: string) {
  const signedIn = await signInAt(browser, url)
  if (signedIn.statusCode !== 303 || !signedIn.headers.location?.startsWith('/authorize')) throw new Error(`login: ${signedIn.statusCode} ${String(signedIn.headers.location)}`)
  return browser.get(signedIn.headers.location)
}

t.test('MFA=required: a password-only sign-in of a user without a factor is sent to enrol, with the request to come back to', async (t) => {
  const { browser } = await setup(t, { MFA: 'required' })
  const { url } = webRequest({ scope: 'openid items:read' })
  const res = await passwordThen(browser, url)
  t.equal(res.statusCode, 303)
  const back = returnToOf(res.headers.location, '/login/enroll')
  t.equal(safeReturnTo(back), back, 'return_to is an /authorize path a form accepts')
  t.same(Object.fromEntries(new URL(back, ISSUER).searchParams), Object.fromEntries(new URL(url, ISSUER).searchParams), 'the same request')
  t.notOk(res.headers.location?.includes('code='), 'no code')
  const again = await browser.get(url)
  t.equal(returnToOf(again.headers.location, '/login/enroll'), back, 'asked again at every request until a factor is used')
})

t.test('MFA=optional (the default): nothing changes for a user without a factor and a plain client', async (t) => {
  const { browser } = await setup(t)
  const res = await passwordThen(browser, webRequest().url)
  t.equal(res.statusCode, 200, 'the consent page')
  t.match(res.body, /name="decision"/)
})

t.test('a --require-mfa client: enrolment for a user without a factor, the step-up for one who has one', async (t) => {
  const { app, alice, browser } = await setup(t)
  await app.storage.clients.update('web', { requireMfa: true })
  const { url } = webRequest()
  t.match((await passwordThen(browser, url)).headers.location, /^\/login\/enroll\?return_to=%2Fauthorize%3F/)
  await addConfirmedFactor(app, alice)
  const res = await browser.get(url)
  t.equal(res.statusCode, 303)
  t.same(Object.fromEntries(new URL(returnToOf(res.headers.location, '/login/factor'), ISSUER).searchParams), Object.fromEntries(new URL(url, ISSUER).searchParams))
  await app.storage.clients.update('web', { requireMfa: false })
  t.match((await browser.get(url)).headers.location, /^\/login\/factor\?/, 'the user has a factor: asked whatever the client says')
})

t.test('acr_values=urn:gatehouse:acr:mfa with a password-only session: step-up or enrolment; other classes change nothing', async (t) => {
  const { app, alice, browser } = await setup(t, {})
  await app.storage.clients.update('web', { skipConsent: true })
  t.ok(callbackParams(await signInAt(browser, webRequest().url)).get('code'), 'signed in with the password: a code (skip-consent client)')
  const stepUp = webRequest({ acr_values: ACR_MFA })
  t.match((await browser.get(stepUp.url)).headers.location, /^\/login\/enroll\?return_to=/, 'no factor: enrolment')
  t.match((await browser.get(webRequest({ acr_values: `urn:example:gold ${ACR_MFA}` }).url)).headers.location, /^\/login\/enroll\?/, 'among other values')
  t.match(callbackParams(await browser.get(webRequest({ acr_values: ACR_PWD }).url)).get('code'), /.+/, 'the one-factor class: a code')
  t.match(callbackParams(await browser.get(webRequest({ acr_values: 'urn:example:gold' }).url)).get('code'), /.+/, 'an unknown class: ignored, a code')
  await addConfirmedFactor(app, alice)
  t.match((await browser.get(stepUp.url)).headers.location, /^\/login\/factor\?return_to=/, 'a factor: the step-up')
})

t.test('prompt=none: interaction_required at the redirect URI, with state and iss, for each reason', async (t) => {
  const { app, alice, browser } = await setup(t)
  await app.storage.clients.update('web', { skipConsent: true })
  await signInAt(browser, webRequest().url)
  const expectRefusal = async (over: Record<string, string>, what: string) => {
    const res = await browser.get(webRequest({ prompt: 'none', ...over }).url)
    t.equal(res.statusCode, 303, `${what}: 303`)
    t.match(res.headers.location, /^https:\/\/app\.test\/cb\?/, `${what}: to the client`)
    const params = callbackParams(res)
    t.equal(params.get('error'), 'interaction_required', what)
    t.equal(params.get('error_description'), 'a second factor is required')
    t.equal(params.get('state'), 'st-1')
    t.equal(params.get('iss'), ISSUER)
    t.notOk(params.get('code'))
  }
  await expectRefusal({ acr_values: ACR_MFA }, 'acr_values')
  await app.storage.clients.update('web', { requireMfa: true })
  await expectRefusal({}, '--require-mfa')
  await app.storage.clients.update('web', { requireMfa: false })
  t.ok(callbackParams(await browser.get(webRequest({ prompt: 'none' }).url)).get('code'), 'nothing asks for it: a code, silently')
  await addConfirmedFactor(app, alice)
  await expectRefusal({}, 'the user has a factor')
})

t.test('prompt=none under MFA=required, and in form_post mode', async (t) => {
  const { app, browser } = await setup(t, { MFA: 'required' })
  await app.storage.clients.update('web', { skipConsent: true })
  await signInAt(browser, webRequest().url)
  t.equal(callbackParams(await browser.get(webRequest({ prompt: 'none' }).url)).get('error'), 'interaction_required')
  const page = await browser.get(webRequest({ prompt: 'none', response_mode: 'form_post' }).url)
  t.equal(page.statusCode, 200, 'the form_post page')
  t.match(page.body, /name="error" value="interaction_required"/)
})

t.test('a session that used two factors goes straight on: consent, then a code whose ID token says amr and acr mfa', async (t) => {
  const { app, alice, webAuth, browser } = await setup(t, { MFA: 'required' })
  await addConfirmedFactor(app, alice)
  await app.storage.clients.update('web', { requireMfa: true })
  await sessionWithAmr(app, browser, alice, ['pwd', 'otp', 'mfa'])
  const { url, verifier } = webRequest({ acr_values: ACR_MFA })
  const consent = await browser.get(url)
  t.equal(consent.statusCode, 200, 'the consent page, no second-factor redirect')
  t.match(consent.body, /name="decision"/)
  const code = await authorizeThrough(browser, url)
  const tokens = await exchange(app, { code, code_verifier: verifier }, webAuth)
  t.equal(tokens.statusCode, 200, tokens.body)
  const claims = decodeJwt(tokens.json().id_token)
  t.same(claims.amr, ['pwd', 'otp', 'mfa'])
  t.equal(claims.acr, ACR_MFA)
  t.ok(callbackParams(await browser.get(webRequest({ prompt: 'none', acr_values: ACR_MFA }).url)).get('code'), 'prompt=none too')
})

t.test('a password-only sign-in: the ID token says amr pwd and acr pwd; a passkey session (hwk, user, mfa) passes', async (t) => {
  const { app, alice, webAuth, browser } = await setup(t)
  const { url, verifier } = webRequest()
  const tokens = await exchange(app, { code: await authorizeThrough(browser, url), code_verifier: verifier }, webAuth)
  const claims = decodeJwt(tokens.json().id_token)
  t.same(claims.amr, ['pwd'])
  t.equal(claims.acr, ACR_PWD)

  const other = new InjectBrowser(app)
  await sessionWithAmr(app, other, alice, ['hwk', 'user', 'mfa'])
  const stepUp = webRequest({ acr_values: ACR_MFA })
  const code = callbackParams(await other.get(stepUp.url)).get('code')
  t.ok(code, 'consented before: a code at once')
  t.match(decodeJwt((await exchange(app, { code: code as string, code_verifier: stepUp.verifier }, webAuth)).json().id_token), { amr: ['hwk', 'user', 'mfa'], acr: ACR_MFA })
})

t.test('the code keeps the amr of its sign-in: a factor used after the code was issued does not change its ID token', async (t) => {
  const { app, alice, webAuth, browser } = await setup(t)
  await app.storage.clients.update('web', { skipConsent: true })
  const { url, verifier } = webRequest()
  const code = callbackParams(await signInAt(browser, url)).get('code') as string
  await sessionWithAmr(app, browser, alice, ['pwd', 'otp', 'mfa'])
  t.match(decodeJwt((await exchange(app, { code, code_verifier: verifier }, webAuth)).json().id_token), { amr: ['pwd'], acr: ACR_PWD })
})

t.test('Q2 (policy half): a user with a factor and a password-only session gets no code from a direct POST to /consent', async (t) => {
  const { app, alice, browser } = await setup(t)
  const { url } = webRequest()
  const consent = await passwordThen(browser, url)
  t.equal(consent.statusCode, 200, 'the consent page (no factor yet)')
  await addConfirmedFactor(app, alice)
  const res = await browser.post('/consent', { decision: 'allow', csrf: field(consent.body, 'csrf'), return_to: field(consent.body, 'return_to') })
  t.equal(res.statusCode, 303)
  t.match(res.headers.location, /^\/authorize\?/, 'back to the request, not to the client')
  t.match((await browser.get(res.headers.location as string)).headers.location, /^\/login\/factor\?/, 'which asks for the factor')
  t.equal(await app.storage.consents.find(alice.id, 'web'), undefined, 'and the one-factor session\'s "allow" is not remembered')
})

t.test('discovery lists acr_values_supported, and amr and acr among the claims', async (t) => {
  const app = await build(t)
  const doc = (await app.inject('/.well-known/openid-configuration')).json()
  t.same(doc.acr_values_supported, [ACR_PWD, ACR_MFA])
  t.ok(doc.claims_supported.includes('amr') && doc.claims_supported.includes('acr'))
})

t.test('the password grant: a user with a factor is refused once the password is proven; a client may skip it (legacy)', async (t) => {
  const { app, alice } = await setup(t)
  const secret = await addClient(app, 'script', { grantTypes: ['password'] }) as string
  const grant = (password: string, client = 'script') => post(app, '/token', { grant_type: 'password', username: 'alice', password, scope: 'items:read' }, { authorization: basic(client, secret) })
  t.equal((await grant(PASSWORD)).statusCode, 200, 'no factor: tokens')
  await addConfirmedFactor(app, alice)
  assertOAuthError(t, await grant(PASSWORD), 400, 'invalid_grant', 'a second factor is required for this user, which the password grant cannot check: sign in through the browser (the authorization code flow)', 'the right password')
  assertOAuthError(t, await grant('wrong'), 400, 'invalid_grant', 'invalid username or password', 'a wrong password: the one answer, nothing about factors')
  const anonymous = await post(app, '/token', { grant_type: 'password', username: 'alice', password: PASSWORD })
  assertOAuthError(t, anonymous, 400, 'invalid_grant', /second factor is required/, 'the built-in default client')
  await app.storage.clients.update('script', { passwordGrantSkipsMfa: true })
  const legacy = await grant(PASSWORD)
  t.equal(legacy.statusCode, 200, 'a client added with --password-grant-skips-mfa: tokens on the password alone')
  t.equal(legacy.json().scope, 'items:read')
})

t.test('the password grant under MFA=required and for a --require-mfa client: refused for users without a factor too, unless skipped', async (t) => {
  const { app } = await setup(t, { MFA: 'required' })
  const secret = await addClient(app, 'script', { grantTypes: ['password'] }) as string
  const grant = () => post(app, '/token', { grant_type: 'password', username: 'alice', password: PASSWORD }, { authorization: basic('script', secret) })
  assertOAuthError(t, await grant(), 400, 'invalid_grant', /^this server requires a second factor/)
  await app.storage.clients.update('script', { passwordGrantSkipsMfa: true })
  t.equal((await grant()).statusCode, 200, 'skipped')

  const optional = await setup(t)
  const strict = await addClient(optional.app, 'strict', { grantTypes: ['password'] }) as string
  await optional.app.storage.clients.update('strict', { requireMfa: true })
  assertOAuthError(t, await post(optional.app, '/token', { grant_type: 'password', username: 'alice', password: PASSWORD }, { authorization: basic('strict', strict) }), 400, 'invalid_grant', /^this client requires a second factor/)
})

t.test('the password grant: a right password refused for want of a factor neither counts as a failure nor clears the failures', async (t) => {
  const { app, alice } = await setup(t)
  await addConfirmedFactor(app, alice)
  const grant = (password: string) => post(app, '/token', { grant_type: 'password', username: 'alice', password })
  // The account's limit (lib/oauth/brute-force.ts ACCOUNT_FAILURES) is reached by the wrong passwords alone, exactly:
  // the right ones in between reset nothing (a success would) and add nothing (a failure would).
  let wrongs = 0
  for (let i = 0; i < 30; i++) {
    if ((await grant('wrong')).statusCode === 429) break
    wrongs++
    const right = await grant(PASSWORD)
    t.not(right.statusCode, 200, 'never tokens')
    if (right.statusCode === 400) t.match(right.json().error_description, /^a second factor is required/)
  }
  t.equal(wrongs, ACCOUNT_FAILURES.max, `throttled after ${ACCOUNT_FAILURES.max} wrong passwords, right ones in between`)
})

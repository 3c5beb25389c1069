import t, { type Test } from 'tap'
import { decodeJwt } from 'jose'
import { ACR_MFA, ACR_PWD } from '../../lib/mfa/assurance.js'
import { build, ISSUER } from '../support/helper.js'
import { InjectBrowser, browserFixtures, callbackParams, exchange, field, signInAt, webRequest } from '../support/browser.js'
import { addTotp, codeNow } from '../support/factors.js'
import { returnToOf } from '../support/second-factor-policy.js'

// SECURITY-CASES Q4 (OIDC Core §2, §3.1.2.1; RFC 8176): acr_values=urn:gatehouse:acr:mfa with a session that used
// only a password. The second factor is asked (step-up: the factor page, no password again) or, for a user without
// one, enrolment; no code before it; then the ID token says acr mfa and its amr has both factors. Through the pages
// by app.inject; runs on both stores (test/postgres/list.ts).

const attr = (html: string, name: string): string[] => [...html.matchAll(new RegExp(`${name}="([^"]*)"`, 'g'))].map((m) => m[1]!.replace(/&amp;/g, '&'))

/** alice signed in with her password only, before she had a factor; the skip-consent client `web` has a code with acr pwd. */
async function passwordSession (t: Test) {
  const app = await build(t)
  const fixtures = await browserFixtures(app, { skipConsent: true })
  const browser = new InjectBrowser(app)
  const first = webRequest()
  const code = callbackParams(await signInAt(browser, first.url)).get('code')
  if (!code) throw new Error('no code for the password sign-in')
  const claims = decodeJwt((await exchange(app, { code, code_verifier: first.verifier }, fixtures.webAuth)).json().id_token)
  t.match(claims, { amr: ['pwd'], acr: ACR_PWD }, 'before: one factor, said so')
  return { app, browser, ...fixtures, authTime: claims.auth_time as number }
}

t.test('Q4: acr_values asks for mfa, the session used a password only: step-up on the factor page, then acr mfa and amr with both factors', async (t) => {
  const { app, browser, alice, webAuth, authTime } = await passwordSession(t)
  const { secret } = await addTotp(app, alice)
  const { url, verifier } = webRequest({ acr_values: ACR_MFA, nonce: 'n-q4' })

  const none = callbackParams(await browser.get(webRequest({ acr_values: ACR_MFA, prompt: 'none' }).url))
  t.equal(none.get('error'), 'interaction_required', 'prompt=none: interaction_required, no code')
  t.equal(none.get('iss'), ISSUER)
  t.notOk(none.get('code'))

  const sent = await browser.get(url)
  t.equal(sent.statusCode, 303, 'no code: the step-up')
  t.equal(returnToOf(sent.headers.location, '/login/factor'), url, 'the factor page, coming back to this request')
  const page = await browser.get(sent.headers.location as string)
  t.equal(page.statusCode, 200)
  t.match(page.body, /name="code"/, 'a code is asked')
  t.notMatch(page.body, /name="password"/, 'not the password again')

  // Five steps ahead: a real code of the app, but not one the server accepts now.
  const wrong = await browser.post('/login/factor', { code: codeNow(app, secret, 5), csrf: field(page.body, 'csrf'), return_to: field(page.body, 'return_to') })
  t.equal(wrong.statusCode, 401, 'a wrong code: the page again')
  t.notOk(wrong.headers.location, 'and no code')

  const passed = await browser.post('/login/factor', { code: codeNow(app, secret), csrf: field(page.body, 'csrf'), return_to: field(page.body, 'return_to') })
  t.equal(passed.statusCode, 303)
  const back = callbackParams(passed)
  t.equal(back.get('state'), 'st-1')
  t.equal(back.get('iss'), ISSUER)
  const code = back.get('code')
  t.ok(code, 'a code once the factor is used')
  const tokens = await exchange(app, { code: code as string, code_verifier: verifier }, webAuth)
  t.equal(tokens.statusCode, 200, tokens.body)
  const claims = decodeJwt(tokens.json().id_token)
  t.equal(claims.acr, ACR_MFA, 'acr: two factors')
  t.same(claims.amr, ['pwd', 'otp', 'mfa'], 'amr: the password, the code, mfa')
  t.equal(claims.nonce, 'n-q4')
  t.ok((claims.auth_time as number) >= authTime, 'auth_time: the step-up is a new authentication')

  const silent = callbackParams(await browser.get(webRequest({ acr_values: ACR_MFA, prompt: 'none' }).url))
  t.ok(silent.get('code'), 'the upgraded session: prompt=none gives a code now')
})

t.test('Q4: the same for a user without a factor: enrolment in the flow, then acr mfa', async (t) => {
  const { app, browser, webAuth } = await passwordSession(t)
  const { url, verifier } = webRequest({ acr_values: ACR_MFA })
  const sent = await browser.get(url)
  t.equal(returnToOf(sent.headers.location, '/login/enroll'), url, 'no factor: enrolment, coming back to this request')
  const intro = await browser.get(sent.headers.location as string)
  t.equal(intro.statusCode, 200)
  const started = await browser.post('/login/enroll', { csrf: field(intro.body, 'csrf'), return_to: field(intro.body, 'return_to') })
  t.equal(started.statusCode, 200)
  const secret = new URL(attr(started.body, 'data-otpauth-uri')[0]!).searchParams.get('secret')!
  const done = await browser.post('/login/enroll/confirm', { csrf: field(intro.body, 'csrf'), return_to: url, factor_id: field(started.body, 'factor_id'), code: codeNow(app, secret) })
  t.equal(done.statusCode, 200, 'the recovery codes, once')
  const onward = attr(done.body, 'href').find((h) => h.startsWith('/authorize'))
  t.equal(onward, url, 'a link on to the request')
  const code = callbackParams(await browser.get(onward as string)).get('code')
  t.ok(code, 'a code now')
  const claims = decodeJwt((await exchange(app, { code: code as string, code_verifier: verifier }, webAuth)).json().id_token)
  t.match(claims, { acr: ACR_MFA, amr: ['pwd', 'otp', 'mfa'] })
})

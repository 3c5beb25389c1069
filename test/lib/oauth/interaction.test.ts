import t from 'tap'
import { checkAuthorizationRequest, type AuthorizationRequest } from '../../../lib/oauth/authorize.js'
import { consentPrompt, defaultPolicy, loginPrompt, mfaPrompt, nextStep, type InteractionInput, type Policy, type SignedIn } from '../../../lib/oauth/interaction.js'
import { ACR_MFA, ACR_PWD } from '../../../lib/mfa/assurance.js'
import type { Client, Consent, User } from '../../../lib/stores/types.js'
import { clientRecord, userRecord } from '../../support/records.js'

// The interaction policy without an app: every check by name, prompt=none, `fresh`, and the order of prompts.

const NOW = 1_800_000_000
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'

/** A checked authorization request of `web` (`over` adds or replaces query parameters). */
function request (over: Record<string, string> = {}, clientOver: Partial<Client> = {}): AuthorizationRequest {
  const query = { response_type: 'code', client_id: 'web', scope: 'openid items:read', code_challenge: CHALLENGE, code_challenge_method: 'S256', state: 's', ...over }
  return checkAuthorizationRequest(query, { client: clientRecord(clientOver), redirectUri: 'https://app.test/cb', state: 's' })
}

const alice: User = userRecord()
/** Alice, signed in `ago` seconds before NOW. */
const signedIn = (ago = 10, user: User = alice, provider: string | null = null, amr: string[] = provider === null ? ['pwd'] : []): SignedIn =>
  ({ session: { idHash: 'h', userId: user.id, authTime: NOW - ago, createdAt: NOW - ago, expiresAt: NOW + 3600, credentialVersion: 0, provider, amr }, user })
/** Alice after a password and a code. */
const twoFactors = (ago = 10) => signedIn(ago, alice, null, ['pwd', 'otp', 'mfa'])
const consent = (scope: string): Consent => ({ userId: 'u-1', clientId: 'web', scope, createdAt: 0, updatedAt: 0 })

const step = (over: Partial<InteractionInput>) => nextStep({ authz: request(), signedIn: signedIn(), consent: consent('items:read openid'), now: NOW, mfa: 'optional', factors: 0, ...over })

t.test('signed in, consent covering the scopes: a code for exactly the scopes asked', async (t) => {
  t.same(step({}), { kind: 'code', scopes: ['openid', 'items:read'] })
  t.same(step({ authz: request({ scope: 'openid' }) }), { kind: 'code', scopes: ['openid'] }, 'a subset of what was allowed')
})

t.test('no scope asked: every scope the user holds, within the client\'s list', async (t) => {
  const authz = request({ scope: '' })
  t.same(step({ authz, consent: consent('items:read') }), { kind: 'code', scopes: ['items:read'] })
  const narrow = request({ scope: '' }, { scope: 'other' })
  t.same(step({ authz: narrow, consent: undefined }), { kind: 'consent', reason: 'no_consent', scopes: [] }, 'none of the user\'s scopes is the client\'s')
})

t.test('login checks, in order: no_session, prompt_login, max_age', async (t) => {
  t.same(step({ signedIn: undefined, consent: undefined }), { kind: 'login', reason: 'no_session', scopes: undefined })
  t.match(step({ authz: request({ prompt: 'login' }) }), { kind: 'login', reason: 'prompt_login' })
  t.match(step({ authz: request({ max_age: '9' }) }), { kind: 'login', reason: 'max_age' }, 'signed in 10 s ago, max_age 9')
  t.match(step({ authz: request({ max_age: '10' }) }), { kind: 'code' }, 'max_age 10: exactly on the limit is still fine')
  t.match(step({ authz: request({ max_age: '0' }), signedIn: signedIn(0) }), { kind: 'code' }, 'max_age=0 right after signing in')
  t.match(step({ authz: request({ prompt: 'login', max_age: '1' }) }), { reason: 'prompt_login' }, 'the first failing check names the reason')
})

t.test('sign_in_method: a client restricted to providers accepts only a session signed in through one of them', async (t) => {
  const corpOnly = (over: Record<string, string> = {}) => request(over, { providers: ['corp'] })
  t.same(step({ authz: corpOnly(), signedIn: signedIn(10, alice, null) }), { kind: 'login', reason: 'sign_in_method', scopes: ['openid', 'items:read'] }, 'the password form (the bare /login too): asked to sign in again')
  t.match(step({ authz: corpOnly(), signedIn: signedIn(10, alice, 'other') }), { kind: 'login', reason: 'sign_in_method' }, 'another provider: the same')
  t.match(step({ authz: corpOnly(), signedIn: signedIn(10, alice, 'corp') }), { kind: 'code' }, 'corp: accepted')
  t.match(step({ authz: request({}, { providers: ['gh', 'corp'] }), signedIn: signedIn(10, alice, 'corp') }), { kind: 'code' }, 'one of several')
  t.match(step({ authz: request({}, { providers: [] }), signedIn: signedIn(10, alice, 'corp') }), { kind: 'login', reason: 'sign_in_method' }, 'an empty list accepts nothing')
  t.match(step({ signedIn: signedIn(10, alice, 'other') }), { kind: 'code' }, 'an unrestricted client accepts any session')
  t.match(step({ signedIn: signedIn(10, alice, null) }), { kind: 'code' })
  t.same(step({ authz: corpOnly({ prompt: 'none' }), signedIn: signedIn(10, alice, null) }), { kind: 'refused', reason: 'sign_in_method', error: 'login_required', description: 'the user is not signed in' }, 'prompt=none: login_required')
  t.match(step({ authz: corpOnly(), signedIn: signedIn(10, alice, null), fresh: { login: true } }), { kind: 'login', reason: 'sign_in_method' }, 'a fresh sign-in of the wrong kind is not one')
})

t.test('id_token_hint: another user signed in needs a sign-in (login_required under prompt=none); whoever signs in then is the answer', async (t) => {
  const hinted = (over: Record<string, string> = {}) => ({ ...request(over), idTokenHint: { sub: 'u-2' } })
  const bob: User = userRecord({ id: 'u-2', username: 'bob' })
  t.match(step({ authz: hinted(), signedIn: signedIn(10, bob) }), { kind: 'code' }, 'the hinted user is signed in')
  t.same(step({ authz: hinted() }), { kind: 'login', reason: 'id_token_hint', scopes: ['openid', 'items:read'] }, 'alice is signed in, the hint names bob')
  t.same(step({ authz: hinted({ prompt: 'none' }) }), { kind: 'refused', reason: 'id_token_hint', error: 'login_required', description: 'the signed-in user is not the one id_token_hint names' })
  t.match(step({ authz: hinted({ prompt: 'none' }), signedIn: signedIn(10, bob) }), { kind: 'code' }, 'prompt=none with the hinted user: a code')
  t.match(step({ authz: hinted({ prompt: 'none' }), signedIn: undefined, consent: undefined }), { kind: 'refused', reason: 'no_session', error: 'login_required', description: 'the user is not signed in' })
  t.match(step({ authz: hinted(), fresh: { login: true } }), { kind: 'code' }, 'alice just signed in on the login page the hint led to')
})

t.test('fresh.login answers prompt=login, not max_age', async (t) => {
  t.match(step({ authz: request({ prompt: 'login' }), fresh: { login: true } }), { kind: 'code' })
  t.match(step({ authz: request({ max_age: '5' }), fresh: { login: true } }), { kind: 'login', reason: 'max_age' }, 'a session too old is still too old')
})

t.test('consent checks, in order: no_consent, prompt_consent, scopes_missing', async (t) => {
  t.same(step({ consent: undefined }), { kind: 'consent', reason: 'no_consent', scopes: ['openid', 'items:read'] })
  t.match(step({ authz: request({ prompt: 'consent' }) }), { kind: 'consent', reason: 'prompt_consent' })
  t.same(step({ consent: consent('openid') }), { kind: 'consent', reason: 'scopes_missing', scopes: ['openid', 'items:read'] })
})

t.test('a skip-consent client and a fresh consent skip the consent checks, not the scope check', async (t) => {
  t.match(step({ consent: undefined, authz: request({ prompt: 'consent' }, { skipConsent: true }) }), { kind: 'code' }, 'skip-consent')
  t.match(step({ consent: undefined, authz: request({ prompt: 'consent' }), fresh: { consent: true } }), { kind: 'code' }, 'the consent form was just posted')
  const admin = request({ scope: 'openid admin' }, { skipConsent: true })
  t.same(step({ authz: admin }), { kind: 'refused', reason: 'scope_not_held', error: 'invalid_scope', description: 'scope not allowed: admin' })
  t.match(step({ authz: request({ scope: 'admin' }), fresh: { consent: true } }), { kind: 'refused', error: 'invalid_scope' })
})

t.test('scope_not_held refuses whatever prompt says, OIDC scopes are never held back', async (t) => {
  t.match(step({ authz: request({ scope: 'items:write', prompt: 'none' }) }), { kind: 'refused', error: 'invalid_scope', reason: 'scope_not_held' })
  t.match(step({ authz: request({ scope: 'openid profile email' }), consent: consent('openid profile email') }), { kind: 'code', scopes: ['openid', 'profile', 'email'] })
  t.match(step({ authz: request({ scope: 'items:write' }), signedIn: undefined }), { kind: 'login', reason: 'no_session' }, 'nobody signed in: the login page comes first')
})

t.test('prompt=none: the first failing check becomes its prompt\'s error', async (t) => {
  const none = (over: Record<string, string> = {}) => request({ prompt: 'none', ...over })
  t.same(step({ authz: none(), signedIn: undefined }), { kind: 'refused', reason: 'no_session', error: 'login_required', description: 'the user is not signed in' })
  t.match(step({ authz: none({ max_age: '1' }) }), { kind: 'refused', reason: 'max_age', error: 'login_required' })
  t.same(step({ authz: none(), consent: undefined }), { kind: 'refused', reason: 'no_consent', error: 'consent_required', description: 'the user has not allowed this client these scopes' })
  t.match(step({ authz: none(), consent: consent('openid') }), { kind: 'refused', reason: 'scopes_missing', error: 'consent_required' })
  t.same(step({ authz: none() }), { kind: 'code', scopes: ['openid', 'items:read'] }, 'nothing to show: a code')
})

t.test('the policy is data: a prompt added is asked in its place, without touching the others', async (t) => {
  t.same(defaultPolicy.map((p) => p.name), ['login', 'mfa', 'consent'])
  t.same(mfaPrompt.checks.map((c) => c.name), ['mfa_required_setting', 'client_requires_mfa', 'acr_values', 'user_has_factor'])
  t.same(loginPrompt.checks.map((c) => c.name), ['no_session', 'sign_in_method', 'prompt_login', 'max_age', 'id_token_hint'])
  t.same(consentPrompt.checks.map((c) => c.name), ['scope_not_held', 'registered_client', 'no_consent', 'prompt_consent', 'scopes_missing'])
  for (const check of [...loginPrompt.checks, ...mfaPrompt.checks, ...consentPrompt.checks]) t.ok(check.description.length > 10, `${check.name} is described`)
  // A stand-in second factor, asked after sign-in and before consent (a real one would be its own PromptName).
  const secondFactor = { name: 'login' as const, whenNone: { error: 'login_required' as const, description: 'no second factor' }, checks: [{ name: 'no_second_factor', description: 'the session has no second factor', fails: () => true }] }
  const policy: Policy = [loginPrompt, secondFactor, consentPrompt]
  t.match(nextStep({ authz: request(), signedIn: signedIn(), consent: undefined, now: NOW, mfa: 'optional', factors: 0 }, policy), { kind: 'login', reason: 'no_second_factor' })
  t.match(nextStep({ authz: request(), signedIn: undefined, consent: undefined, now: NOW, mfa: 'optional', factors: 0 }, policy), { reason: 'no_session' }, 'sign-in still first')
})

t.test('mfa: each reason to want two factors is its own check, passed by a session whose amr shows two', async (t) => {
  t.same(step({ mfa: 'required' }), { kind: 'mfa', reason: 'mfa_required_setting', scopes: ['openid', 'items:read'] }, 'MFA=required, a password-only session')
  t.same(step({ authz: request({}, { requireMfa: true }) }), { kind: 'mfa', reason: 'client_requires_mfa', scopes: ['openid', 'items:read'] }, 'a --require-mfa client')
  t.same(step({ authz: request({ acr_values: ACR_MFA }) }), { kind: 'mfa', reason: 'acr_values', scopes: ['openid', 'items:read'] }, 'acr_values asks for mfa')
  t.same(step({ factors: 1 }), { kind: 'mfa', reason: 'user_has_factor', scopes: ['openid', 'items:read'] }, 'the user enrolled a factor')
  t.match(step({ mfa: 'required', authz: request({ acr_values: ACR_MFA }, { requireMfa: true }), factors: 2 }), { kind: 'mfa', reason: 'mfa_required_setting' }, 'the first failing check names the reason')

  for (const [name, over] of [
    ['MFA=required', { mfa: 'required' }],
    ['--require-mfa', { authz: request({}, { requireMfa: true }) }],
    ['acr_values', { authz: request({ acr_values: ACR_MFA }) }],
    ['a factor', { factors: 1 }]
  ] as Array<[string, Partial<InteractionInput>]>) {
    t.same(step({ ...over, signedIn: twoFactors() }), { kind: 'code', scopes: ['openid', 'items:read'] }, `${name}: two factors used, a code`)
  }
  t.same(step({ signedIn: signedIn(10, alice, null, ['hwk', 'user', 'mfa']), factors: 1, mfa: 'required' }), { kind: 'code', scopes: ['openid', 'items:read'] }, 'a passkey with user verification is two factors')
})

t.test('mfa: nothing asks for it, nothing happens (MFA=optional, no flag, no acr_values, no factor)', async (t) => {
  t.same(step({}), { kind: 'code', scopes: ['openid', 'items:read'] })
  t.same(step({ authz: request({ acr_values: ACR_PWD }) }), { kind: 'code', scopes: ['openid', 'items:read'] }, 'acr_values naming only the one-factor class')
  t.same(step({ authz: request({ acr_values: 'urn:other:gold' }) }), { kind: 'code', scopes: ['openid', 'items:read'] }, 'an unknown class is ignored (OIDC Core: voluntary)')
  t.match(step({ authz: request({ acr_values: `urn:other:gold ${ACR_MFA}` }) }), { kind: 'mfa', reason: 'acr_values' }, 'among others, the mfa class counts')
  t.match(step({ authz: request({ acr_values: 'urn:gatehouse:acr:mfa2' }) }), { kind: 'code' }, 'a value that only starts like it does not')
  t.match(step({ authz: request({ acr_values: `${ACR_PWD} ${ACR_MFA}` }) }), { kind: 'code' }, 'one factor listed too: acceptable (what OpenID conformance sends)')
  t.match(step({ authz: request({ acr_values: `${ACR_PWD} ${ACR_MFA}` }), factors: 1 }), { kind: 'mfa', reason: 'user_has_factor' }, 'a user with a factor is asked anyway')
})

t.test('mfa: after sign-in, before consent and before the scope check', async (t) => {
  t.match(step({ signedIn: undefined, consent: undefined, mfa: 'required' }), { kind: 'login', reason: 'no_session' }, 'nobody signed in: the login page first')
  t.match(step({ mfa: 'required', authz: request({ max_age: '1' }) }), { kind: 'login', reason: 'max_age' }, 'a sign-in too old: sign in again first')
  t.match(step({ mfa: 'required', consent: undefined }), { kind: 'mfa', reason: 'mfa_required_setting' }, 'no consent yet: the second factor first')
  t.match(step({ factors: 1, authz: request({ scope: 'openid admin' }) }), { kind: 'mfa', reason: 'user_has_factor' }, 'the scope refusal waits for the second factor (nothing said about the user before it)')
  t.match(step({ factors: 1, fresh: { login: true, consent: true } }), { kind: 'mfa', reason: 'user_has_factor' }, 'a fresh login or consent form is not a second factor (a direct POST to /consent)')
  t.match(step({ signedIn: twoFactors(), mfa: 'required', consent: undefined }), { kind: 'consent', reason: 'no_consent' }, 'two factors, no consent: the consent page')
})

t.test('mfa: an upstream sign-in counts as one factor unless the provider reported mfa', async (t) => {
  t.match(step({ signedIn: signedIn(10, alice, 'corp', ['fed']), factors: 1 }), { kind: 'mfa', reason: 'user_has_factor' }, 'a factor enrolled here is asked after an upstream sign-in too')
  t.match(step({ signedIn: signedIn(10, alice, 'corp', ['fed', 'mfa']), factors: 1, mfa: 'required' }), { kind: 'code' }, 'the provider did two factors')
  t.match(step({ signedIn: signedIn(10, alice, 'corp', []), mfa: 'required' }), { kind: 'mfa', reason: 'mfa_required_setting' }, 'no amr at all: one factor')
})

t.test('mfa under prompt=none: interaction_required, for every check', async (t) => {
  const refusal = { kind: 'refused', error: 'interaction_required', description: 'a second factor is required' }
  t.same(step({ authz: request({ prompt: 'none' }), mfa: 'required' }), { ...refusal, reason: 'mfa_required_setting' })
  t.same(step({ authz: request({ prompt: 'none' }, { requireMfa: true }) }), { ...refusal, reason: 'client_requires_mfa' })
  t.same(step({ authz: request({ prompt: 'none', acr_values: ACR_MFA }) }), { ...refusal, reason: 'acr_values' })
  t.same(step({ authz: request({ prompt: 'none' }), factors: 1 }), { ...refusal, reason: 'user_has_factor' })
  t.same(step({ authz: request({ prompt: 'none', acr_values: ACR_MFA }, { requireMfa: true }), signedIn: twoFactors(), factors: 1, mfa: 'required' }), { kind: 'code', scopes: ['openid', 'items:read'] }, 'two factors used: a code, silently')
  t.match(step({ authz: request({ prompt: 'none' }), signedIn: undefined, consent: undefined, mfa: 'required' }), { error: 'login_required' }, 'nobody signed in is still login_required')
})

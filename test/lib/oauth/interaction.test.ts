import t from 'tap'
import { checkAuthorizationRequest, type AuthorizationRequest } from '../../../lib/oauth/authorize.js'
import { consentPrompt, defaultPolicy, loginPrompt, nextStep, type InteractionInput, type Policy, type SignedIn } from '../../../lib/oauth/interaction.js'
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
const signedIn = (ago = 10, user: User = alice, provider: string | null = null): SignedIn =>
  ({ session: { idHash: 'h', userId: user.id, authTime: NOW - ago, createdAt: NOW - ago, expiresAt: NOW + 3600, credentialVersion: 0, provider, amr: provider === null ? ['pwd'] : [] }, user })
const consent = (scope: string): Consent => ({ userId: 'u-1', clientId: 'web', scope, createdAt: 0, updatedAt: 0 })

const step = (over: Partial<InteractionInput>) => nextStep({ authz: request(), signedIn: signedIn(), consent: consent('items:read openid'), now: NOW, ...over })

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
  t.same(defaultPolicy.map((p) => p.name), ['login', 'consent'])
  t.same(loginPrompt.checks.map((c) => c.name), ['no_session', 'sign_in_method', 'prompt_login', 'max_age', 'id_token_hint'])
  t.same(consentPrompt.checks.map((c) => c.name), ['scope_not_held', 'no_consent', 'prompt_consent', 'scopes_missing'])
  for (const check of [...loginPrompt.checks, ...consentPrompt.checks]) t.ok(check.description.length > 10, `${check.name} is described`)
  // A stand-in second factor, asked after sign-in and before consent (a real one would be its own PromptName).
  const secondFactor = { name: 'login' as const, whenNone: { error: 'login_required' as const, description: 'no second factor' }, checks: [{ name: 'no_second_factor', description: 'the session has no second factor', fails: () => true }] }
  const policy: Policy = [loginPrompt, secondFactor, consentPrompt]
  t.match(nextStep({ authz: request(), signedIn: signedIn(), consent: undefined, now: NOW }, policy), { kind: 'login', reason: 'no_second_factor' })
  t.match(nextStep({ authz: request(), signedIn: undefined, consent: undefined, now: NOW }, policy), { reason: 'no_session' }, 'sign-in still first')
})

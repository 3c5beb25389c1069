import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { secretBox } from '../../../lib/credentials/secret-box.js'
import { ACR_MFA, ACR_PWD } from '../../../lib/mfa/assurance.js'
import { admission, authorizationPath, consoleReturnTo, openSignIn, sealSignIn, stateMatches, type ConsoleSignIn } from '../../../lib/console/sign-in.js'

const box = secretBox(randomBytes(32))
const signIn: ConsoleSignIn = { state: 's'.repeat(43), nonce: 'n'.repeat(43), codeVerifier: 'v'.repeat(43), returnTo: '/console/users', mfa: false, expiresAt: 1000 }

t.test('the sealed sign-in opens here until it expires; altered, foreign or other-purpose text does not', async (t) => {
  const sealed = sealSignIn(box, signIn)
  t.same(openSignIn(box, sealed, 999), signIn)
  t.equal(openSignIn(box, sealed, 1000), undefined, 'expired at expiresAt')
  t.equal(openSignIn(secretBox(randomBytes(32)), sealed, 0), undefined, 'another key')
  t.equal(openSignIn(box, sealed.slice(0, -2) + (sealed.endsWith('AA') ? 'BB' : 'AA'), 0), undefined, 'altered')
  t.equal(openSignIn(box, box.seal('["a"]', 'gatehouse/password-step/v1'), 0), undefined, 'another purpose')
  t.equal(openSignIn(box, undefined, 0), undefined)
  t.equal(openSignIn(box, 'x'.repeat(5000), 0), undefined)
})

t.test('state: compared whole', async (t) => {
  t.ok(stateMatches(signIn, 's'.repeat(43)))
  for (const other of ['s'.repeat(42), 'S'.repeat(43), undefined, ['s'.repeat(43)]]) t.notOk(stateMatches(signIn, other))
})

t.test('the authorization request: the console client, PKCE S256, acr_values only when two factors are required', async (t) => {
  const url = new URL(authorizationPath('https://id.example', signIn), 'https://id.example')
  t.equal(url.pathname, '/authorize')
  t.equal(url.searchParams.get('redirect_uri'), 'https://id.example/console/callback')
  t.equal(url.searchParams.get('code_challenge'), createHash('sha256').update(signIn.codeVerifier).digest('base64url'))
  t.equal(url.searchParams.get('code_challenge_method'), 'S256')
  t.notOk(url.searchParams.has('acr_values'))
  t.equal(new URL(authorizationPath('https://id.example', { ...signIn, mfa: true }), 'https://id.example').searchParams.get('acr_values'), ACR_MFA)
})

t.test('where the callback returns: console paths only', async (t) => {
  for (const ok of ['/console', '/console/users', '/console/users/alice?done=x', '/console/users?limit=5&offset=10']) t.equal(consoleReturnTo(ok), ok)
  for (const bad of ['/account', '//evil.example/console', '/console//evil', '/console/../admin', 'https://evil.example/console', '/consolex', 42, undefined]) t.equal(consoleReturnTo(bad), '/console', String(bad))
})

t.test('admission: the nonce, the user as now, admin held and granted, two factors when the user has one or they are required', async (t) => {
  const user = { id: 'u1', scope: 'admin items:read', disabled: false }
  const base = { idToken: { sub: 'u1', nonce: signIn.nonce, acr: ACR_PWD }, grantedScope: 'openid admin', user, factors: 0, signIn }
  t.same(admission(base), { outcome: 'admitted' })
  t.same(admission({ ...base, idToken: { ...base.idToken, nonce: 'other' } }), { outcome: 'refused', reason: 'nonce' })
  t.same(admission({ ...base, user: undefined }), { outcome: 'refused', reason: 'disabled' })
  t.same(admission({ ...base, user: { ...user, disabled: true } }), { outcome: 'refused', reason: 'disabled' })
  t.same(admission({ ...base, idToken: { ...base.idToken, sub: 'u2' } }), { outcome: 'refused', reason: 'disabled' })
  t.same(admission({ ...base, grantedScope: 'openid' }), { outcome: 'refused', reason: 'not_admin' })
  t.same(admission({ ...base, user: { ...user, scope: 'items:read' } }), { outcome: 'refused', reason: 'not_admin' })
  t.same(admission({ ...base, factors: 1 }), { outcome: 'refused', reason: 'mfa_required' })
  t.same(admission({ ...base, signIn: { ...signIn, mfa: true } }), { outcome: 'refused', reason: 'mfa_required' })
  t.same(admission({ ...base, factors: 1, idToken: { ...base.idToken, acr: ACR_MFA } }), { outcome: 'admitted' })
})

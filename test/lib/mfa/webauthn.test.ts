import t, { type Test } from 'tap'
import { finishAssertion, finishRegistration, passkeysOf, removePasskey, startRegistration, startSecondFactor, startSignIn, type PasskeyDeps } from '../../../lib/mfa/passkeys.js'
import {
  CHALLENGE_TTL_SECONDS, DEFAULT_PASSKEY_NAME, PASSKEY_NAME_MAX, parseResponse, passkeyAmr, passkeyLimits, passkeyName, passkeySignInAmr,
  relyingParty, signedInWithPasskey
} from '../../../lib/mfa/webauthn.js'
import { MAX_FACTORS_PER_USER } from '../../../lib/limits/table-bounds.js'
import { openStorage } from '../../../lib/stores/index.js'
import type { User } from '../../../lib/stores/types.js'
import { manualClock, tempDatabaseUrl } from '../../support/helper.js'
import { SoftAuthenticator } from '../../support/webauthn.js'

// The passkey rules against a real SQLite store and a software authenticator (real ES256 signatures, real CBOR), with
// @simplewebauthn/server doing the verification: no app. The attack cases through the pages are test/security/q-passkeys.test.ts.

const ISSUER = 'https://id.example.test'
const rp = relyingParty(ISSUER, 'Example ID')

t.test('the relying party is the issuer: its host name as the RP ID, its origin as the only origin', async (t) => {
  t.same(relyingParty('https://id.example.test/tenant', 'X'), { id: 'id.example.test', origin: 'https://id.example.test', name: 'X' })
  t.same(relyingParty('http://localhost:8080', 'X'), { id: 'localhost', origin: 'http://localhost:8080', name: 'X' })
})

t.test('amr: a device-bound passkey is hwk, a synced one swk; a passkey sign-in is two factors by itself', async (t) => {
  t.equal(passkeyAmr('singleDevice'), 'hwk')
  t.equal(passkeyAmr('multiDevice'), 'swk')
  t.equal(passkeyAmr(undefined), 'hwk')
  t.same(passkeySignInAmr('hwk'), ['hwk', 'user', 'mfa'])
  t.same(passkeySignInAmr('swk'), ['swk', 'user', 'mfa'])
  t.ok(signedInWithPasskey(['hwk', 'user', 'mfa']))
  t.notOk(signedInWithPasskey(['pwd', 'hwk', 'mfa']), 'a password with a passkey as second factor is a password sign-in')
  t.notOk(signedInWithPasskey(['pwd']))
})

t.test('names: trimmed, cut, a default when empty', async (t) => {
  t.equal(passkeyName('  My   laptop '), 'My laptop')
  t.equal(passkeyName(''), DEFAULT_PASSKEY_NAME)
  t.equal(passkeyName(undefined), DEFAULT_PASSKEY_NAME)
  t.equal(passkeyName('Lap\u202etop\u0000'), 'Laptop', 'no control or format characters (a bidi override would disguise the name)')
  t.equal(passkeyName('x'.repeat(100)).length, PASSKEY_NAME_MAX)
})

t.test('responses: only JSON of a WebAuthn credential\'s shape is read', async (t) => {
  t.equal(parseResponse('not json'), undefined)
  t.equal(parseResponse('null'), undefined)
  t.equal(parseResponse(JSON.stringify({ id: 'a', rawId: 'a', type: 'password', response: { clientDataJSON: 'x' } })), undefined)
  t.equal(parseResponse(JSON.stringify({ id: 'a', rawId: 'a', type: 'public-key', response: {} })), undefined)
  t.equal(parseResponse(`"${'x'.repeat(40_000)}"`), undefined, 'too long')
  t.equal(parseResponse(42), undefined)
  t.ok(parseResponse(JSON.stringify({ id: 'a', rawId: 'a', type: 'public-key', response: { clientDataJSON: 'x' } })))
})

t.test('the ceremony limit is per address, by digest', async (t) => {
  const [limit] = passkeyLimits('203.0.113.7')
  t.notMatch(limit!.key, /203/)
  t.not(limit!.key, passkeyLimits('203.0.113.8')[0]!.key)
})

async function setup (t: Test) {
  const storage = await openStorage(tempDatabaseUrl(t))
  t.teardown(() => storage.close())
  const clock = manualClock(1_800_000_000)
  const deps: PasskeyDeps = { storage, clock, rp }
  const alice = await storage.users.create({ username: 'alice', passwordHash: null })
  const bob = await storage.users.create({ username: 'bob', passwordHash: null })
  return { storage, clock, deps, alice, bob }
}

/** Registers a new software passkey for `user` through the ceremony. */
async function register (deps: PasskeyDeps, user: User, authenticator = new SoftAuthenticator(rp.id, rp.origin), name = 'Laptop') {
  const options = await startRegistration(deps, user, 'browser')
  const done = await finishRegistration(deps, user, { response: JSON.stringify(authenticator.register(options)), name, binding: 'browser' })
  return { authenticator, done, options }
}

t.test('registration: user verification and a discoverable credential required; stored as a confirmed passkey factor', async (t) => {
  const { deps, storage, alice } = await setup(t)
  const { done, options } = await register(deps, alice)
  t.match(options, { rp: { id: 'id.example.test', name: 'Example ID' }, user: { name: 'alice' }, timeout: CHALLENGE_TTL_SECONDS * 1000 })
  t.match(options.authenticatorSelection, { residentKey: 'required', requireResidentKey: true, userVerification: 'required' })
  t.equal(done.outcome, 'registered')
  const [factor] = await passkeysOf(storage, alice.id)
  t.match(factor, { kind: 'passkey', name: 'Laptop', counter: 0, confirmedAt: 1_800_000_000, data: { transports: ['internal'], deviceType: 'singleDevice', backedUp: false } })
  t.equal(await storage.factors.countConfirmed(alice.id), 1, 'it counts as a second factor at once')
  const again = await startRegistration(deps, alice, 'browser')
  t.same(again.excludeCredentials?.map((c) => c.id), [factor!.credentialId], 'the same authenticator is not offered again')
})

t.test('registration refused: no user verification, another origin, another RP ID, the challenge of another browser or user, twice', async (t) => {
  const { deps, storage, alice, bob } = await setup(t)
  const attempt = async (over: Parameters<SoftAuthenticator['register']>[1], binding = 'browser', user = alice, as = alice) => {
    const options = await startRegistration(deps, as, 'browser')
    return finishRegistration(deps, user, { response: JSON.stringify(new SoftAuthenticator(rp.id, rp.origin).register(options, over)), name: '', binding })
  }
  t.match(await attempt({ userVerified: false }), { outcome: 'refused', reason: 'invalid' })
  t.match(await attempt({ origin: 'https://evil.test' }), { outcome: 'refused', reason: 'invalid' })
  t.match(await attempt({ rpId: 'evil.test' }), { outcome: 'refused', reason: 'invalid' })
  t.match(await attempt({}, 'another browser'), { outcome: 'refused', reason: 'challenge' })
  t.match(await attempt({}, 'browser', alice, bob), { outcome: 'refused', reason: 'challenge' }, 'bob\'s challenge does not register for alice')
  const options = await startRegistration(deps, alice, 'browser')
  const response = JSON.stringify(new SoftAuthenticator(rp.id, rp.origin).register(options))
  t.match(await finishRegistration(deps, alice, { response, name: '', binding: 'browser' }), { outcome: 'registered', factor: { name: DEFAULT_PASSKEY_NAME } })
  t.match(await finishRegistration(deps, alice, { response, name: '', binding: 'browser' }), { outcome: 'refused', reason: 'challenge' }, 'the same response again')
  t.match(await finishRegistration(deps, alice, { response: 'garbage', name: '', binding: 'browser' }), { outcome: 'refused', reason: 'malformed' })
  t.equal((await passkeysOf(storage, alice.id)).length, 1)
})

t.test('registration: at most MAX_FACTORS_PER_USER factors', async (t) => {
  const { deps, storage, alice } = await setup(t)
  for (let i = 0; i < MAX_FACTORS_PER_USER; i++) t.equal((await register(deps, alice)).done.outcome, 'registered')
  t.match((await register(deps, alice)).done, { outcome: 'refused', reason: 'too_many' })
  t.equal((await storage.factors.list(alice.id)).length, MAX_FACTORS_PER_USER)
})

t.test('sign-in: any user\'s discoverable passkey; the counter moves on; a replay, a counter going back, a disabled user refused', async (t) => {
  const { deps, storage, clock, alice } = await setup(t)
  const { authenticator } = await register(deps, alice)
  const signIn = async (over: Parameters<SoftAuthenticator['assert']>[1] = {}, binding = 'browser') => {
    const options = await startSignIn(deps, 'browser')
    t.equal(options.allowCredentials?.length ?? 0, 0, 'no username: any passkey of this site')
    t.equal(options.userVerification, 'required')
    const response = JSON.stringify(authenticator.assert(options.challenge, over))
    return { response, result: await finishAssertion(deps, { response, binding, userId: null }) }
  }
  const first = await signIn()
  t.match(first.result, { outcome: 'verified', user: { id: alice.id }, amr: 'hwk' })
  t.match((await passkeysOf(storage, alice.id))[0], { counter: 1, lastUsedAt: clock.now() })
  t.match(await finishAssertion(deps, { response: first.response, binding: 'browser', userId: null }), { outcome: 'refused', reason: 'challenge' }, 'replayed')
  t.match((await signIn({ counter: 1 })).result, { outcome: 'refused', reason: 'counter' }, 'the counter did not move')
  t.match((await signIn({ userVerified: false })).result, { outcome: 'refused', reason: 'invalid' }, 'no user verification')
  t.match((await signIn({}, 'another browser')).result, { outcome: 'refused', reason: 'challenge' })
  t.match((await signIn({ userHandle: Buffer.from('someone else').toString('base64url') })).result, { outcome: 'refused', reason: 'user_handle' })
  await storage.users.update('alice', { disabled: true })
  t.match((await signIn()).result, { outcome: 'refused', reason: 'disabled' })
})

t.test('a challenge lasts CHALLENGE_TTL_SECONDS', async (t) => {
  const { deps, clock, alice } = await setup(t)
  const { authenticator } = await register(deps, alice)
  const options = await startSignIn(deps, 'browser')
  clock.advance(CHALLENGE_TTL_SECONDS)
  t.match(await finishAssertion(deps, { response: JSON.stringify(authenticator.assert(options.challenge)), binding: 'browser', userId: null }), { outcome: 'refused', reason: 'challenge' })
})

t.test('a synced passkey signs in as swk', async (t) => {
  const { deps, alice } = await setup(t)
  const { authenticator } = await register(deps, alice, new SoftAuthenticator(rp.id, rp.origin, true))
  const options = await startSignIn(deps, 'browser')
  t.match(await finishAssertion(deps, { response: JSON.stringify(authenticator.assert(options.challenge)), binding: 'browser', userId: null }), { outcome: 'verified', amr: 'swk' })
})

t.test('second factor: only the user\'s own passkeys, with a challenge issued for them', async (t) => {
  const { deps, alice, bob } = await setup(t)
  const mine = (await register(deps, alice)).authenticator
  const theirs = (await register(deps, bob)).authenticator
  const options = await startSecondFactor(deps, alice.id, 'browser')
  t.same(options.allowCredentials?.map((c) => c.id), [mine.id])
  t.match(await finishAssertion(deps, { response: JSON.stringify(theirs.assert(options.challenge)), binding: 'browser', userId: alice.id }), { outcome: 'refused', reason: 'unknown_credential' }, 'bob\'s passkey for alice')
  const signInChallenge = await startSignIn(deps, 'browser')
  t.match(await finishAssertion(deps, { response: JSON.stringify(mine.assert(signInChallenge.challenge)), binding: 'browser', userId: alice.id }), { outcome: 'refused', reason: 'challenge' }, 'a sign-in challenge is no second-factor challenge')
  const registration = await startRegistration(deps, alice, 'browser')
  t.match(await finishAssertion(deps, { response: JSON.stringify(mine.assert(registration.challenge)), binding: 'browser', userId: alice.id }), { outcome: 'refused', reason: 'challenge' }, 'nor is her own registration challenge')
  const fresh = await startSecondFactor(deps, alice.id, 'browser')
  t.match(await finishAssertion(deps, { response: JSON.stringify(mine.assert(fresh.challenge)), binding: 'browser', userId: alice.id }), { outcome: 'verified', user: { id: alice.id } })
})

t.test('removal: the user\'s own passkeys only', async (t) => {
  const { deps, storage, alice, bob } = await setup(t)
  await register(deps, alice)
  const [factor] = await passkeysOf(storage, alice.id)
  await storage.factors.replaceRecoveryCodes(alice.id, ['d1', 'd2'], 0)
  t.equal(await removePasskey(storage, bob.id, factor!.id, 0), false)
  t.equal(await storage.factors.recoveryCodesLeft(alice.id), 2, 'nothing removed: the recovery codes stay')
  t.equal(await removePasskey(storage, alice.id, factor!.id, 0), true)
  t.equal(await storage.factors.countConfirmed(alice.id), 0)
  t.equal(await storage.factors.recoveryCodesLeft(alice.id), 0, 'the last factor gone: its recovery codes with it, as for an app')
})

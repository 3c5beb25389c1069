import t from 'tap'
import { OAuthError } from '../../../lib/errors.js'
import { asTokenEndpointError, checkCodeBinding, checkRefreshBinding, familyBinding, requireProofFor } from '../../../lib/oauth/dpop-binding.js'
import { InvalidDpopProof } from '../../../lib/oauth/dpop-proof.js'
import { UseDpopNonce } from '../../../lib/oauth/dpop-nonces.js'
import { ProofReplayFull } from '../../../lib/oauth/dpop-replay.js'

const code = (err: unknown) => err instanceof OAuthError ? err.error : undefined
const refusal = (fn: () => void) => { try { fn(); return undefined } catch (err) { return code(err) } }

t.test('§5.2: a dpop_bound_access_tokens client needs a proof; others do not', async (t) => {
  t.equal(refusal(() => requireProofFor({ dpopBoundAccessTokens: true }, undefined)), 'invalid_dpop_proof')
  t.equal(refusal(() => requireProofFor({ dpopBoundAccessTokens: true }, 'jkt')), undefined)
  t.equal(refusal(() => requireProofFor({ dpopBoundAccessTokens: false }, undefined)), undefined)
})

t.test('§5: only a public client\'s family is bound, to the proof\'s key', async (t) => {
  t.equal(familyBinding({ isPublic: true }, 'jkt'), 'jkt')
  t.equal(familyBinding({ isPublic: true }, undefined), null)
  t.equal(familyBinding({ isPublic: false }, 'jkt'), null, 'a confidential client\'s family stays unbound')
  t.equal(familyBinding({}, 'jkt'), null)
})

t.test('a bound family or code needs a proof with that key; an unbound one takes any or none', async (t) => {
  for (const check of [checkRefreshBinding, checkCodeBinding]) {
    t.equal(refusal(() => check({ dpopJkt: 'a' }, 'a')), undefined)
    t.equal(refusal(() => check({ dpopJkt: 'a' }, 'b')), 'invalid_dpop_proof', 'another key')
    t.equal(refusal(() => check({ dpopJkt: 'a' }, undefined)), 'invalid_dpop_proof', 'no proof')
    t.equal(refusal(() => check({ dpopJkt: null }, undefined)), undefined)
    t.equal(refusal(() => check({}, 'b')), undefined)
  }
})

t.test('proof refusals as the token endpoint answers them', async (t) => {
  t.equal(code(asTokenEndpointError(new InvalidDpopProof('bad'))), 'invalid_dpop_proof')
  const nonce = asTokenEndpointError(new UseDpopNonce('n0nce')) as OAuthError
  t.equal(nonce.error, 'use_dpop_nonce')
  t.equal(nonce.statusCode, 400)
  t.equal(nonce.headers['dpop-nonce'], 'n0nce')
  const full = asTokenEndpointError(new ProofReplayFull(7)) as OAuthError
  t.equal(full.statusCode, 503)
  t.equal(full.headers['retry-after'], '7')
  const other = new Error('x')
  t.equal(asTokenEndpointError(other), other)
})

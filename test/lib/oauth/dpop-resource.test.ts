import t from 'tap'
import { BearerError, bearerChallenge, boundTokenAsBearer, invalidToken, resourceChallenge } from '../../../lib/errors.js'
import { bearerToken, dpopToken, usesDpopScheme } from '../../../lib/oauth/bearer.js'
import { acceptProof, asResourceRefusal, boundKeyOf, checkProofKey, proofTarget, refuseBoundAsBearer, replayKey } from '../../../lib/oauth/dpop-resource.js'
import { DPOP_SIGNING_ALGS, InvalidDpopProof, PROOF_JTI_LIFETIME_SECONDS, type DpopProof } from '../../../lib/oauth/dpop-proof.js'
import { MemoryProofReplay } from '../../../lib/oauth/dpop-replay.js'
import { dpopKey, dpopProof } from '../../support/dpop-resource.js'

// RFC 9449 §7 at a resource, the rules without an app: reading the DPoP scheme, the binding of token and proof, and
// the challenge every resource answers with (Gatehouse's own routes and the resource-server plugin).

const ALGS = DPOP_SIGNING_ALGS.join(' ')
const thrown = (f: () => unknown): BearerError => {
  try {
    f()
  } catch (err) {
    if (err instanceof BearerError) return err
    throw err
  }
  throw new Error('nothing thrown')
}

t.test('usesDpopScheme: the scheme word only, in any case, and never a Bearer header', async (t) => {
  t.ok(usesDpopScheme('DPoP abc'))
  t.ok(usesDpopScheme('dpop abc'))
  t.ok(usesDpopScheme('DPOP'), 'the word alone (then refused as malformed by dpopToken)')
  t.notOk(usesDpopScheme('Bearer abc'))
  t.notOk(usesDpopScheme('DPoPabc'), 'a longer word is another scheme')
  t.notOk(usesDpopScheme(undefined))
})

t.test('dpopToken reads `DPoP <b64token>`, refuses anything else with the DPoP challenge', async (t) => {
  t.equal(dpopToken('DPoP a.b-c_d~e+f/g=', undefined), 'a.b-c_d~e+f/g=')
  t.equal(dpopToken('dpop   tok  ', {}), 'tok', 'case-insensitive, spaces around')
  for (const header of ['DPoP', 'DPoP ', 'DPoP a b', 'DPoP a"b', 'DPoP ,x']) {
    const err = thrown(() => dpopToken(header, undefined))
    t.equal(err.code, 'invalid_token', `${JSON.stringify(header)}: invalid_token`)
    t.equal(err.scheme, 'DPoP', `${JSON.stringify(header)}: the DPoP scheme`)
  }
  const twice = thrown(() => dpopToken('DPoP tok', { access_token: 'tok' }))
  t.equal(twice.statusCode, 400, 'a token in the body as well: 400')
  t.equal(twice.code, 'invalid_request')
  t.equal(twice.scheme, 'DPoP')
  t.equal(thrown(() => bearerToken('DPoP tok', undefined)).code, undefined, 'bearerToken does not read the DPoP scheme (no bearer credentials)')
})

t.test('refuseBoundAsBearer: any cnf is a binding (§7.2); boundKeyOf: the DPoP scheme needs cnf.jkt (§7.1)', async (t) => {
  t.doesNotThrow(() => refuseBoundAsBearer({}))
  const err = thrown(() => refuseBoundAsBearer({ cnf: { jkt: 'k' } }))
  t.equal(err.code, 'invalid_token')
  t.equal(err.scheme, 'DPoP', 'the answer tells the client to use DPoP')
  t.equal(thrown(() => refuseBoundAsBearer({ cnf: { 'x5t#S256': 'c' } })).code, 'invalid_token', 'a binding of another kind is no bearer token either')

  t.equal(boundKeyOf({ cnf: { jkt: 'thumb' } }), 'thumb')
  for (const claims of [{}, { cnf: {} }, { cnf: { jkt: 7 } }]) {
    const unbound = thrown(() => boundKeyOf(claims as never))
    t.equal(unbound.code, 'invalid_token', `${JSON.stringify(claims)}: not bound`)
    t.equal(unbound.scheme, 'DPoP')
  }
})

t.test('checkProofKey: a proof must come, signed by the bound key', async (t) => {
  const proof: DpopProof = { jkt: 'mine', jti: 'j', iat: 1, nonce: undefined }
  t.doesNotThrow(() => checkProofKey('mine', proof))
  t.equal(thrown(() => checkProofKey('mine', undefined)).code, 'invalid_dpop_proof', 'no proof')
  t.equal(thrown(() => checkProofKey('theirs', proof)).code, 'invalid_token', 'another key: the binding fails (§7.1\'s "Invalid DPoP key binding")')
})

t.test('asResourceRefusal: a proof refusal becomes invalid_dpop_proof with its message; other errors pass', async (t) => {
  const err = asResourceRefusal(new InvalidDpopProof('the DPoP proof is too old (iat)')) as BearerError
  t.equal(err.code, 'invalid_dpop_proof')
  t.equal(err.statusCode, 401)
  t.equal(err.message, 'the DPoP proof is too old (iat)')
  const other = new Error('x')
  t.equal(asResourceRefusal(other), other)
})

t.test('proofTarget: the operator\'s base URL and the request\'s path, without query or fragment', async (t) => {
  t.equal(proofTarget('https://rs.example', '/orders?x=1'), 'https://rs.example/orders')
  t.equal(proofTarget('https://rs.example/', '/orders#f'), 'https://rs.example/orders')
  t.equal(proofTarget('https://rs.example/api', '/orders'), 'https://rs.example/api/orders')
})

t.test('acceptProof: none, one checked proof recorded once, never two headers', async (t) => {
  const replay = new MemoryProofReplay({ now: () => Math.floor(Date.now() / 1000), nowMs: () => Date.now() })
  const key = await dpopKey()
  const request = { method: 'GET', url: 'https://rs.example/orders', now: Math.floor(Date.now() / 1000), accessToken: 'tok' }
  t.equal(await acceptProof(undefined, request, replay), undefined, 'no header: no proof')
  const proof = await dpopProof(key, { htm: 'GET', htu: request.url, accessToken: 'tok' })
  t.equal((await acceptProof(proof, request, replay))?.jkt, key.jkt, 'the first use')
  await t.rejects(acceptProof(proof, request, replay), new InvalidDpopProof('the DPoP proof was used before (jti)'), 'the second')
  await t.rejects(acceptProof([proof, proof], request, replay), new InvalidDpopProof('the request has more than one DPoP proof'))
  await t.rejects(acceptProof(`${proof}, ${proof}`, request, replay), new InvalidDpopProof('the request has more than one DPoP proof'))
  const seen: Array<[string, number]> = []
  await acceptProof(await dpopProof(key, { htm: 'GET', htu: request.url, accessToken: 'tok', claims: { jti: 'j1' } }), request, { firstUse: async (k, ttl) => { seen.push([k, ttl]); return true } })
  t.same(seen, [[replayKey({ jkt: key.jkt, jti: 'j1' }), PROOF_JTI_LIFETIME_SECONDS]], 'a pluggable store gets a digest of the key\'s thumbprint and jti, for the proof\'s whole window')
  t.not(replayKey({ jkt: key.jkt, jti: 'j1' }), replayKey({ jkt: key.jkt, jti: 'j2' }), 'another jti, another entry')
  t.equal(replayKey({ jkt: key.jkt, jti: 'x'.repeat(256) }).length, 22, 'a long jti: the same small entry')
})

t.test('resourceChallenge: Bearer refusals as RFC 6750 says; DPoP ones with DPoP\'s challenge, Bearer\'s beside it where accepted', async (t) => {
  const bearerRefusal = { code: 'invalid_token' as const, description: 'bad', scheme: 'Bearer' as const }
  const dpopRefusal = { code: 'invalid_dpop_proof' as const, description: 'old', scheme: 'DPoP' as const }
  t.equal(resourceChallenge(bearerRefusal, { realm: 'r', dpop: 'allowed' }), bearerChallenge('r', 'invalid_token', 'bad'), 'Bearer, DPoP allowed: byte for byte the Bearer challenge')
  t.equal(resourceChallenge(bearerRefusal, { realm: 'r', dpop: 'off' }), 'Bearer realm="r", error="invalid_token", error_description="bad"')
  t.equal(resourceChallenge(dpopRefusal, { realm: 'r', dpop: 'allowed' }), `DPoP error="invalid_dpop_proof", error_description="old", algs="${ALGS}", Bearer realm="r"`)
  t.equal(resourceChallenge(dpopRefusal, { realm: 'r', dpop: 'required', resourceMetadata: 'https://rs/.well-known/oauth-protected-resource' }),
    `DPoP error="invalid_dpop_proof", error_description="old", algs="${ALGS}", resource_metadata="https://rs/.well-known/oauth-protected-resource"`, 'DPoP required: DPoP\'s alone')
  t.equal(resourceChallenge({ code: undefined, description: 'none', scheme: 'Bearer' }, { realm: 'r', dpop: 'required' }), `DPoP algs="${ALGS}"`, 'no token, DPoP required: §7.1\'s bare challenge')
  t.equal(resourceChallenge({ code: 'insufficient_scope', description: 'needs a', scope: 'a', scheme: 'DPoP' }, { realm: 'r', dpop: 'allowed', resourceMetadata: 'https://m' }),
    `DPoP error="insufficient_scope", error_description="needs a", scope="a", algs="${ALGS}", resource_metadata="https://m", Bearer realm="r", resource_metadata="https://m"`)
  t.equal(resourceChallenge({ ...dpopRefusal, description: 'a "quoted" \\ one' }, { realm: 'r', dpop: 'required' }), `DPoP error="invalid_dpop_proof", error_description="a quoted  one", algs="${ALGS}"`, 'quotes and backslashes never reach the header')

  t.equal(invalidToken().headers['www-authenticate'], 'Bearer realm="gatehouse", error="invalid_token", error_description="the access token is invalid, expired or revoked"', 'Gatehouse\'s Bearer refusals unchanged')
  t.equal(boundTokenAsBearer().headers['www-authenticate'], `DPoP error="invalid_token", error_description="${boundTokenAsBearer().message}", algs="${ALGS}", Bearer realm="gatehouse"`)
  t.equal(boundTokenAsBearer().statusCode, 401)
})

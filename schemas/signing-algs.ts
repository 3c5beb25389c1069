/**
 * The signing algorithms Gatehouse signs with, listed once. A module without TypeBox so that the resource-server
 * package (packages/resource-server), which names them through lib/oauth/access-token-rules.ts, loads nothing
 * else; schemas/vocabulary.ts re-exports them beside the other lists.
 */
export const SIGNING_ALGS = ['RS256', 'ES256'] as const
export type SigningAlg = typeof SIGNING_ALGS[number]

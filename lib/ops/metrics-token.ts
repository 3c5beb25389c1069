import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * Who may read /metrics: anyone when METRICS_TOKEN is unset; otherwise only a request whose `Authorization` is
 * `Bearer <METRICS_TOKEN>` (what Prometheus sends with `authorization: { credentials: … }` or
 * `bearer_token_file`). The exposition names clients (tokens issued by client id) and shows load, so a deployment
 * reachable from outside sets one. The comparison is in constant time: both sides are hashed to 32 bytes and
 * compared with timingSafeEqual, so neither the token's length nor its first differing character shows in the time.
 */
export type MetricsAccess = 'allowed' | 'no-token' | 'wrong-token'

/** RFC 6750 §2.1: `Bearer` (any case), one or more spaces, a b64token. */
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest()

export function metricsAccess (expected: string | undefined, authorization: string | undefined): MetricsAccess {
  if (expected === undefined) return 'allowed'
  const presented = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1]
  if (presented === undefined) return 'no-token'
  return timingSafeEqual(sha256(presented), sha256(expected)) ? 'allowed' : 'wrong-token'
}

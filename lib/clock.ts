/**
 * Time as Gatehouse reads it. Every "now" (token expiry, revocation windows, caches, counters, stored
 * timestamps) comes from one Clock, injected from the app's options, so a test can move time for all
 * of it at once instead of patching Date.now.
 */
export interface Clock {
  /** Unix seconds (what tokens and stores compare against). */
  now (): number
  /** Milliseconds since the epoch (caches and counting windows). */
  nowMs (): number
}

export const systemClock: Clock = {
  now: () => Math.floor(Date.now() / 1000),
  nowMs: () => Date.now()
}

/** At most this much clock skew is tolerated on exp/nbf (CONTRACT.md); key timing (lib/keys/signing-keys.ts) counts it too. */
export const CLOCK_LEEWAY_SECONDS = 10

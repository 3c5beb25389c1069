import { CLOCK_LEEWAY_SECONDS } from '../clock.js'

/*
 * Key timing: every rule about when a key is published, signs, retires and leaves the JWKS lives here.
 *
 *   publish  at the rotation (`createdAt`): every instance has it in its JWKS within KEYS_REFRESH_SECONDS
 *            (R), and a verifier's cached copy of a JWKS without it is gone JWKS_MAX_AGE (M) later.
 *   sign     from `activatesAt` = rotation + the agreed publish delay (D ≥ R + M + margin), exactly: each
 *            instance picks its signing key by the clock at signing time, not at its next reload.
 *   retire   when a later key (higher sequence) activates; its private part is deleted then.
 *   drop     once the last token it could have signed has expired: retirement + ACCESS_TOKEN_TTL + the
 *            10 s verification leeway + margin. Then it leaves the JWKS and the store.
 *
 * An instance that cannot reload its keys stops signing once its copy may be out of date (see
 * `trustedFor`), so no instance signs with a retired key after the rule above has dropped it.
 */

/** Slack for what the rules cannot measure: reload latency, late timers, rounding to whole seconds, clock skew between instances. */
export const KEY_TIMING_MARGIN_SECONDS = 2
/** The shortest JWKS cache lifetime the start accepts: below it, KEY_PUBLISH_DELAY_SECONDS is too short. */
export const MIN_JWKS_MAX_AGE_SECONDS = 1
/** The longest JWKS cache lifetime ever sent, however long the publish delay. */
export const MAX_JWKS_MAX_AGE_SECONDS = 60
/** An instance that has not renewed its heartbeat for this long no longer counts for the agreed publish delay. */
export const INSTANCE_STALE_SECONDS = 120

/** The settings the timing rules read (structural, so config.ts can import this file and this file nothing of config's). */
export interface KeyTimingSettings { keyPublishDelaySeconds: number, keysRefreshSeconds: number }

/**
 * The JWKS `Cache-Control` max-age: what is left of the publish delay once every instance has reloaded
 * (R) and the margin is taken off, at most 60 s. So a verifier that honours the header always has a new
 * key before the key signs.
 */
export function jwksMaxAge (config: KeyTimingSettings): number {
  return Math.min(MAX_JWKS_MAX_AGE_SECONDS, config.keyPublishDelaySeconds - config.keysRefreshSeconds - KEY_TIMING_MARGIN_SECONDS)
}

/** The shortest safe KEY_PUBLISH_DELAY_SECONDS: KEYS_REFRESH_SECONDS + the shortest JWKS cache lifetime + the margin. */
export function minimumPublishDelay (config: Pick<KeyTimingSettings, 'keysRefreshSeconds'>): number {
  return config.keysRefreshSeconds + MIN_JWKS_MAX_AGE_SECONDS + KEY_TIMING_MARGIN_SECONDS
}

/** Why these key settings are unsafe (naming both variables), or undefined when they are safe. */
export function keyTimingProblem (config: KeyTimingSettings): string | undefined {
  const minimum = minimumPublishDelay(config)
  if (config.keyPublishDelaySeconds >= minimum) return undefined
  return `KEY_PUBLISH_DELAY_SECONDS=${config.keyPublishDelaySeconds} is shorter than KEYS_REFRESH_SECONDS=${config.keysRefreshSeconds} ` +
    `plus the JWKS cache lifetime (at least ${MIN_JWKS_MAX_AGE_SECONDS} s) and a ${KEY_TIMING_MARGIN_SECONDS} s margin: a new key must reach ` +
    `every instance's JWKS, and every cached copy of it, before it signs. Set KEY_PUBLISH_DELAY_SECONDS to at least ${minimum} ` +
    'or lower KEYS_REFRESH_SECONDS'
}

/** How long a retired key stays published: the longest a token it signed can be accepted (TTL + leeway), plus the margin. */
export function retainSeconds (config: { accessTokenTtl: number }): number {
  return config.accessTokenTtl + CLOCK_LEEWAY_SECONDS + KEY_TIMING_MARGIN_SECONDS
}

/**
 * How long after a reload started an instance may sign from what it read. A key it has not seen was
 * inserted after that read, so it activates no earlier than the read + the publish delay (rotations use
 * the largest delay of live instances, this one's included); past that, its signing key may have retired.
 */
export function trustedFor (config: Pick<KeyTimingSettings, 'keyPublishDelaySeconds'>): number {
  return config.keyPublishDelaySeconds - KEY_TIMING_MARGIN_SECONDS
}

import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import type { Clock } from './clock.js'
import { CLOCK_LEEWAY_SECONDS } from './clock.js'
import type { Config } from './config.js'
import type { KeyStore, NewSigningKey, SigningKey } from './stores/types.js'

/**
 * Signing keys: ES256 (ECDSA P-256). Measured per core with node:crypto: ES256 signs ~39,000/s and verifies
 * ~14,000/s (Ed25519 24,000/9,000; RS256 3,600/43,000). Token issuance is our hot path and verification is
 * cached, so ES256 wins; it is also what every JOSE/OAuth library supports (Ed25519 is not yet universal).
 */
export const SIGNING_ALG = 'ES256' as const

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

type KeyTimingSettings = Pick<Config, 'keyPublishDelaySeconds' | 'keysRefreshSeconds'>

/**
 * The JWKS `Cache-Control` max-age: what is left of the publish delay once every instance has reloaded
 * (R) and the margin is taken off, at most 60 s. So a verifier that honours the header always has a new
 * key before the key signs.
 */
export function jwksMaxAge (config: KeyTimingSettings): number {
  return Math.min(MAX_JWKS_MAX_AGE_SECONDS, config.keyPublishDelaySeconds - config.keysRefreshSeconds - KEY_TIMING_MARGIN_SECONDS)
}

/** The shortest safe KEY_PUBLISH_DELAY_SECONDS: KEYS_REFRESH_SECONDS + the shortest JWKS cache lifetime + the margin. */
export function minimumPublishDelay (config: Pick<Config, 'keysRefreshSeconds'>): number {
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
export function retainSeconds (config: Pick<Config, 'accessTokenTtl'>): number {
  return config.accessTokenTtl + CLOCK_LEEWAY_SECONDS + KEY_TIMING_MARGIN_SECONDS
}

/**
 * How long after a reload started an instance may sign from what it read. A key it has not seen was
 * inserted after that read, so it activates no earlier than the read + the publish delay (rotations use
 * the largest delay of live instances, this one's included); past that, its signing key may have retired.
 */
export function trustedFor (config: Pick<Config, 'keyPublishDelaySeconds'>): number {
  return config.keyPublishDelaySeconds - KEY_TIMING_MARGIN_SECONDS
}

/**
 * When each key stops signing: when the first key after it (in sequence) activates; Infinity while none has.
 * Keys must be in sequence order.
 */
function retirements (keys: readonly SigningKey[]): number[] {
  const retiredAt: number[] = new Array<number>(keys.length)
  let next = Infinity
  for (let i = keys.length - 1; i >= 0; i--) {
    retiredAt[i] = next
    next = Math.min(next, keys[i]!.activatesAt)
  }
  return retiredAt
}

export interface KeyLifecycle {
  /** Keys in the JWKS: upcoming, signing, and retired ones while a token they signed may still be accepted. */
  published: SigningKey[]
  /** Retired past the last token they could have signed: to leave the JWKS and the store. */
  dropped: SigningKey[]
  /** Retired keys whose private part the store still holds: to delete it. */
  retiredPrivate: SigningKey[]
}

/** Sorts keys in sequence (rotation) order. */
export const bySequence = <K extends { seq: number }>(keys: readonly K[]): K[] => [...keys].sort((a, b) => a.seq - b.seq)

/** Where each stored key stands at `now` (see the timing rules above). */
export function keyLifecycle (stored: readonly SigningKey[], now: number, retain: number): KeyLifecycle {
  const keys = bySequence(stored)
  const retiredAt = retirements(keys)
  const result: KeyLifecycle = { published: [], dropped: [], retiredPrivate: [] }
  keys.forEach((key, i) => {
    const retired = retiredAt[i]!
    if (now > retired + retain) {
      result.dropped.push(key)
      return
    }
    result.published.push(key)
    if (now >= retired + KEY_TIMING_MARGIN_SECONDS && key.privateKey !== null) result.retiredPrivate.push(key)
  })
  return result
}

export interface PublicJwk { kty: string, crv: string, x: string, y: string, kid: string, alg: string, use: 'sig' }

export interface LoadedKey {
  kid: string
  seq: number
  /** Undefined once the key has retired: only its public part is kept. */
  privateKey: KeyObject | undefined
  publicJwk: PublicJwk
  activatesAt: number
}

/** A key that can sign. */
export type SignerKey = LoadedKey & { privateKey: KeyObject }

/**
 * The keys as a running server sees them: every published key in sequence order, and the one that signs
 * at the moment the set was taken (`signingKeyAt` picks it again at each signature).
 */
export interface KeySet {
  active: SignerKey
  published: LoadedKey[]
}

/**
 * The key that signs at `now`: the latest key in sequence that has activated. Should its private part be
 * gone (another instance, its clock a little ahead, retired it), the next key that still has one signs: it
 * has been published for the whole publish delay.
 */
export function signingKeyAt (keys: readonly LoadedKey[], now: number): SignerKey | undefined {
  let index = -1
  keys.forEach((k, i) => { if (k.activatesAt <= now && (index < 0 || k.seq > keys[index]!.seq)) index = i })
  if (index < 0) return undefined
  const chosen = keys[index]!
  if (chosen.privateKey) return chosen as SignerKey
  return bySequence(keys).find((k) => k.seq > chosen.seq && k.privateKey !== undefined) as SignerKey | undefined
}

export function generateSigningKey (createdAt: number, activatesAt: number): NewSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const jwk = publicKey.export({ format: 'jwk' }) as { kty: string, crv: string, x: string, y: string }
  return {
    kid: thumbprint(jwk),
    alg: SIGNING_ALG,
    privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicJwk: JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }),
    createdAt,
    activatesAt
  }
}

/** RFC 7638 JWK thumbprint: a kid derived from the key itself, base64url, so it is never a path or a query. */
function thumbprint (jwk: { kty: string, crv: string, x: string, y: string }): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })
  return createHash('sha256').update(canonical).digest('base64url')
}

/** A published key's public half as PEM (SPKI), the form fast-jwt (and so @fastify/jwt) takes. */
export function publicKeyPem (jwk: PublicJwk): string {
  const { kid: _kid, alg: _alg, use: _use, ...key } = jwk
  return createPublicKey({ key, format: 'jwk' }).export({ format: 'pem', type: 'spki' }).toString()
}

export function loadKey (key: SigningKey): LoadedKey {
  return {
    kid: key.kid,
    seq: key.seq,
    privateKey: key.privateKey === null ? undefined : createPrivateKey(key.privateKey),
    publicJwk: { ...JSON.parse(key.publicJwk), kid: key.kid, alg: key.alg, use: 'sig' },
    activatesAt: key.activatesAt
  }
}

/** Makes sure the store holds a key; instances starting at once end with exactly one. */
export async function ensureSigningKey (store: KeyStore, now: number): Promise<void> {
  if ((await store.list()).length > 0) return
  await store.insertIfEmpty(generateSigningKey(now, now))
}

/**
 * The publish delay a rotation uses: the largest KEY_PUBLISH_DELAY_SECONDS among running instances (each
 * renews its own at every reload), so the instance with the slowest reloads and longest JWKS cache is
 * covered, whichever process rotates. With no instance running, `own` (nothing serves a JWKS to cache).
 */
export async function agreedPublishDelay (store: KeyStore, now: number, own: number): Promise<number> {
  return (await store.agreedPublishDelay(now - INSTANCE_STALE_SECONDS)) ?? own
}

/**
 * Adds a new key that starts signing once every instance (and every verifier's cached JWKS) has it:
 * the agreed publish delay after the next whole second.
 */
export async function rotateSigningKey (store: KeyStore, clock: Clock, ownPublishDelay: number): Promise<SigningKey> {
  const now = clock.now()
  const delay = await agreedPublishDelay(store, now, ownPublishDelay)
  return store.insert(generateSigningKey(now, Math.ceil(clock.nowMs() / 1000) + delay))
}

import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import type { Clock } from '../clock.js'
import { INSTANCE_STALE_SECONDS, KEY_TIMING_MARGIN_SECONDS } from './key-timing.js'
import type { KeyStore, NewSigningKey, SigningKey } from '../stores/types.js'
import { SIGNING_ALG } from './algorithm.js'

export { SIGNING_ALG }

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

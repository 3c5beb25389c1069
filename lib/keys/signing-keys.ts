import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import type { Clock } from '../clock.js'
import { INSTANCE_STALE_SECONDS, KEY_TIMING_MARGIN_SECONDS } from './key-timing.js'
import type { KeyStore, NewSigningKey, SigningKey } from '../stores/types.js'
import { SIGNING_ALGS, type SigningAlg } from './algorithm.js'

/**
 * When each key stops signing: when the first key after it (in sequence) of the same algorithm activates;
 * Infinity while none has. Each algorithm has a lifecycle of its own: a new RS256 key never retires an ES256 one.
 * Keys must be in sequence order.
 */
function retirements (keys: readonly SigningKey[]): number[] {
  const retiredAt: number[] = new Array<number>(keys.length)
  const next = new Map<SigningAlg, number>()
  for (let i = keys.length - 1; i >= 0; i--) {
    const key = keys[i]!
    const later = next.get(key.alg) ?? Infinity
    retiredAt[i] = later
    next.set(key.alg, Math.min(later, key.activatesAt))
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

/**
 * Where a stored key stands at `now`, for administrators (GET /admin/keys, `gatehouse keys list`, the console):
 * - `next`: published, not signing yet (its `activatesAt` is ahead);
 * - `signing`: the latest key of its algorithm that has activated;
 * - `retired`: a later key of its algorithm has activated; still published (it verifies the tokens it signed) until
 *   `publishedUntil` = retirement + `retain` (lib/keys/key-timing.ts retainSeconds);
 * - `dropped`: past that, out of the JWKS; the next key reload deletes it from the store.
 * The same rules as `keyLifecycle` and `signingKeyAt`. A key a later one replaced before it ever activated is retired.
 */
export type KeyState = 'next' | 'signing' | 'retired' | 'dropped'

export interface KeyStatus {
  key: SigningKey
  state: KeyState
  /** When a later key of its algorithm activated (or activates): null while none has been added. */
  retiresAt: number | null
  /** Until when the JWKS publishes it: null while it has not retired. */
  publishedUntil: number | null
}

/** Every stored key with its state at `now` (keys in sequence order); `retain`: retainSeconds(config). */
export function keyStates (stored: readonly SigningKey[], now: number, retain: number): KeyStatus[] {
  const keys = bySequence(stored)
  const retiredAt = retirements(keys)
  return keys.map((key, i) => {
    const retired = retiredAt[i]!
    const retiresAt = retired === Infinity ? null : retired
    if (now >= retired) {
      const publishedUntil = retired + retain
      return { key, state: now > publishedUntil ? 'dropped' : 'retired', retiresAt, publishedUntil }
    }
    return { key, state: key.activatesAt > now ? 'next' : 'signing', retiresAt, publishedUntil: null }
  })
}

/** A published key's JWK: EC (P-256) for ES256, RSA for RS256. */
export type PublicJwk = ({ kty: 'EC', crv: string, x: string, y: string } | { kty: 'RSA', n: string, e: string }) & { kid: string, alg: SigningAlg, use: 'sig' }

export interface LoadedKey {
  kid: string
  seq: number
  alg: SigningAlg
  /** Undefined once the key has retired: only its public part is kept. */
  privateKey: KeyObject | undefined
  publicJwk: PublicJwk
  activatesAt: number
}

/** A key that can sign. */
export type SignerKey = LoadedKey & { privateKey: KeyObject }

/**
 * The keys as a running server sees them: every published key (of every algorithm) in sequence order, and the
 * access tokens' one (ACCESS_TOKEN_ALG) that signs at the moment the set was taken (`signingKeyAt` picks each
 * algorithm's again at each signature).
 */
export interface KeySet {
  active: SignerKey
  published: LoadedKey[]
}

/**
 * The key of `alg` that signs at `now`: the latest key of that algorithm in sequence that has activated.
 * Should its private part be gone (another instance, its clock a little ahead, retired it), the next key of
 * that algorithm that still has one signs: it has been published for the whole publish delay.
 */
export function signingKeyAt (all: readonly LoadedKey[], now: number, alg: SigningAlg): SignerKey | undefined {
  const keys = all.filter((k) => k.alg === alg)
  let index = -1
  keys.forEach((k, i) => { if (k.activatesAt <= now && (index < 0 || k.seq > keys[index]!.seq)) index = i })
  if (index < 0) return undefined
  const chosen = keys[index]!
  if (chosen.privateKey) return chosen as SignerKey
  return bySequence(keys).find((k) => k.seq > chosen.seq && k.privateKey !== undefined) as SignerKey | undefined
}

/** Every algorithm's signing key at `now`, or the first algorithm that has none. */
export function signingKeysAt (keys: readonly LoadedKey[], now: number): { signing: Record<SigningAlg, SignerKey> } | { missing: SigningAlg } {
  const signing = {} as Record<SigningAlg, SignerKey>
  for (const alg of SIGNING_ALGS) {
    const key = signingKeyAt(keys, now, alg)
    if (!key) return { missing: alg }
    signing[alg] = key
  }
  return { signing }
}

/** A new key pair: RSA 2048 for RS256, P-256 for ES256. */
function generateKeyPair (alg: SigningAlg): KeyObject {
  return alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    : generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
}

/**
 * A new key of `alg` (`privateKeyPem`: a given PKCS#8 private key of that algorithm instead of a new one; tests
 * share one RSA key that way, since RSA generation costs ~100-300 ms: AppOptions.initialKeyMaterial).
 */
export function generateSigningKey (alg: SigningAlg, createdAt: number, activatesAt: number, privateKeyPem?: string): NewSigningKey {
  const privateKey = privateKeyPem === undefined ? generateKeyPair(alg) : createPrivateKey(privateKeyPem)
  const jwk = publicJwkOf(createPublicKey(privateKey))
  if ((alg === 'RS256') !== (jwk.kty === 'RSA')) throw new Error(`a ${jwk.kty} key cannot sign ${alg}`)
  return {
    kid: thumbprint(jwk),
    alg,
    privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicJwk: JSON.stringify(jwk),
    createdAt,
    activatesAt
  }
}

type BareJwk = { kty: 'EC', crv: string, x: string, y: string } | { kty: 'RSA', n: string, e: string }

/** A public key's JWK members, nothing else. */
function publicJwkOf (publicKey: KeyObject): BareJwk {
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, string>
  if (jwk.kty === 'RSA') return { kty: 'RSA', n: jwk.n!, e: jwk.e! }
  if (jwk.kty === 'EC') return { kty: 'EC', crv: jwk.crv!, x: jwk.x!, y: jwk.y! }
  throw new Error(`unsupported key type ${jwk.kty}`)
}

/**
 * RFC 7638 JWK thumbprint: a kid derived from the key itself, base64url, so it is never a path or a query. The
 * required members in lexicographic order (§3.2): crv, kty, x, y for EC; e, kty, n for RSA.
 */
export function thumbprint (jwk: BareJwk): string {
  const canonical = jwk.kty === 'RSA'
    ? JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n })
    : JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })
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
    alg: key.alg,
    privateKey: key.privateKey === null ? undefined : createPrivateKey(key.privateKey),
    publicJwk: { ...JSON.parse(key.publicJwk), kid: key.kid, alg: key.alg, use: 'sig' },
    activatesAt: key.activatesAt
  }
}

/** Test-only: PKCS#8 private keys the first keys of an empty store are made from (AppOptions.initialKeyMaterial). */
export type InitialKeyMaterial = Partial<Record<SigningAlg, string>>

/**
 * Makes sure the store holds a key of every algorithm; instances starting at once end with exactly one of each.
 * A key added here signs at once: on a new store nothing has been issued yet (a store of an older version,
 * with only ES256 keys, gets its RS256 key this way too: every instance must run this version from then on).
 */
export async function ensureSigningKey (store: KeyStore, now: number, material: InitialKeyMaterial = {}): Promise<void> {
  const present = new Set((await store.list()).map((k) => k.alg))
  for (const alg of SIGNING_ALGS) {
    if (!present.has(alg)) await store.insertFirstOfAlg(generateSigningKey(alg, now, now, material[alg]))
  }
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
 * Adds a new key of every algorithm (both rotate together), each starting to sign once every instance (and
 * every verifier's cached JWKS) has it: the agreed publish delay after the next whole second.
 */
export async function rotateSigningKey (store: KeyStore, clock: Clock, ownPublishDelay: number): Promise<SigningKey[]> {
  const now = clock.now()
  // The keys are made first: an RSA key takes 100 ms or more, and between reading the clock for activatesAt and
  // inserting, two rotations at once could otherwise swap order (the one later in sequence activating a second
  // earlier, so the other never signs).
  const keys = SIGNING_ALGS.map((alg) => generateSigningKey(alg, now, now))
  const delay = await agreedPublishDelay(store, now, ownPublishDelay)
  const activatesAt = Math.ceil(clock.nowMs() / 1000) + delay
  const inserted: SigningKey[] = []
  for (const key of keys) inserted.push(await store.insert({ ...key, activatesAt }))
  return inserted
}

/** A key a rotation added. */
export interface RotatedKey { kid: string, alg: SigningAlg, activatesAt: number }

/** A rotation as its callers report it: `kid` and `activatesAt` are the access tokens' new key's (ACCESS_TOKEN_ALG), `keys` every key it added. */
export interface Rotation { kid: string, activatesAt: number, keys: RotatedKey[] }

export function rotationOf (added: readonly SigningKey[], accessTokenAlg: SigningAlg): Rotation {
  const keys = added.map((k) => ({ kid: k.kid, alg: k.alg, activatesAt: k.activatesAt }))
  const main = keys.find((k) => k.alg === accessTokenAlg) ?? keys[0]!
  return { kid: main.kid, activatesAt: main.activatesAt, keys }
}

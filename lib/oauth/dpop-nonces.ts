import { createHash, createHmac, timingSafeEqual, type KeyObject } from 'node:crypto'
import { signingKeyAt, type LoadedKey, type SignerKey } from '../keys/signing-keys.js'

/**
 * Server-provided DPoP nonces (RFC 9449 §8, §9), stateless and the same on every instance: the nonce of a time step
 * is an HMAC of the step's number, and a proof is accepted with the current step's nonce or the previous one's (so
 * a nonce handed out just before a step ends still works for one more step, 60–120 s in all).
 *
 * The HMAC key: the private part of the ES256 signing key that signs at the step's start (lib/keys/signing-keys.ts
 * `signingKeyAt`). Every instance has it with no configuration (keys live in the store, and the key ring loads a
 * new key everywhere before it starts signing: the publish delay), it is secret, and it changes on rotation. The
 * other candidates fall short: SECRETS_KEY is unset by default with PostgreSQL, a random per-process secret would
 * make each instance refuse the others' nonces, and anything public (the JWKS) would let a client with a stolen key
 * make proofs for future steps, which is what a nonce is there to prevent (§11.2).
 */

/** How long one nonce is current. */
export const NONCE_STEP_SECONDS = 60
const DOMAIN = 'gatehouse/dpop-nonce/v1'

/** The proof has no nonce, or not a current one: the client retries with `nonce` (§8.1). */
export class UseDpopNonce extends Error {
  constructor (readonly nonce: string, message = 'the DPoP proof must carry the server\'s current nonce') {
    super(message)
    this.name = 'UseDpopNonce'
  }
}

export class DpopNonces {
  readonly #keys: () => readonly LoadedKey[]
  /** The HMAC secret derived from each key's private part, by kid (a handful of keys: bounded by the key ring). */
  readonly #secrets = new Map<string, Buffer>()

  /** `keys`: the key ring's published keys now (`signingKeys.current().published`). */
  constructor (keys: () => readonly LoadedKey[]) {
    this.#keys = keys
  }

  /** The nonce to hand out at `now` (seconds): the current step's. */
  current (now: number): string {
    const step = stepOf(now)
    const nonce = this.#nonceOf(step)
    if (nonce === undefined) throw new Error('no ES256 signing key can key DPoP nonces now')
    return nonce
  }

  /** Whether `nonce` is the current step's or the previous step's at `now`. */
  accepts (nonce: string, now: number): boolean {
    const step = stepOf(now)
    return [step, step - 1].some((s) => {
      const expected = this.#nonceOf(s)
      return expected !== undefined && sameText(nonce, expected)
    })
  }

  #nonceOf (step: number): string | undefined {
    const keys = this.#keys()
    // A step that began before the first key existed (a new store): that first key, the same on every instance.
    const key = signingKeyAt(keys, step * NONCE_STEP_SECONDS, 'ES256') ??
      keys.find((k): k is SignerKey => k.alg === 'ES256' && k.privateKey !== undefined)
    if (key === undefined) return undefined
    return createHmac('sha256', this.#secretOf(key.kid, key.privateKey)).update(`${DOMAIN}:${step}`).digest('base64url')
  }

  #secretOf (kid: string, privateKey: KeyObject): Buffer {
    let secret = this.#secrets.get(kid)
    if (secret === undefined) {
      // Domain-separated: the secret is a hash of the key, never the key itself, and used for nothing else.
      secret = createHash('sha256').update(DOMAIN).update(privateKey.export({ format: 'der', type: 'pkcs8' })).digest()
      if (this.#secrets.size >= 64) this.#secrets.clear()
      this.#secrets.set(kid, secret)
    }
    return secret
  }
}

const stepOf = (now: number): number => Math.floor(now / NONCE_STEP_SECONDS)

function sameText (a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

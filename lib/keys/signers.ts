import { createSigner } from 'fast-jwt'
import type { SigningAlg } from './algorithm.js'
import { signingKeyAt, type LoadedKey } from './signing-keys.js'

type Sign = (payload: object) => string

/** Access tokens, ID tokens, and Back-Channel Logout 1.0 logout tokens (§2.4 recommends `logout+jwt`). */
export type SignedTyp = 'at+jwt' | 'JWT' | 'logout+jwt'

/**
 * Signs JWTs of one `typ` with the key of the asked algorithm that signs at a given second (`signingKeyAt`: a new key takes over at its
 * `activatesAt` exactly). One fast-jwt signer per key, built at its first use and kept while the key is published
 * with its private part: building one costs far more than using it. Access tokens (`at+jwt`) and ID tokens
 * (`JWT`) have a KeySigners each, so neither can pass for the other (RFC 9068 §4, RFC 8725 §3.11); logout tokens too.
 */
export class KeySigners {
  readonly #typ: SignedTyp
  #published: readonly LoadedKey[] = []
  #signers = new Map<string, Sign>()

  constructor (typ: SignedTyp) {
    this.#typ = typ
  }

  /** Swaps in the published keys; the signers of keys gone or retired (their private part deleted) go with them. */
  useKeys (published: readonly LoadedKey[]): void {
    this.#published = published
    const signers = new Map<string, Sign>()
    for (const key of published) {
      const signer = this.#signers.get(key.kid)
      if (signer && key.privateKey) signers.set(key.kid, signer)
    }
    this.#signers = signers
  }

  /** `payload` as a compact JWS, signed with the key of `alg` that signs at `now` (seconds); its header says that key's alg. */
  sign (payload: object, now: number, alg: SigningAlg): string {
    const key = signingKeyAt(this.#published, now, alg)
    if (!key) throw new Error(`no ${alg} signing key loaded`)
    let sign = this.#signers.get(key.kid)
    if (!sign) {
      const pem = key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
      this.#signers.set(key.kid, sign = createSigner({ key: pem, algorithm: key.alg, kid: key.kid, header: { alg: key.alg, typ: this.#typ } }))
    }
    return sign(payload)
  }
}

import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'
import { isoCBOR } from '@simplewebauthn/server/helpers'

/**
 * A software authenticator for tests: an ES256 key pair (node:crypto) that answers WebAuthn ceremonies the way a
 * passkey does (W3C WebAuthn Level 2 §6.1 authenticator data, §6.5 attestation objects with the `none` format,
 * §6.3.3 assertion signatures), so the server's real verification (@simplewebauthn/server) runs on real responses.
 * Every field an attack case changes is an option: the origin and RP ID the browser would report, the counter, the
 * user-verified flag, the user handle.
 */

const FLAG_UP = 0x01
const FLAG_UV = 0x04
const FLAG_BE = 0x08
const FLAG_BS = 0x10
const FLAG_AT = 0x40

const sha256 = (data: Uint8Array | string): Buffer => createHash('sha256').update(data).digest()
const b64u = (data: Uint8Array | string): string => Buffer.from(data).toString('base64url')

export interface CeremonyOptions {
  /** The origin clientDataJSON reports (the page the browser ran on); default: the authenticator's. */
  origin?: string
  /** The RP ID whose hash the authenticator data carries; default: the authenticator's. */
  rpId?: string
  /** The user verified (PIN, biometrics): default true. */
  userVerified?: boolean
  /** The signature counter to report; default: one more than the last. */
  counter?: number
  /** The user handle to report (base64url); default: the one registered. */
  userHandle?: string | null
}

export class SoftAuthenticator {
  readonly credentialId = randomBytes(16)
  readonly #privateKey: KeyObject
  readonly #cose: Uint8Array
  #counter = 0
  /** The user handle registered with the credential (base64url), as a discoverable credential keeps it. */
  userHandle: string | undefined

  /** `multiDevice`: a synced passkey (backup eligible and backed up), else bound to this device. */
  constructor (readonly rpId: string, readonly origin: string, readonly multiDevice = false) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    this.#privateKey = privateKey
    const jwk = publicKey.export({ format: 'jwk' })
    // COSE_Key (RFC 9052 §7): kty EC2, alg ES256, crv P-256, x, y.
    this.#cose = isoCBOR.encode(new Map<number, number | Uint8Array>([
      [1, 2], [3, -7], [-1, 1], [-2, new Uint8Array(Buffer.from(jwk.x as string, 'base64url'))], [-3, new Uint8Array(Buffer.from(jwk.y as string, 'base64url'))]
    ]))
  }

  get id (): string { return b64u(this.credentialId) }

  #authData (rpId: string, flags: number, counter: number, attested?: Uint8Array): Buffer {
    const count = Buffer.alloc(4)
    count.writeUInt32BE(counter)
    const backup = this.multiDevice ? FLAG_BE | FLAG_BS : 0
    return Buffer.concat([sha256(rpId), Buffer.from([flags | backup]), count, ...(attested ? [attested] : [])])
  }

  #clientData (type: string, challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }))
  }

  /** A registration response (what startRegistration() posts) for creation options the server gave. */
  register (options: { challenge: string, user: { id: string } }, over: CeremonyOptions = {}): Record<string, unknown> {
    this.userHandle = options.user.id
    const idLength = Buffer.alloc(2)
    idLength.writeUInt16BE(this.credentialId.length)
    const attested = Buffer.concat([Buffer.alloc(16), idLength, this.credentialId, this.#cose])
    const flags = FLAG_UP | FLAG_AT | (over.userVerified === false ? 0 : FLAG_UV)
    const authData = this.#authData(over.rpId ?? this.rpId, flags, over.counter ?? this.#counter, attested)
    const attestationObject = isoCBOR.encode(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', new Uint8Array(authData)]]) as never)
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64u(this.#clientData('webauthn.create', options.challenge, over.origin ?? this.origin)),
        attestationObject: b64u(attestationObject),
        transports: ['internal']
      },
      clientExtensionResults: { credProps: { rk: true } },
      authenticatorAttachment: 'platform'
    }
  }

  /** An assertion (what startAuthentication() posts) answering request options' `challenge`. */
  assert (challenge: string, over: CeremonyOptions = {}): Record<string, unknown> {
    const counter = over.counter ?? this.#counter + 1
    this.#counter = Math.max(this.#counter, counter)
    const flags = FLAG_UP | (over.userVerified === false ? 0 : FLAG_UV)
    const authData = this.#authData(over.rpId ?? this.rpId, flags, counter)
    const clientData = this.#clientData('webauthn.get', challenge, over.origin ?? this.origin)
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.#privateKey)
    const userHandle = over.userHandle === undefined ? this.userHandle : over.userHandle
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64u(clientData),
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        ...(userHandle === null || userHandle === undefined ? {} : { userHandle })
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform'
    }
  }
}

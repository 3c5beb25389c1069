import { createHash, createPublicKey, verify, constants, type KeyObject } from 'node:crypto'
import { BoundedLru } from '../limits/lru.js'

/**
 * A DPoP proof (RFC 9449 §4.2) checked as §4.3 asks, with node:crypto directly: one signature verification and a
 * hash, synchronous (jose would import the key through WebCrypto on every call). What this file does not decide is
 * left to its callers: whether the `jti` was seen before (the replay cache), whether the `nonce` is a current one,
 * and whether the key is the one a token is bound to. Every refusal is an InvalidDpopProof whose message is safe to
 * send back as an `error_description`.
 */

/** The algorithms a proof may be signed with (`dpop_signing_alg_values_supported`): asymmetric only (§4.3 point 5). */
export const DPOP_SIGNING_ALGS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA', 'Ed25519'] as const
export type DpopSigningAlg = typeof DPOP_SIGNING_ALGS[number]

/** How far in the past a proof's `iat` may be (§11.1: a short window keeps the replay cache small). */
export const PROOF_MAX_AGE_SECONDS = 120
/** How far in the future (the client's clock may run a little ahead of ours). */
export const PROOF_MAX_SKEW_SECONDS = 10
/** How long a proof's `jti` must be remembered so a replay is caught: the whole window it can be accepted in. */
export const PROOF_JTI_LIFETIME_SECONDS = PROOF_MAX_AGE_SECONDS + PROOF_MAX_SKEW_SECONDS
/** A proof is a small JWT; anything longer is refused before any parsing. */
export const MAX_PROOF_LENGTH = 8 * 1024
export const MAX_JTI_LENGTH = 256

export class InvalidDpopProof extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'InvalidDpopProof'
  }
}

/** What the request the proof came with looks like. */
export interface DpopRequest {
  /** The request's method (`htm`). */
  method: string
  /** The request's URL as this server is reached (from ISSUER or the resource's configured URL, never from Host). */
  url: string
  /** Seconds since the epoch. */
  now: number
  /** The access token presented with the proof (at a resource): `ath` must be its hash (§4.3 point 11). */
  accessToken?: string
}

/** A proof that passed every check this file makes. */
export interface DpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's key, base64url: what `cnf.jkt` binds a token to. */
  jkt: string
  jti: string
  iat: number
  /** The `nonce` claim, if the proof has one: the caller checks it against its current nonces. */
  nonce: string | undefined
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']
const B64URL = /^[A-Za-z0-9_-]+$/

/**
 * Checks `proof` (the DPoP header's value) against `request` (§4.3 points 1–11, except the nonce and jti
 * uniqueness, see above). Throws InvalidDpopProof.
 */
export function checkDpopProof (proof: string, request: DpopRequest): DpopProof {
  if (proof.length > MAX_PROOF_LENGTH) throw new InvalidDpopProof('the DPoP proof is too long')
  const parts = proof.split('.')
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) throw new InvalidDpopProof('the DPoP proof is not a compact JWS')
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string]
  // A client signs every proof with one key and one header: the header's checks, the key and its thumbprint are done
  // once per header text (bounded), so a proof then costs one JSON decode and one signature verification.
  const { alg, key } = checkedHeaders.get(encodedHeader) ?? checkHeader(encodedHeader)
  const payload = decodeJson(encodedPayload, 'payload')

  // §4.3 point 8: the signature, with the key in the header.
  const signingInput = Buffer.from(`${encodedHeader}.${encodedPayload}`)
  const signature = Buffer.from(encodedSignature, 'base64url')
  if (!verifySignature(alg, key.object, signingInput, signature)) throw new InvalidDpopProof('the DPoP proof\'s signature does not verify')

  // §4.3 points 2, 9–11: the claims.
  const { jti, htm, htu, iat, ath, nonce } = payload
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) throw new InvalidDpopProof('the DPoP proof has no usable jti')
  if (htm !== request.method) throw new InvalidDpopProof('the DPoP proof\'s htm is not this request\'s method')
  if (typeof htu !== 'string' || !sameTarget(htu, request.url)) throw new InvalidDpopProof('the DPoP proof\'s htu is not this request\'s URL')
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw new InvalidDpopProof('the DPoP proof has no iat')
  if (iat < request.now - PROOF_MAX_AGE_SECONDS) throw new InvalidDpopProof('the DPoP proof is too old (iat)')
  if (iat > request.now + PROOF_MAX_SKEW_SECONDS) throw new InvalidDpopProof('the DPoP proof is issued in the future (iat)')
  if (nonce !== undefined && typeof nonce !== 'string') throw new InvalidDpopProof('the DPoP proof\'s nonce is not a string')
  if (request.accessToken !== undefined) {
    if (typeof ath !== 'string' || ath !== accessTokenHash(request.accessToken)) throw new InvalidDpopProof('the DPoP proof\'s ath is not the hash of the access token')
  }
  return { jkt: key.thumbprint, jti, iat, nonce }
}

/** `ath` (§4.2): base64url of the SHA-256 of the access token's ASCII. */
export function accessTokenHash (accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url')
}

/** RFC 7638 §3: the thumbprint over the required members of the key, in lexicographic order, no whitespace. */
export function jwkThumbprint (jwk: Record<string, unknown>): string {
  const members = requiredMembers(jwk)
  const canonical = `{${members.map((m) => `${JSON.stringify(m)}:${JSON.stringify(jwk[m])}`).join(',')}}`
  return createHash('sha256').update(canonical).digest('base64url')
}

function requiredMembers (jwk: Record<string, unknown>): string[] {
  switch (jwk.kty) {
    case 'EC': return ['crv', 'kty', 'x', 'y']
    case 'RSA': return ['e', 'kty', 'n']
    case 'OKP': return ['crv', 'kty', 'x']
    default: throw new InvalidDpopProof('the DPoP proof\'s jwk has an unsupported kty')
  }
}

/** §4.3 point 9: htu against the request's URL, without query and fragment, compared after URL normalisation (RFC 3986 §6.2.2–6.2.3). */
function sameTarget (htu: string, url: string): boolean {
  if (htu === url) return true
  let a: URL, b: URL
  try {
    a = new URL(htu)
    b = new URL(url)
  } catch {
    return false
  }
  return a.protocol === b.protocol && a.host === b.host && a.pathname === b.pathname
}

function decodeJson (segment: string, what: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
  } catch {
    throw new InvalidDpopProof(`the DPoP proof's ${what} is not JSON`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidDpopProof(`the DPoP proof's ${what} is not a JSON object`)
  return value as Record<string, unknown>
}

/** The key family each algorithm needs: a key of another type is refused before any verification. */
function keyTypeFor (alg: DpopSigningAlg): { kty: string, crv?: string } {
  if (alg === 'ES256') return { kty: 'EC', crv: 'P-256' }
  if (alg === 'ES384') return { kty: 'EC', crv: 'P-384' }
  if (alg === 'ES512') return { kty: 'EC', crv: 'P-521' }
  if (alg === 'Ed25519') return { kty: 'OKP', crv: 'Ed25519' }
  if (alg === 'EdDSA') return { kty: 'OKP' }
  return { kty: 'RSA' }
}

/** A proof header that passed §4.3 points 4–7, by its base64url text: its algorithm, and its key ready to verify with. */
interface CheckedHeader { alg: DpopSigningAlg, key: { object: KeyObject, thumbprint: string } }

/**
 * Headers already checked, by their text. Bounded: every proof could bring a new header (a new key), and only the
 * header is trusted from here, never a signature (each proof's is verified).
 */
const checkedHeaders = new BoundedLru<string, CheckedHeader>(1000, () => Date.now())

/** §4.3 points 4–7: the header's typ, alg and public jwk of the alg's family; remembered once it passes. */
function checkHeader (encodedHeader: string): CheckedHeader {
  const header = decodeJson(encodedHeader, 'header')
  if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== 'dpop+jwt') throw new InvalidDpopProof('the DPoP proof\'s typ must be dpop+jwt')
  const alg = header.alg
  if (typeof alg !== 'string' || !(DPOP_SIGNING_ALGS as readonly string[]).includes(alg)) {
    throw new InvalidDpopProof(`the DPoP proof's alg must be one of ${DPOP_SIGNING_ALGS.join(', ')}`)
  }
  const jwk = header.jwk
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) throw new InvalidDpopProof('the DPoP proof has no jwk header')
  const jwkFields = jwk as Record<string, unknown>
  if (PRIVATE_MEMBERS.some((m) => m in jwkFields)) throw new InvalidDpopProof('the DPoP proof\'s jwk must be a public key')
  const checked = { alg: alg as DpopSigningAlg, key: publicKey(jwkFields, alg as DpopSigningAlg) }
  checkedHeaders.set(encodedHeader, checked)
  return checked
}

function publicKey (jwk: Record<string, unknown>, alg: DpopSigningAlg): { object: KeyObject, thumbprint: string } {
  const expected = keyTypeFor(alg)
  if (jwk.kty !== expected.kty || (expected.crv !== undefined && jwk.crv !== expected.crv)) {
    throw new InvalidDpopProof(`the DPoP proof's jwk is not a key for ${alg}`)
  }
  if (jwk.kty === 'OKP' && jwk.crv !== 'Ed25519' && jwk.crv !== 'Ed448') throw new InvalidDpopProof('the DPoP proof\'s jwk is not an EdDSA key')
  for (const member of requiredMembers(jwk)) {
    if (typeof jwk[member] !== 'string') throw new InvalidDpopProof('the DPoP proof\'s jwk is malformed')
  }
  let object: KeyObject
  try {
    const members = Object.fromEntries(requiredMembers(jwk).map((m) => [m, jwk[m]]))
    object = createPublicKey({ key: members as never, format: 'jwk' })
  } catch {
    throw new InvalidDpopProof('the DPoP proof\'s jwk is not a valid key')
  }
  if (object.asymmetricKeyType === 'rsa' && (object.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new InvalidDpopProof('the DPoP proof\'s RSA key is shorter than 2048 bits')
  }
  return { object, thumbprint: jwkThumbprint(jwk) }
}

function verifySignature (alg: DpopSigningAlg, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  try {
    switch (alg) {
      case 'ES256': return verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature)
      case 'ES384': return verify('sha384', data, { key, dsaEncoding: 'ieee-p1363' }, signature)
      case 'ES512': return verify('sha512', data, { key, dsaEncoding: 'ieee-p1363' }, signature)
      case 'PS256': return verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature)
      case 'PS384': return verify('sha384', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 }, signature)
      case 'PS512': return verify('sha512', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 }, signature)
      case 'RS256': return verify('sha256', data, key, signature)
      case 'RS384': return verify('sha384', data, key, signature)
      case 'RS512': return verify('sha512', data, key, signature)
      case 'EdDSA':
      case 'Ed25519': return verify(null, data, key, signature)
    }
  } catch {
    return false
  }
}

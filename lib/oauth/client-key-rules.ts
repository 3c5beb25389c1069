import { createPublicKey } from 'node:crypto'
import type { Client, TokenEndpointAuthMethod } from '../stores/types.js'
import { allowsPlainHttp } from './loopback-hosts.js'

/**
 * The rules of a client's keys (RFC 7591 §2 `jwks`, `jwks_uri`, `token_endpoint_auth_method`), one home for the admin
 * API, the CLI and RFC 7591 registration: each caller turns a problem into its own error (invalid input,
 * invalid_client_metadata). Keys are public keys only, strong enough for the algorithms Gatehouse accepts.
 */

/**
 * The asymmetric algorithms a client assertion (RFC 7523) or a request object (RFC 9101) may be signed with. `none`
 * and the HMAC ones are never among them: a client's JWK Set is public, so an HMAC keyed with it proves nothing
 * (SECURITY-CASES K3), and client secrets are stored as digests, so client_secret_jwt cannot be checked at all.
 * `Ed25519` is RFC 9864's fully-specified name for EdDSA over Ed25519 (what oauth4webapi 3 signs with).
 */
export const CLIENT_SIGNING_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const
export type ClientSigningAlg = typeof CLIENT_SIGNING_ALGS[number]

/** RFC 7591 §2 values Gatehouse accepts (client_secret_jwt is not: see CLIENT_SIGNING_ALGS). */
export const CLIENT_AUTH_METHODS: readonly TokenEndpointAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']

/** At most this many keys in one set (rotation needs two or three; a set is checked key by key at every use). */
export const MAX_CLIENT_KEYS = 10
/** A JWK Set larger than this (as JSON) is refused, inline or fetched. */
export const MAX_JWKS_BYTES = 16_384
const MIN_RSA_BITS = 2048
const MAX_RSA_BITS = 8192

/** Members only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1): a set holding one leaks a secret. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']
const EC_CURVES = new Set(['P-256', 'P-384', 'P-521'])

export type ClientJwks = { keys: Array<Record<string, unknown>> }

/** Why `value` is not an acceptable public JWK Set, or undefined when it is (the set as given is then stored). */
export function jwksProblem (value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'jwks must be a JWK Set: an object with a keys array'
  const keys = (value as { keys?: unknown }).keys
  if (!Array.isArray(keys) || keys.length === 0) return 'jwks must have a non-empty keys array'
  if (keys.length > MAX_CLIENT_KEYS) return `jwks may hold at most ${MAX_CLIENT_KEYS} keys`
  if (JSON.stringify(value).length > MAX_JWKS_BYTES) return `jwks is larger than ${MAX_JWKS_BYTES} bytes`
  const kids = new Set<string>()
  for (const [index, key] of keys.entries()) {
    const problem = keyProblem(key)
    if (problem !== undefined) return `jwks key ${index}: ${problem}`
    const kid = (key as { kid?: unknown }).kid
    if (typeof kid === 'string') {
      if (kids.has(kid)) return `jwks key ${index}: kid ${JSON.stringify(kid.slice(0, 64))} is used twice`
      kids.add(kid)
    }
  }
  return undefined
}

function keyProblem (key: unknown): string | undefined {
  if (typeof key !== 'object' || key === null || Array.isArray(key)) return 'not a JWK object'
  const jwk = key as Record<string, unknown>
  const secret = PRIVATE_MEMBERS.find((member) => member in jwk)
  if (secret !== undefined) return `a private or symmetric key (it has "${secret}"): give public keys only`
  if (jwk.kid !== undefined && (typeof jwk.kid !== 'string' || jwk.kid.length === 0 || jwk.kid.length > 256)) return 'kid must be a string of 1 to 256 characters'
  if (jwk.use !== undefined && jwk.use !== 'sig') return 'use must be "sig" when given'
  if (jwk.alg !== undefined && !(CLIENT_SIGNING_ALGS as readonly unknown[]).includes(jwk.alg)) return `alg must be one of ${CLIENT_SIGNING_ALGS.join(', ')} when given`
  switch (jwk.kty) {
    case 'RSA': break
    case 'EC': if (!EC_CURVES.has(String(jwk.crv))) return 'an EC key must be on P-256, P-384 or P-521'; break
    case 'OKP': if (jwk.crv !== 'Ed25519') return 'an OKP key must be Ed25519'; break
    default: return 'kty must be RSA, EC or OKP'
  }
  let details: { modulusLength?: number } | undefined
  try {
    details = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' }).asymmetricKeyDetails
  } catch {
    return 'not a valid public key'
  }
  if (jwk.kty === 'RSA') {
    const bits = details?.modulusLength ?? 0
    if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) return `an RSA key must have ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits (this one has ${bits})`
  }
  return undefined
}

/**
 * Why `uri` is not an acceptable jwks_uri, or undefined: an absolute https URL without a fragment or credentials;
 * plain http only on loopback, and only when the issuer itself is on loopback (development and tests).
 */
export function jwksUriProblem (uri: string, options: { issuerOnLoopback: boolean }): string | undefined {
  let url: URL
  try { url = new URL(uri) } catch { return 'jwks_uri is not an absolute URL' }
  if (uri.length > 2048) return 'jwks_uri is longer than 2048 characters'
  if (url.hash !== '' || uri.includes('#')) return 'jwks_uri must not have a fragment'
  if (url.username !== '' || url.password !== '') return 'jwks_uri must not carry credentials'
  if (url.protocol === 'https:') return undefined
  if (url.protocol === 'http:' && options.issuerOnLoopback && allowsPlainHttp(url.hostname)) return undefined
  return 'jwks_uri must be https (plain http only on loopback, when the issuer is)'
}

export interface ClientKeysInput {
  isPublic: boolean
  /** Whether the client has (or will have) a secret. */
  hasSecret: boolean
  jwks: unknown
  jwksUri: string | null
  tokenEndpointAuthMethod: string | null
}

/**
 * Why this combination of keys and method does not hold together, or undefined. RFC 7591 §2: jwks and jwks_uri never
 * both; private_key_jwt needs keys; a method needing a secret needs one; `none` is for public clients, which have no
 * credentials at all (a public client with keys would sign nothing anyone checks at the token endpoint).
 */
export function clientKeysProblem (input: ClientKeysInput, options: { issuerOnLoopback: boolean }): string | undefined {
  const { isPublic, hasSecret, jwks, jwksUri, tokenEndpointAuthMethod: method } = input
  if (jwks != null && jwksUri !== null) return 'jwks and jwks_uri cannot both be given (RFC 7591 §2)'
  if (jwks != null) {
    const problem = jwksProblem(jwks)
    if (problem !== undefined) return problem
  }
  if (jwksUri !== null) {
    const problem = jwksUriProblem(jwksUri, options)
    if (problem !== undefined) return problem
  }
  const hasKeys = jwks != null || jwksUri !== null
  if (method !== null && !(CLIENT_AUTH_METHODS as readonly string[]).includes(method)) {
    return `token_endpoint_auth_method must be one of ${CLIENT_AUTH_METHODS.join(', ')}${method === 'client_secret_jwt' ? ' (client_secret_jwt is not supported: secrets are stored as digests)' : ''}`
  }
  if (isPublic && hasKeys) return 'a public client cannot have keys (jwks, jwks_uri): keys make it confidential'
  if (isPublic && method !== null && method !== 'none') return `a public client authenticates with none, not ${method}`
  if (!isPublic && method === 'none') return 'token_endpoint_auth_method none is for public clients'
  if (method === 'private_key_jwt' && !hasKeys) return 'private_key_jwt needs the client\'s keys (jwks or jwks_uri)'
  if ((method === 'client_secret_basic' || method === 'client_secret_post') && !hasSecret) return `${method} needs a client secret`
  if (!isPublic && !hasKeys && !hasSecret) return 'a confidential client needs a secret or keys'
  return undefined
}

/** Whether the client has keys to check signatures with (inline or at its jwks_uri). */
export const hasClientKeys = (client: Pick<Client, 'jwks' | 'jwksUri'>): boolean => client.jwks !== null || client.jwksUri !== null

import { decodeProtectedHeader } from 'jose'
import type { Client } from '../stores/types.js'
import { CLIENT_SIGNING_ALGS, hasClientKeys } from './client-key-rules.js'
import { signedJwtRefusal, type ClientKeys } from './client-keys.js'

/**
 * Signed request objects passed by value (RFC 9101, OIDC Core §6.1): `request=<JWS>` at /authorize from a client with
 * keys. The object is verified with the client's keys, then its parameters ARE the request (RFC 9101 §5: those in the
 * query are ignored, client_id aside). As node-oidc-provider does, a `response_type` also in the query (OIDC Core §6.1
 * has OpenID requests repeat it there) must be the object's. Encrypted objects (JWE) are not supported.
 */

/** Clock leeway, seconds. */
export const REQUEST_OBJECT_LEEWAY_SECONDS = 10
/** FAPI 2.0 Security Profile §5.3.1 (and FAPI 1.0 Advanced §5.2.2-13): nbf no older than 60 minutes, exp no more than 60 minutes after nbf. */
export const REQUEST_OBJECT_MAX_AGE_SECONDS = 3600
/** Longer than any request object a client needs: refused unread. */
export const MAX_REQUEST_OBJECT_LENGTH = 16_384
/** JWT claims that are not authorization request parameters: dropped from the parameters. */
const JWT_CLAIMS = new Set(['iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'sub'])

export type Query = Record<string, unknown>

/** The request object cannot be used: `invalid_request_object` back to the client (RFC 9101 §6.2), saying why. */
export class InvalidRequestObject extends Error {
  constructor (description: string) {
    super(description)
    this.name = 'InvalidRequestObject'
  }
}

export interface RequestObjectDeps {
  keys: Pick<ClientKeys, 'verify'>
  issuer: string
  now: number
}

/**
 * The authorization request's parameters: `query` itself when it has no `request`, or when the client has no keys
 * (the request checks then answer request_not_supported, as before); otherwise the verified object's parameters with
 * the query's client_id. Throws InvalidRequestObject when the object cannot be used.
 */
export async function resolveRequestObject (query: Query, client: Client, deps: RequestObjectDeps): Promise<Query> {
  const jwt = query.request
  if (typeof jwt !== 'string' || jwt === '' || !hasClientKeys(client)) return query
  if (query.request_uri !== undefined) throw new InvalidRequestObject('request and request_uri cannot both be sent')
  if (jwt.length > MAX_REQUEST_OBJECT_LENGTH) throw new InvalidRequestObject(`the request object is longer than ${MAX_REQUEST_OBJECT_LENGTH} characters`)
  const parts = jwt.split('.').length
  if (parts === 5) throw new InvalidRequestObject('encrypted request objects (JWE) are not supported: sign it (JWS)')
  if (parts !== 3) throw new InvalidRequestObject('the request object is not a signed JWT')
  let alg: unknown
  try { alg = decodeProtectedHeader(jwt).alg } catch { throw new InvalidRequestObject('the request object\'s header cannot be read') }
  if (!(CLIENT_SIGNING_ALGS as readonly unknown[]).includes(alg)) {
    throw new InvalidRequestObject(`the request object's alg ${JSON.stringify(String(alg).slice(0, 16))} is not accepted (one of ${CLIENT_SIGNING_ALGS.join(', ')})`)
  }
  let payload: Record<string, unknown>
  try {
    ({ payload } = await deps.keys.verify(client, jwt, {
      algorithms: [...CLIENT_SIGNING_ALGS],
      issuer: client.id,
      audience: deps.issuer,
      requiredClaims: ['iss', 'aud', 'exp'],
      clockTolerance: REQUEST_OBJECT_LEEWAY_SECONDS,
      currentDate: new Date(deps.now * 1000)
    }))
  } catch (err) {
    throw new InvalidRequestObject(`the request object is refused: ${verificationFailure(err)}`)
  }
  if (typeof payload.nbf === 'number') {
    if (deps.now - payload.nbf > REQUEST_OBJECT_MAX_AGE_SECONDS) throw new InvalidRequestObject('the request object is too old: nbf is more than 60 minutes ago')
    if ((payload.exp as number) - payload.nbf > REQUEST_OBJECT_MAX_AGE_SECONDS) throw new InvalidRequestObject('the request object lives too long: exp is more than 60 minutes after nbf')
  }
  if (payload.client_id !== query.client_id) throw new InvalidRequestObject('the request object\'s client_id must be the client_id of the request')
  if (payload.request !== undefined || payload.request_uri !== undefined) throw new InvalidRequestObject('a request object cannot hold request or request_uri')
  if (query.response_type !== undefined && payload.response_type !== query.response_type) {
    throw new InvalidRequestObject('the response_type of the request must be the request object\'s')
  }
  return { ...parametersOf(payload), client_id: query.client_id }
}

/** The object's claims as authorization request parameters (strings, `resource` may be a list, `claims` an object). */
function parametersOf (payload: Record<string, unknown>): Query {
  const parameters: Query = {}
  for (const [name, value] of Object.entries(payload)) {
    if (JWT_CLAIMS.has(name) || value === null || value === undefined) continue
    if (typeof value === 'string') parameters[name] = value
    else if (typeof value === 'number' || typeof value === 'boolean') parameters[name] = String(value)
    else if (name === 'claims' && typeof value === 'object' && !Array.isArray(value)) parameters[name] = JSON.stringify(value)
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) parameters[name] = value.length === 1 ? value[0] : value
    else throw new InvalidRequestObject(`the request object's ${name.slice(0, 32)} is not a string`)
  }
  return parameters
}

const verificationFailure = (err: unknown): string => signedJwtRefusal(err, { aud: 'aud must be the issuer', iss: 'iss must be the client id' })

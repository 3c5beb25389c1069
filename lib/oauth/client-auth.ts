import { invalidClient, invalidRequest, unauthorizedClient } from '../errors.js'
import type { Client, ClientStore, GrantType } from '../stores/types.js'
import { MAX_CLIENT_ID_LENGTH } from '../../schemas/common.js'
import { verifyClientSecret } from './client-secrets.js'
import { assertionSubject, CLIENT_ASSERTION_TYPE, verifyClientAssertion, type AssertionContext } from './client-assertion.js'

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none'

export interface ClientCredentials {
  method: ClientAuthMethod
  clientId: string
  secret?: string
  /** private_key_jwt: the client assertion (RFC 7523 §2.2). */
  assertion?: string
}

/** The body parameters client authentication reads (RFC 6749 §2.3.1, RFC 7521 §4.2). */
export interface ClientAuthParams {
  client_id?: string
  client_secret?: string
  client_assertion_type?: string
  client_assertion?: string
}

/**
 * The built-in public client a password-grant request with no client at all is served as (as in the
 * FastAPI tutorial); it may grant any of the user's scopes and gets refresh tokens (CONTRACT.md).
 */
export const DEFAULT_CLIENT: Client = Object.freeze({
  id: 'default',
  secretHash: null,
  isPublic: true,
  grantTypes: ['password', 'refresh_token'],
  scope: null,
  redirectUris: [],
  generation: null,
  postLogoutRedirectUris: [],
  skipConsent: false,
  providers: null,
  pkce: 'required',
  idTokenAlg: null,
  userinfoAlg: null,
  backchannelLogoutUri: null,
  requireMfa: false,
  passwordGrantSkipsMfa: false,
  requirePar: false,
  registration: null,
  clientName: null,
  clientUri: null,
  logoUri: null,
  registrationMetadata: {},
  registrationTokenHash: null,
  registeredBy: null,
  firstUsedAt: null,
  exchangeSources: [],
  exchangeTargets: [],
  dpopBoundAccessTokens: false,
  jwks: null,
  jwksUri: null,
  tokenEndpointAuthMethod: null,
  createdAt: 0,
  updatedAt: 0
}) as Client

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

/**
 * Reads the client's credentials from the request (RFC 6749 §2.3): HTTP Basic with form-encoded id and
 * secret (§2.3.1), or `client_id`/`client_secret` in the body, or only `client_id` (a public client).
 * Using two methods at once is invalid_request; a malformed Basic header is invalid_client. Basic with an
 * empty id and an empty secret (`Basic Og==`, what Swagger UI's password flow sends when its client fields
 * are left empty) carries no credentials: like a parameter without a value, it counts as not sent (§3.1).
 */
export function readClientCredentials (authorization: string | undefined, body: ClientAuthParams): ClientCredentials | undefined {
  if (body.client_assertion !== undefined || body.client_assertion_type !== undefined) return readAssertion(authorization, body)
  if (authorization !== undefined && /^basic(\s|$)/i.test(authorization) && !isEmptyBasic(authorization)) {
    if (body.client_secret !== undefined) throw invalidRequest('the client authenticated with more than one method')
    const credentials = parseBasic(authorization)
    if (body.client_id !== undefined && body.client_id !== credentials.clientId) {
      throw invalidRequest('client_id does not match the authenticated client')
    }
    return credentials
  }
  if (body.client_secret !== undefined) {
    if (body.client_id === undefined) throw invalidClient(false, 'client_secret without client_id')
    return { method: 'client_secret_post', clientId: body.client_id, secret: body.client_secret }
  }
  if (body.client_id !== undefined) return { method: 'none', clientId: body.client_id }
  return undefined
}

/**
 * RFC 7521 §4.2 / RFC 7523 §2.2: `client_assertion_type` and `client_assertion` together, and no other method
 * alongside (RFC 6749 §2.3: one method per request). The client is the assertion's `sub`; a `client_id` sent too must
 * be the same (RFC 7521 §4.2). Only the shape is read here: authenticateClient verifies the assertion.
 */
function readAssertion (authorization: string | undefined, body: ClientAuthParams): ClientCredentials {
  if (body.client_assertion === undefined || body.client_assertion_type === undefined) throw invalidRequest('client_assertion and client_assertion_type go together')
  if (body.client_secret !== undefined || (authorization !== undefined && /^basic(\s|$)/i.test(authorization) && !isEmptyBasic(authorization))) {
    throw invalidRequest('the client authenticated with more than one method')
  }
  if (body.client_assertion_type !== CLIENT_ASSERTION_TYPE) throw invalidClient(false, `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`)
  const subject = assertionSubject(body.client_assertion)
  if (subject === undefined) throw invalidClient(false, 'client assertion refused: not a JWT with a sub claim')
  if (body.client_id !== undefined && body.client_id !== subject) throw invalidClient(false, 'client assertion refused: its sub is not the client_id sent')
  return { method: 'private_key_jwt', clientId: subject, assertion: body.client_assertion }
}

/** `Basic ` followed by the Base64 of ":" (no id, no secret). */
function isEmptyBasic (authorization: string): boolean {
  const encoded = authorization.slice(5).trim()
  return encoded.length <= 4 && BASE64.test(encoded) && Buffer.from(encoded, 'base64').toString('latin1') === ':'
}

/** Whether the request used the Basic scheme at all (an invalid_client reply then carries its challenge). */
const usesBasic = (authorization: string | undefined): boolean => authorization !== undefined && /^basic(\s|$)/i.test(authorization)

function parseBasic (authorization: string): ClientCredentials {
  const encoded = authorization.slice(5).trim()
  if (!BASE64.test(encoded)) throw invalidClient(true, 'malformed Basic credentials')
  const decoded = Buffer.from(encoded, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) throw invalidClient(true, 'malformed Basic credentials')
  try {
    // §2.3.1: id and secret are application/x-www-form-urlencoded before being joined.
    const clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '))
    const secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '))
    if (!clientId) throw new Error('empty client id')
    return { method: 'client_secret_basic', clientId, secret }
  } catch {
    throw invalidClient(true, 'malformed Basic credentials')
  }
}

/**
 * Checks the credentials against the client store. Unknown client, wrong secret and a method the client
 * may not use all give the same invalid_client reply. A client registered with a token endpoint auth method may
 * use only that one (RFC 7591 §2); private_key_jwt needs `assertions` (the endpoints that accept it pass it).
 */
export async function authenticateClient (credentials: ClientCredentials, clients: Pick<ClientStore, 'find'>, assertions?: AssertionContext): Promise<Client> {
  const usedBasic = credentials.method === 'client_secret_basic'
  if (credentials.clientId === DEFAULT_CLIENT.id) {
    if (credentials.method !== 'none') throw invalidClient(usedBasic)
    return DEFAULT_CLIENT
  }
  // No client has a longer id: not looked up (nor cached), so a huge id costs nothing.
  const client = credentials.clientId.length > MAX_CLIENT_ID_LENGTH ? undefined : await clients.find(credentials.clientId)
  if (credentials.method === 'private_key_jwt') {
    if (!client || client.isPublic) throw invalidClient(false, 'client assertion refused: no such confidential client')
    if (assertions === undefined) throw invalidClient(false, 'private_key_jwt is not accepted here')
    await verifyClientAssertion(credentials.assertion ?? '', client, assertions)
    return client
  }
  if (credentials.method === 'none') {
    if (!client || !client.isPublic) throw invalidClient(false)
    return client
  }
  const ok = verifyClientSecret(credentials.secret ?? '', client?.isPublic === false ? client.secretHash : null)
  if (!client || !ok) throw invalidClient(usedBasic)
  // RFC 7591 §2: a client registered with one method uses that one (a secret sent in the body when Basic was registered, or the reverse).
  if (client.tokenEndpointAuthMethod !== null && client.tokenEndpointAuthMethod !== credentials.method) {
    throw invalidClient(usedBasic, `this client authenticates with ${client.tokenEndpointAuthMethod}`)
  }
  return client
}

/** For endpoints where a client must identify itself (revocation, introspection): no credentials is invalid_client. */
export async function requireClient (authorization: string | undefined, body: ClientAuthParams, clients: Pick<ClientStore, 'find'>, assertions?: AssertionContext): Promise<Client> {
  const credentials = readClientCredentials(authorization, body)
  if (!credentials) throw invalidClient(usesBasic(authorization), 'client authentication is required')
  return authenticateClient(credentials, clients, assertions)
}

/**
 * The client a token request is made by, allowed to use `grant` (RFC 6749 §3.2.1, §5.2): the authenticated
 * client; with no credentials at all, the built-in `default` client when the grant allows that.
 */
export async function clientForGrant (authorization: string | undefined, body: ClientAuthParams, grant: { grantType: GrantType, allowsAnonymous: boolean }, clients: Pick<ClientStore, 'find'>, assertions?: AssertionContext): Promise<Client> {
  const credentials = readClientCredentials(authorization, body)
  let client = DEFAULT_CLIENT
  if (credentials) client = await authenticateClient(credentials, clients, assertions)
  else if (!grant.allowsAnonymous) throw invalidClient(usesBasic(authorization), 'client authentication is required')
  if (!client.grantTypes.includes(grant.grantType)) throw unauthorizedClient(`this client may not use the ${grant.grantType} grant`)
  return client
}

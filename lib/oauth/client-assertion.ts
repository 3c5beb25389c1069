import { decodeJwt, decodeProtectedHeader } from 'jose'
import { invalidClient } from '../errors.js'
import type { Client, ClientAssertionStore } from '../stores/types.js'
import { CLIENT_SIGNING_ALGS, hasClientKeys } from './client-key-rules.js'
import { signedJwtRefusal, type ClientKeys } from './client-keys.js'

/**
 * private_key_jwt (RFC 7523 §2.2, §3; OIDC Core §9): the client proves who it is with a JWT it signed with a key of
 * its JWK Set. Every refusal is 401 invalid_client (RFC 6749 §5.2, RFC 7521 §4.2.1) saying why.
 */

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
/** An assertion may be valid for at most this long from now (`exp`): a long-lived one is a bearer credential (SECURITY-CASES K3). */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300
/** Clock leeway for exp, nbf and iat, seconds. */
export const ASSERTION_LEEWAY_SECONDS = 10
/** Longer than any signed JWT a client needs to send: not decoded at all. */
export const MAX_ASSERTION_LENGTH = 8192
const MAX_JTI_LENGTH = 256

/** The client an assertion says it is from (`sub`, RFC 7523 §3 item 2), read before anything is verified; undefined when unreadable. */
export function assertionSubject (assertion: string): string | undefined {
  if (assertion.length > MAX_ASSERTION_LENGTH) return undefined
  try {
    const sub = decodeJwt(assertion).sub
    return typeof sub === 'string' && sub !== '' ? sub : undefined
  } catch {
    return undefined
  }
}

export interface AssertionContext {
  keys: ClientKeys
  jtis: Pick<ClientAssertionStore, 'use'>
  /** The audiences accepted: the issuer, the token endpoint's URL, the URL of the endpoint called (RFC 7523 §3 item 3). */
  audiences: string[]
  now: number
}

/**
 * Checks a client assertion for `client` (already looked up by the assertion's `sub`), then records its jti: the
 * client has keys; alg is an asymmetric one (never `none` or HS*); the signature is by a key of the client's set;
 * iss = sub = the client id; aud names this server; exp present and at most MAX_ASSERTION_LIFETIME_SECONDS ahead;
 * nbf and iat not in the future; jti present and not seen before (until exp, across instances).
 */
export async function verifyClientAssertion (assertion: string, client: Client, context: AssertionContext): Promise<void> {
  const refuse = (why: string) => invalidClient(false, `client assertion refused: ${why}`)
  if (!hasClientKeys(client)) throw refuse('the client has no keys registered (jwks or jwks_uri)')
  if (client.tokenEndpointAuthMethod !== null && client.tokenEndpointAuthMethod !== 'private_key_jwt') {
    throw refuse(`the client is registered to authenticate with ${client.tokenEndpointAuthMethod}`)
  }
  if (assertion.length > MAX_ASSERTION_LENGTH || assertion.split('.').length !== 3) throw refuse('not a signed JWT (JWS compact serialization)')
  let alg: unknown
  try { alg = decodeProtectedHeader(assertion).alg } catch { throw refuse('its header cannot be read') }
  if (!(CLIENT_SIGNING_ALGS as readonly unknown[]).includes(alg)) {
    throw refuse(`alg ${JSON.stringify(String(alg).slice(0, 16))} is not accepted (one of ${CLIENT_SIGNING_ALGS.join(', ')})`)
  }
  let payload
  try {
    ({ payload } = await context.keys.verify(client, assertion, {
      algorithms: [...CLIENT_SIGNING_ALGS],
      issuer: client.id,
      subject: client.id,
      audience: context.audiences,
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'jti'],
      clockTolerance: ASSERTION_LEEWAY_SECONDS,
      currentDate: new Date(context.now * 1000)
    }))
  } catch (err) {
    throw refuse(verificationFailure(err))
  }
  const exp = payload.exp as number
  if (exp > context.now + MAX_ASSERTION_LIFETIME_SECONDS + ASSERTION_LEEWAY_SECONDS) {
    throw refuse(`exp is more than ${MAX_ASSERTION_LIFETIME_SECONDS} seconds ahead`)
  }
  if (typeof payload.iat === 'number' && payload.iat > context.now + ASSERTION_LEEWAY_SECONDS) throw refuse('iat is in the future')
  const jti = payload.jti
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH || /[\u0000-\u001f]/.test(jti)) throw refuse('jti must be a string of 1 to 256 printable characters')
  // RFC 7523 §3 item 7: single use. Insert-if-absent is the check, so it holds across instances and concurrent requests.
  if (!await context.jtis.use(client.id, jti, exp + ASSERTION_LEEWAY_SECONDS, context.now)) throw refuse('its jti was used before (a replay)')
}

const verificationFailure = (err: unknown): string => signedJwtRefusal(err, { aud: 'aud does not name this server (its issuer, the token endpoint or this endpoint)', iss: 'iss must be the client id', sub: 'sub must be the client id' })

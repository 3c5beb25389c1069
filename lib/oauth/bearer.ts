import { BearerError, invalidToken, missingToken } from '../errors.js'

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i

/**
 * The bearer token a request carries (RFC 6750 §2.1: the Authorization header only; a token in the query
 * string is ignored, ASVS 14.2.1), or the RFC 6750 error to answer: no bearer credentials (401, a bare
 * challenge), a token also sent in the body (400 invalid_request, §2), a malformed one (401 invalid_token).
 * Both ways of checking a token (fastify.authenticate and @fastify/jwt's request.jwtVerify()) read it here.
 */
export function bearerToken (header: string | undefined, body: unknown): string {
  if (header === undefined || !/^bearer(\s|$)/i.test(header)) throw missingToken()
  if (body !== null && typeof body === 'object' && 'access_token' in body) {
    throw new BearerError('invalid_request', 'the token was sent in more than one way')
  }
  const token = BEARER.exec(header)?.[1]
  if (token === undefined) throw invalidToken('malformed bearer token')
  return token
}

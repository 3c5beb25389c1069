import { BearerError, invalidDpopToken, invalidToken, missingToken } from '../errors.js'

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=", the one definition for the header and the form body
const B64 = '[A-Za-z0-9\\-._~+/]+=*'
const B64TOKEN = new RegExp(`^${B64}$`)
const BEARER = new RegExp(`^Bearer +(${B64}) *$`, 'i')
const DPOP = new RegExp(`^DPoP +(${B64}) *$`, 'i')
const DPOP_SCHEME = /^dpop(\s|$)/i
const FORM = /^application\/x-www-form-urlencoded\s*(;|$)/i

/** What a route may accept besides the Authorization header. */
export interface BearerOptions {
  /**
   * RFC 6750 §2.2: the token as the `access_token` field of an `application/x-www-form-urlencoded` body. Only routes
   * that opt in (`config: { bearerInFormBody: true }`: /userinfo, which OIDC Core §5.3.1 lets clients POST so) read it.
   */
  formBody?: { contentType: string | undefined }
}

/**
 * The bearer token a request carries (RFC 6750 §2.1: the Authorization header; §2.2 the form body, where the route
 * allows it; a token in the query string is always ignored, ASVS 14.2.1), or the RFC 6750 error to answer: no bearer
 * credentials (401, a bare challenge), a token sent in more than one way (400 invalid_request, §2), a malformed one
 * (401 invalid_token). Every way of checking a token (fastify.authenticate, @fastify/jwt's request.jwtVerify(), the
 * resource-server plugin) reads it here.
 */
export function bearerToken (header: string | undefined, body: unknown, options: BearerOptions = {}): string {
  const inBody = body !== null && typeof body === 'object' && 'access_token' in body
  const inHeader = header !== undefined && /^bearer(\s|$)/i.test(header)
  if (inHeader && inBody) throw new BearerError('invalid_request', 'the token was sent in more than one way')
  if (inHeader) {
    const token = BEARER.exec(header)?.[1]
    if (token === undefined) throw invalidToken('malformed bearer token')
    return token
  }
  if (!inBody || options.formBody === undefined || !FORM.test(options.formBody.contentType ?? '')) throw missingToken()
  const token = (body as { access_token: unknown }).access_token
  if (Array.isArray(token)) throw new BearerError('invalid_request', 'access_token is repeated')
  if (typeof token !== 'string' || !B64TOKEN.test(token)) throw invalidToken('malformed bearer token')
  return token
}

/** The request fields `bearerTokenOf` reads (a Fastify request has them). */
export interface BearerRequest {
  headers: { authorization?: string, 'content-type'?: string }
  body: unknown
  routeOptions: { config: unknown }
}

/** `bearerToken` for a Fastify request: the form body is read only on a route with `config: { bearerInFormBody: true }`. */
export function bearerTokenOf (request: BearerRequest): string {
  const optedIn = (request.routeOptions.config as { bearerInFormBody?: unknown } | undefined)?.bearerInFormBody === true
  return bearerToken(request.headers.authorization, request.body, optedIn ? { formBody: { contentType: request.headers['content-type'] } } : {})
}

/**
 * Whether the Authorization header names the DPoP scheme (RFC 9449 §7.1): one test, so that a bearer request pays
 * nothing more for DPoP than this before `bearerToken` reads it as always.
 */
export function usesDpopScheme (header: string | undefined): header is string {
  return header !== undefined && DPOP_SCHEME.test(header)
}

/**
 * The token of `Authorization: DPoP <token>` (RFC 9449 §7.1; the same b64token as Bearer's), or the error to answer,
 * with the DPoP challenge: a malformed one (401 invalid_token), a token also in the body (400 invalid_request, RFC
 * 6750 §2's "more than one way"). A DPoP token is read from the header only (§7.1 defines no other way).
 */
export function dpopToken (header: string, body: unknown): string {
  if (body !== null && typeof body === 'object' && 'access_token' in body) {
    throw new BearerError('invalid_request', 'the token was sent in more than one way', undefined, 'DPoP')
  }
  const token = DPOP.exec(header)?.[1]
  if (token === undefined) throw invalidDpopToken('malformed DPoP access token')
  return token
}

import type { Socket } from 'node:net'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { invalidDpopToken, invalidRequest, invalidToken, missingToken, OAuthError, type BearerError, type GatehouseError, type ResourceScheme } from '../errors.js'

/**
 * Failures that Fastify, its router or Node's HTTP parser raise before a handler runs, mapped onto the one
 * error model (lib/errors.ts) so that every reply has the same `{error, error_description}` shape. The
 * error-handler plugin and the server options both take them from here.
 */

/**
 * The longest path parameter the router accepts: the admin API's `{username}` and `{client_id}` schemas
 * allow 256 characters (client ids are up to 128), and find-my-way's default of 100 made longer ones
 * unreachable. Longer values are refused by `routerError` below, like any other malformed URL.
 */
export const MAX_PARAM_LENGTH = 256

/**
 * A schema-validation or body-parsing failure as an invalid_request, or undefined for anything that is
 * not a client error (a bug: the caller answers 500 and logs it). An OAuth endpoint speaks only 400 here
 * (413 excepted): RFC 6749 §5.2 has no other status for a malformed request.
 */
export function fromFrameworkError (err: FastifyError, oauthEndpoint: boolean, scheme: ResourceScheme = 'Bearer'): GatehouseError | undefined {
  const jwt = fromJwtError(err, scheme)
  if (jwt) return jwt
  if (err.validation) return invalidRequest(validationText(err))
  const status = err.statusCode ?? 500
  if (status < 400 || status >= 500) return undefined
  return new OAuthError('invalid_request', clientErrorText(err), oauthEndpoint && status !== 413 ? 400 : status)
}

/** fast-jwt failures that mean a bug of ours (bad options), not a bad token. */
const JWT_BUGS = new Set(['FAST_JWT_INVALID_OPTION', 'FAST_JWT_SIGN_ERROR'])

/**
 * A failure of @fastify/jwt's `request.jwtVerify()` (`FST_JWT_*`) or of fast-jwt under it (`FAST_JWT_*`,
 * which @fastify/jwt passes on unwrapped for a wrong algorithm, type or a malformed token) as its RFC 6750
 * reply: no token is a bare 401 challenge, anything wrong with the token is 401 invalid_token (whatever
 * status @fastify/jwt chose: it says 400 for a malformed header, RFC 6750 and Gatehouse's own bearer check
 * say invalid_token). Undefined for anything else. The resource-server plugin classifies the same way.
 * `scheme`: the token came as `Authorization: DPoP` (RFC 9449 §7.1), so the refusal carries the DPoP challenge.
 */
export function fromJwtError (err: { code?: unknown }, scheme: ResourceScheme = 'Bearer'): BearerError | undefined {
  const code = err.code
  if (typeof code !== 'string') return undefined
  if (code === 'FST_JWT_NO_AUTHORIZATION_IN_HEADER' || code === 'FST_JWT_NO_AUTHORIZATION_IN_COOKIE') return missingToken()
  if (code.startsWith('FST_JWT_') || (code.startsWith('FAST_JWT_') && !JWT_BUGS.has(code))) {
    const description = code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED' || code === 'FAST_JWT_EXPIRED' ? 'the access token has expired' : undefined
    return scheme === 'DPoP' ? invalidDpopToken(description) : invalidToken(description)
  }
  return undefined
}

/**
 * Failures the router reports before any route runs (a path that does not decode, a path parameter past
 * MAX_PARAM_LENGTH): the same 400 invalid_request as every other malformed request, instead of Fastify's
 * own `{"error":"Bad Request","code":…}` shape (and its undocumented 414). A server option (`frameworkErrors`).
 */
export function routerError (error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const err = invalidRequest(error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? `a path parameter is longer than ${MAX_PARAM_LENGTH} characters` : 'the URL is malformed')
  reply.code(err.statusCode).header('cache-control', 'no-store').send(err.body())
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (both Content-Length and Transfer-Encoding,
 * a malformed header line, headers too large): Node would write a bare `400 Bad Request`; this writes the
 * same invalid_request JSON as everything else, then closes the connection (its framing is unknown). A
 * server option (`clientErrorHandler`).
 */
export function httpParserError (err: NodeJS.ErrnoException & { rawPacket?: unknown }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) { socket.destroy(); return }
  // The statuses Node's own handler uses: 408 when the request did not arrive in time, 431 for oversized headers.
  const [status, description] = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? ['408 Request Timeout', 'the request did not arrive in time']
    : err.code === 'HPE_HEADER_OVERFLOW'
      ? ['431 Request Header Fields Too Large', 'the request headers are too large']
      : ['400 Bad Request', 'the request is malformed']
  const body = JSON.stringify(invalidRequest(description).body())
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\nPragma: no-cache\r\n` +
    `Connection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
}

function validationText (err: FastifyError): string {
  const first = err.validation?.[0]
  if (!first) return 'the request is malformed'
  const where = first.instancePath ? first.instancePath.replace(/^\//, '') : ''
  const missing = (first.params as { missingProperty?: string }).missingProperty
  if (missing) return `missing parameter: ${missing}`
  return `${where || err.validationContext || 'request'}: ${first.message ?? 'is invalid'}`
}

function clientErrorText (err: FastifyError): string {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return 'the request body is too large'
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return 'unsupported content type'
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return 'the JSON body is malformed'
    default: return 'the request is malformed'
  }
}

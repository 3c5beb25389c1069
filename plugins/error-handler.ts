import fp from 'fastify-plugin'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { AdminError, BearerError, OAuthError, StoreUnavailableError } from '../lib/errors.js'

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const

/**
 * One place turns every failure into a reply:
 * - OAuthError → RFC 6749 §5.2 `{error, error_description}` with its status and headers;
 * - BearerError → RFC 6750 §3 with its `WWW-Authenticate` challenge;
 * - the database being unreachable → 503 temporarily_unavailable with Retry-After;
 * - schema validation and body-parsing failures → 400 invalid_request (413 for an oversized body);
 * - anything else → 500 server_error with a generic text (the detail goes to the log only).
 */
export default fp(async (fastify) => {
  fastify.setErrorHandler(async (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const oauth = request.routeOptions.config?.oauth === true
    if (oauth) reply.header('cache-control', 'no-store').header('pragma', 'no-cache')

    if (err instanceof OAuthError) {
      reply.code(err.statusCode).headers(err.headers)
      return { error: err.error, error_description: err.message }
    }
    if (err instanceof BearerError) {
      reply.code(err.statusCode).header('www-authenticate', err.challenge())
      return { error: err.code ?? 'unauthorized', error_description: err.message }
    }
    if (err instanceof AdminError) {
      reply.code(err.statusCode)
      return { error: err.error, error_description: err.message }
    }
    if (err instanceof StoreUnavailableError) {
      request.log.warn({ err }, 'database unavailable')
      reply.code(503).header('retry-after', '2').header('cache-control', 'no-store')
      return { error: 'temporarily_unavailable', error_description: 'the database is unreachable, try again shortly' }
    }
    if (err.validation) {
      reply.code(400)
      return { error: 'invalid_request', error_description: validationText(err) }
    }
    const status = err.statusCode ?? 500
    if (status === 429) {
      reply.code(429)
      return { error: 'too_many_requests', error_description: err.message }
    }
    if (status >= 400 && status < 500) {
      // Fastify's own client errors: bad JSON, unsupported media type, body too large...
      // An OAuth endpoint only speaks 400 here (except 413), in the OAuth shape.
      reply.code(oauth && status !== 413 ? 400 : status)
      return { error: 'invalid_request', error_description: clientErrorText(err) }
    }
    request.log.error({ err }, 'unexpected error')
    reply.code(500)
    return { error: 'server_error', error_description: 'an unexpected error occurred' }
  })

  fastify.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0]
    const allowed = METHODS.filter((method) => fastify.hasRoute({ method, url: path }))
    if (allowed.length > 0) {
      // No route matched, so the OAuth endpoints' own no-store hook did not run: a 405 from /token, /revoke
      // or /introspect must still carry RFC 6749 §5.1's headers (and no 405 is worth caching anywhere).
      reply.code(405).header('allow', allowed.join(', ')).header('cache-control', 'no-store').header('pragma', 'no-cache')
      return { error: 'invalid_request', error_description: `method ${request.method} is not allowed here; use ${allowed.join(' or ')}` }
    }
    reply.code(404)
    return { error: 'not_found', error_description: 'no such endpoint' }
  })
}, { name: 'error-handler' })

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

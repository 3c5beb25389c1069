import fp from 'fastify-plugin'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { GatehouseError, StoreUnavailableError } from '../lib/errors.js'
import { fromFrameworkError } from '../lib/http/framework-errors.js'
import { usesDpopScheme } from '../lib/oauth/bearer.js'

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const

/**
 * One place turns every failure into a reply. A GatehouseError (lib/errors.ts) carries its status, code,
 * description and headers; Fastify's own failures (validation, bad JSON, 413, 415) are mapped onto that
 * model first (lib/http/framework-errors.ts); anything else is a bug: 500 server_error with a generic text,
 * the detail in the log only. Unknown paths are 404 not_found; a known path with another method is 405.
 */
declare module 'fastify' {
  interface FastifyRequest {
    /** The `error` of the error reply this request got (for metrics), or null. */
    errorCode: string | null
  }
}

export default fp(async (fastify) => {
  fastify.decorateRequest('errorCode', null)
  // Which methods each route path has, as a pattern matching concrete paths: `hasRoute` compares route
  // definitions, so it never matched /admin/users/alice against /admin/users/:username.
  const routes: Array<{ method: string, pattern: RegExp, oauth: boolean }> = []
  fastify.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, pattern: routePattern(route.url), oauth: route.config?.oauth === true })
  })

  /** A request to an OAuth endpoint's path with a method it lacks is served by the not-found route. */
  const onOAuthPath = (request: FastifyRequest) => {
    const path = pathOf(request)
    return routes.some((r) => r.oauth && r.pattern.test(path))
  }

  fastify.setErrorHandler(async (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const oauth = request.routeOptions.config?.oauth === true
    // Every reply of /token, /revoke and /introspect is no-store, even an error raised before the method
    // was found wrong (a body that does not parse): RFC 6749 §5.1.
    if (oauth || onOAuthPath(request)) reply.header('cache-control', 'no-store').header('pragma', 'no-cache')

    // A token refused by @fastify/jwt (extension routes) after it came with the DPoP scheme gets the DPoP challenge.
    const known = err instanceof GatehouseError ? err : fromFrameworkError(err, oauth, usesDpopScheme(request.headers.authorization) ? 'DPoP' : 'Bearer')
    if (!known) {
      request.log.error({ err }, 'unexpected error')
      request.errorCode = 'server_error'
      reply.code(500)
      return { error: 'server_error', error_description: 'an unexpected error occurred' }
    }
    if (known instanceof StoreUnavailableError) request.log.warn({ err }, 'database unavailable')
    request.errorCode = known.error
    reply.code(known.statusCode).headers(known.headers)
    return known.body()
  })

  fastify.setNotFoundHandler(async (request, reply) => {
    const path = pathOf(request)
    const matching = routes.filter((r) => r.pattern.test(path))
    const allowed = METHODS.filter((method) => matching.some((r) => r.method === method))
    if (allowed.length > 0) {
      // No route matched, so the OAuth endpoints' own no-store hook did not run: a 405 from /token, /revoke
      // or /introspect must still carry RFC 6749 §5.1's headers (and no 405 is worth caching anywhere).
      request.errorCode = 'invalid_request'
      reply.code(405).header('allow', allowed.join(', ')).header('cache-control', 'no-store').header('pragma', 'no-cache')
      return { error: 'invalid_request', error_description: `method ${request.method} is not allowed here; use ${allowed.join(' or ')}` }
    }
    request.errorCode = 'not_found'
    reply.code(404)
    return { error: 'not_found', error_description: 'no such endpoint' }
  })
}, { name: 'error-handler' })

/** The request's path, without the query string. */
const pathOf = (request: FastifyRequest): string => request.url.split('?', 1)[0] ?? ''

/** A route URL (`/admin/users/:username`, `/docs/*`) as a pattern for concrete request paths. */
function routePattern (url: string): RegExp {
  const source = url.split('/').map((segment) => {
    if (segment === '*') return '.*'
    if (segment.startsWith(':')) return '[^/]+'
    return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  }).join('/')
  return new RegExp(`^${source}$`)
}

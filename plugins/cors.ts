import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { CorsPolicy } from '../lib/http/cors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Browsers from allowed origins (lib/http/cors.ts) may call this route cross-origin; it also answers CORS preflights. */
    cors?: boolean
  }
  interface FastifyInstance {
    cors: CorsPolicy
  }
}

/** How long a browser may reuse a preflight answer. */
const PREFLIGHT_MAX_AGE_SECONDS = 600
/** What single-page apps send: Basic, bearer or DPoP credentials (with the DPoP proof header) and a form or JSON body. */
const ALLOWED_HEADERS = 'Authorization, Content-Type, DPoP, X-Request-Id'
/** What a browser client may read from a CORS reply: the challenges, Retry-After, the request id, and the DPoP nonce (RFC 9449 §8). */
const EXPOSED_HEADERS = 'WWW-Authenticate, Retry-After, X-Request-Id, DPoP-Nonce'

/**
 * CORS on exactly the routes that set `config: { cors: true }` (/token, /revoke, /userinfo, JWKS,
 * metadata), never anywhere else: the authorization endpoint, the HTML pages and /admin send no CORS
 * header at all (RFC 9700 §2.6; SECURITY-CASES A8). Each such route gets an OPTIONS route for preflights.
 * No credentials mode: apps send tokens in headers, never cookies, to these endpoints.
 */
export default fp(async (fastify) => {
  const policy = new CorsPolicy({ clients: fastify.storage.clients, extraOrigins: fastify.config.corsOrigins ?? [], clock: fastify.clock })
  fastify.decorate('cors', policy)

  const methodsByUrl = new Map<string, Set<string>>()
  fastify.addHook('onRoute', (route) => {
    if (route.config?.cors !== true) return
    const methods = methodsByUrl.get(route.url)
    for (const method of [route.method].flat()) methods?.add(method)
    if (methods) return
    methodsByUrl.set(route.url, new Set([route.method].flat()))
    route.onRequest = [corsHeaders, ...[route.onRequest ?? []].flat()]
    fastify.route({
      method: 'OPTIONS',
      url: route.url,
      schema: { hide: true },
      handler: async (request, reply) => {
        const allowed = [...(methodsByUrl.get(route.url) ?? [])].join(', ')
        // Not a preflight (no Origin): RFC 9110 §9.3.7, an OPTIONS answered with what the path allows.
        reply.header('allow', `${allowed}, OPTIONS`).header('vary', 'Origin').header('cache-control', 'no-store').header('pragma', 'no-cache')
        const origin = request.headers.origin
        const method = request.headers['access-control-request-method']
        if (origin !== undefined && typeof method === 'string' && allowed.split(', ').includes(method) && await policy.allows(origin)) {
          reply.header('access-control-allow-origin', origin)
            .header('access-control-allow-methods', allowed)
            .header('access-control-allow-headers', ALLOWED_HEADERS)
            .header('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS))
        }
        // A refused preflight is the same 204 without the headers: the browser then blocks the call.
        return reply.code(204).send()
      }
    })
  })

  // Callback style: most calls (servers, curl) send no Origin and must not pay for a promise.
  function corsHeaders (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    reply.header('vary', 'Origin')
    const origin = request.headers.origin
    if (origin === undefined) return done()
    policy.allows(origin).then((allowed) => {
      if (allowed) reply.header('access-control-allow-origin', origin).header('access-control-expose-headers', EXPOSED_HEADERS)
      done()
    }, done)
  }
}, { name: 'cors', dependencies: ['config', 'clock', 'storage'] })

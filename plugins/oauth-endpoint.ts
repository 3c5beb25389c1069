import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import { invalidRequest } from '../lib/errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Marks an OAuth endpoint (/token, /revoke, /introspect): form-encoded only, no repeated parameters, no-store. */
    oauth?: boolean
    /** Parameters of an OAuth endpoint that may repeat (RFC 8707's `resource` at /par); any other repeated one is invalid_request. */
    oauthRepeatable?: readonly string[]
  }
}

/** Bodies of OAuth endpoints are small; node-oidc-provider caps them at 56 KiB. */
export const OAUTH_BODY_LIMIT = 64 * 1024

/**
 * Routes that set `config: { oauth: true }` get the RFC 6749 endpoint rules, so no route repeats them:
 * `Cache-Control: no-store` and `Pragma: no-cache` on every reply (§5.1), form encoding only (§3.2;
 * Fastify would otherwise parse JSON), a repeated parameter is invalid_request (§3.1), checked before
 * schema validation so Ajv's array coercion never answers in its own shape, and a parameter sent without
 * a value is treated as omitted (§3.1: Swagger UI's "Try it out" sends `refresh_token=` and the like).
 */
export default fp(async (fastify) => {
  fastify.addHook('onRoute', (route) => {
    if (route.config?.oauth !== true) return
    route.bodyLimit ??= OAUTH_BODY_LIMIT
    route.onRequest = [noStore, ...asArray(route.onRequest)]
    route.preValidation = [formOnly, ...asArray(route.preValidation)]
  })
}, { name: 'oauth-endpoint' })

async function noStore (_request: FastifyRequest, reply: import('fastify').FastifyReply): Promise<void> {
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
}

async function formOnly (request: FastifyRequest): Promise<void> {
  const type = request.headers['content-type'] ?? ''
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
    throw invalidRequest('the request body must be application/x-www-form-urlencoded')
  }
  const body = request.body
  if (body === null || typeof body !== 'object') return
  const empty: string[] = []
  const repeatable = request.routeOptions.config.oauthRepeatable ?? []
  for (const [name, value] of Object.entries(body)) {
    if (Array.isArray(value) && !repeatable.includes(name)) throw invalidRequest(`parameter ${name.slice(0, 64)} is repeated`)
    if (value === '') empty.push(name)
  }
  // RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were omitted from the request."
  for (const name of empty) Reflect.deleteProperty(body, name)
}

function asArray<T> (hooks: T | T[] | undefined): T[] {
  if (hooks === undefined) return []
  return Array.isArray(hooks) ? hooks : [hooks]
}

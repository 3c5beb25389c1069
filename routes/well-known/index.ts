import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { grantHandlers } from '../../lib/oauth/grants/index.js'
import { parseScope } from '../../lib/oauth/scopes.js'
import { Jwks, ServerMetadata } from '../../schemas/discovery.js'

/**
 * Discovery (RFC 8414, OpenID Connect Discovery) and keys (RFC 7517). Every URL comes from ISSUER alone,
 * never from the request's Host or X-Forwarded-* headers. The lists name what exists, nothing more.
 */
const wellKnownRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { config, signingKeys } = fastify
  const base = config.issuer.replace(/\/$/, '')
  const authMethods = ['client_secret_basic', 'client_secret_post', 'none']
  const metadata = {
    issuer: config.issuer,
    token_endpoint: `${base}/token`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    grant_types_supported: [...grantHandlers.keys()],
    response_types_supported: [] as string[],
    token_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint: `${base}/revoke`,
    revocation_endpoint_auth_methods_supported: authMethods,
    introspection_endpoint: `${base}/introspect`,
    // Introspection is for resource servers, which are confidential clients.
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    service_documentation: `${base}/docs`
  }
  const cache = 'public, max-age=60'

  // scopes_supported: every scope some user or client holds, plus `admin` (the admin API's). Read at most
  // once a minute; while the database is unreachable the last list is served (metadata keeps answering).
  let scopes = { readAt: -Infinity, list: ['admin'] }
  async function scopesSupported (): Promise<string[]> {
    const now = fastify.now()
    if (now - scopes.readAt < 60) return scopes.list
    try {
      const lists = [...await fastify.storage.users.scopeLists(), ...await fastify.storage.clients.scopeLists()]
      scopes = { readAt: now, list: [...new Set(['admin', ...lists.flatMap(parseScope)])].sort() }
    } catch (err) {
      fastify.log.warn({ err }, 'reading scopes for the metadata failed; serving the last list')
    }
    return scopes.list
  }
  const document = async () => ({ ...metadata, scopes_supported: await scopesSupported() })

  fastify.get('/.well-known/oauth-authorization-server', {
    schema: { tags: ['discovery'], summary: 'Authorization server metadata (RFC 8414)', response: { 200: ServerMetadata } }
  }, async (_request, reply) => {
    reply.header('cache-control', cache)
    return document()
  })

  fastify.get('/.well-known/openid-configuration', {
    schema: { tags: ['discovery'], summary: 'The same metadata at the OpenID Connect discovery path', response: { 200: ServerMetadata } }
  }, async (_request, reply) => {
    reply.header('cache-control', cache)
    return document()
  })

  fastify.get('/.well-known/jwks.json', {
    schema: { tags: ['discovery'], summary: 'Public signing keys (RFC 7517)', response: { 200: Jwks } }
  }, async (_request, reply) => {
    // Short cache: a rotated-in key must reach verifiers before it signs.
    reply.header('cache-control', 'public, max-age=60')
    return signingKeys.jwks()
  })
}

export default wellKnownRoutes

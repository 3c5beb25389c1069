import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { scopeCatalog, serverMetadata } from '../../lib/oauth/metadata.js'
import { ref } from '../../schemas/common.js'
import { Jwks, ServerMetadata } from '../../schemas/discovery.js'
import { noSecurity } from '../../schemas/security.js'

/** Discovery (RFC 8414, OpenID Connect Discovery) and keys (RFC 7517); the documents are built in lib/oauth/metadata.ts. */
const wellKnownRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { config, signingKeys, storage, clock } = fastify
  const metadata = serverMetadata(config)
  const scopesSupported = scopeCatalog({ storage, clock, warn: (err) => fastify.log.warn({ err }, 'reading scopes for the metadata failed; serving the last list') })
  const document = async () => ({ ...metadata, scopes_supported: await scopesSupported() })
  const cache = 'public, max-age=60'
  const jwksCache = `public, max-age=${signingKeys.jwksMaxAge}`

  fastify.get('/.well-known/oauth-authorization-server', {
    config: { cors: true },
    schema: {
      operationId: 'getServerMetadata',
      tags: ['discovery'],
      security: noSecurity,
      summary: 'Authorization server metadata (RFC 8414)',
      description: 'Endpoints, grant types, authentication methods and scopes; every URL derives from ISSUER.',
      response: { 200: ref(ServerMetadata, 'the metadata') }
    }
  }, async (_request, reply) => {
    reply.header('cache-control', cache)
    return document()
  })

  fastify.get('/.well-known/openid-configuration', {
    config: { cors: true },
    schema: {
      operationId: 'getOpenIdConfiguration',
      tags: ['discovery'],
      security: noSecurity,
      summary: 'OpenID Connect discovery',
      description: 'The same metadata at the OpenID Connect discovery path.',
      response: { 200: ref(ServerMetadata, 'the metadata') }
    }
  }, async (_request, reply) => {
    reply.header('cache-control', cache)
    return document()
  })

  fastify.get('/.well-known/jwks.json', {
    config: { cors: true },
    schema: {
      operationId: 'getJwks',
      tags: ['discovery'],
      security: noSecurity,
      summary: 'Public signing keys (RFC 7517)',
      description: 'The keys that verify access tokens, selected by the `kid` of a token\'s header; a rotated-in key is here before it signs.',
      response: { 200: ref(Jwks, 'the JWK Set') }
    }
  }, async (_request, reply) => {
    // Shorter than the publish delay allows (lib/keys/key-timing.ts jwksMaxAge): a rotated-in key reaches verifiers before it signs.
    reply.header('cache-control', jwksCache)
    return signingKeys.jwks()
  })
}

export default wellKnownRoutes

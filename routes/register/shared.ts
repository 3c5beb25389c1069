import type { FastifyInstance, FastifyRequest } from 'fastify'
import { invalidClientMetadata, NoSuchEndpointError } from '../../lib/errors.js'
import { scopeCatalog } from '../../lib/oauth/metadata.js'
import { clientObtainableScopes } from '../../lib/oauth/resources.js'
import type { RegistrationDeps } from '../../lib/oauth/registration.js'
import type { RegistrationRequest } from '../../lib/oauth/registration-metadata.js'

/** What the registration routes share: their dependencies, built once per route file. */
export function registrationDeps (fastify: FastifyInstance): RegistrationDeps {
  const { storage, clock, config } = fastify
  const catalog = scopeCatalog({ storage, clock, warn: (err) => fastify.log.warn({ err }, 'reading scopes for registration failed; using the last list') })
  const knownScopes = clientObtainableScopes(catalog, storage.resources)
  return { storage, clock, config, knownScopes }
}

/** REGISTRATION=off: the endpoints do not exist (the same 404 as an unknown path). */
export function requireRegistrationOn (fastify: FastifyInstance): void {
  if (fastify.config.registration === 'off') throw new NoSuchEndpointError()
}

/**
 * The body as RFC 7591 §3.1 sends it: a JSON object. Schema failures (the route attaches them instead of
 * answering) are invalid_client_metadata too (§3.2.2): the rules in lib/ then say precisely what is wrong.
 */
export function registrationBody (request: FastifyRequest): RegistrationRequest {
  if (!/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? '')) throw invalidClientMetadata('the body must be a JSON object (Content-Type: application/json)')
  const body = request.body
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalidClientMetadata('the body must be a JSON object')
  return body as RegistrationRequest
}

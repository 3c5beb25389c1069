import fp from 'fastify-plugin'
import { sharedSchemas } from '../schemas/shared.js'

/**
 * The shared schemas (schemas/shared.ts), added once by their `$id` so that route schemas reference them
 * (`ref(UserView)` is `{ $ref: 'User#' }`) for validation, serialization and the OpenAPI document alike.
 * Extension routes may reference them too.
 */
export default fp(async (fastify) => {
  for (const schema of sharedSchemas) fastify.addSchema(schema)
}, { name: 'schemas' })

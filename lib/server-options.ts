import type { FastifyServerOptions } from 'fastify'

/**
 * Ajv settings for every Fastify instance Gatehouse builds (server, tests, OpenAPI generation):
 * unknown properties in a closed schema are refused, not silently dropped. Arrays coerce from repeated
 * query keys; OAuth endpoints refuse repeated parameters before validation (plugins/oauth-endpoint.ts).
 */
export const ajvOptions: NonNullable<FastifyServerOptions['ajv']> = {
  customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false }
}

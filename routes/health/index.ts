import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { HealthStatus } from '../../schemas/health.js'

/** Liveness (the process answers) and readiness (the database answers too). */
const healthRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage } = fastify

  fastify.get('/health', {
    schema: { tags: ['operations'], summary: 'Liveness', response: { 200: HealthStatus } }
  }, async () => ({ status: 'ok' as const }))

  fastify.get('/ready', {
    schema: { tags: ['operations'], summary: 'Readiness: 503 while the database is unreachable', response: { 200: HealthStatus, 503: HealthStatus } }
  }, async (request, reply) => {
    try {
      await storage.ping()
      return { status: 'ok' as const, database: storage.kind }
    } catch (err) {
      request.log.warn({ err }, 'readiness check: database unreachable')
      reply.code(503).header('retry-after', '2')
      return { status: 'unavailable' as const, database: storage.kind }
    }
  })
}

export default healthRoutes

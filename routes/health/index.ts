import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ref } from '../../schemas/common.js'
import { HealthStatus } from '../../schemas/health.js'
import { noSecurity } from '../../schemas/security.js'

/** Liveness (the process answers) and readiness (the database answers too). */
const healthRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage } = fastify

  fastify.get('/health', {
    schema: {
      operationId: 'getHealth',
      tags: ['operations'],
      security: noSecurity,
      summary: 'Liveness',
      description: 'Answers while the process runs, whatever the database does.',
      response: { 200: ref(HealthStatus, 'alive') }
    }
  }, async () => ({ status: 'ok' as const }))

  fastify.get('/ready', {
    schema: {
      operationId: 'getReadiness',
      tags: ['operations'],
      security: noSecurity,
      summary: 'Readiness',
      description: 'Ready to serve: 503 while the database is unreachable (Redis is not consulted).',
      response: { 200: ref(HealthStatus, 'ready'), 503: ref(HealthStatus, 'the database is unreachable; Retry-After') }
    }
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

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { noSecurity } from '../../schemas/security.js'

/** GET /metrics: Prometheus text. Counts and gauges only; nothing in it is secret. */
const metricsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, metrics } = fastify

  fastify.get('/metrics', {
    schema: {
      operationId: 'getMetrics',
      tags: ['operations'],
      security: noSecurity,
      summary: 'Prometheus metrics',
      description: 'Text exposition format: requests by route pattern and status, database up, memory, event-loop delay. With WORKERS > 1, every worker process\'s samples, each labelled `worker`.',
      produces: ['text/plain'],
      response: { 200: Type.String({ description: 'text/plain; version=0.0.4' }) }
    }
  }, async (_request, reply) => {
    const up = await storage.ping().then(() => true, () => false)
    reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8').header('cache-control', 'no-store')
    return metrics.scrape(up)
  })
}

export default metricsRoutes

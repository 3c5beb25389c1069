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
      description: 'Text exposition format: requests and latency by route pattern, errors by code, tokens issued, security events, database up, ping time and pool use, memory, event-loop delay (README, Logs and metrics).',
      produces: ['text/plain'],
      response: { 200: Type.String({ description: 'text/plain; version=0.0.4' }) }
    }
  }, async (_request, reply) => {
    // The scrape's own round trip to the database: whether it answers, and how long it took.
    const started = process.hrtime.bigint()
    const up = await storage.ping().then(() => true, () => false)
    const pingSeconds = Number(process.hrtime.bigint() - started) / 1e9
    reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8').header('cache-control', 'no-store')
    return metrics.render({ up, pingSeconds })
  })
}

export default metricsRoutes

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { invalidToken, missingToken } from '../../lib/errors.js'
import { reusedFor, SCRAPE_CACHE_MS } from '../../lib/ops/metrics.js'
import { metricsAccess } from '../../lib/ops/metrics-token.js'
import { BearerErrorSchema, ref } from '../../schemas/common.js'
import { metricsSecurity } from '../../schemas/security.js'

/** GET /metrics: Prometheus text. Counts and gauges, no secret; client ids and load, so METRICS_TOKEN can close it. */
const metricsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, metrics, clock, config } = fastify

  // The scrape's own round trip to the database (whether it answers, and how long it took), then the exposition:
  // at most once per SCRAPE_CACHE_MS, however many scrapes arrive.
  const scrape = reusedFor(SCRAPE_CACHE_MS, clock.nowMs, async () => {
    const started = process.hrtime.bigint()
    const up = await storage.ping().then(() => true, () => false)
    const pingSeconds = Number(process.hrtime.bigint() - started) / 1e9
    return metrics.scrape({ up, pingSeconds })
  })

  fastify.get('/metrics', {
    schema: {
      operationId: 'getMetrics',
      tags: ['operations'],
      security: metricsSecurity,
      summary: 'Prometheus metrics',
      description: 'Text exposition format: requests and latency by route pattern, errors by code, tokens issued, security events, database up, ping time and pool use, and the standard process metrics under prom-client\'s names (CPU, start time, memory, open fds, GC pauses, the event-loop delay since the previous scrape) (docs/operating.md, Logs and metrics). With WORKERS > 1, every worker process\'s samples, each labelled `worker`. ' +
        'When METRICS_TOKEN is set, only with `Authorization: Bearer <METRICS_TOKEN>`. One exposition is served for up to a second.',
      response: {
        200: { description: 'text/plain; version=0.0.4', content: { 'text/plain': { schema: Type.String({ description: 'text/plain; version=0.0.4' }) } } },
        401: { description: 'METRICS_TOKEN is set and the request did not carry it (WWW-Authenticate: Bearer)', content: { 'application/json': { schema: ref(BearerErrorSchema) } } }
      }
    },
    // Callback style: refused before anything else runs.
    onRequest: (request, _reply, done) => {
      const access = metricsAccess(config.metricsToken, request.headers.authorization)
      if (access === 'allowed') done()
      else done(access === 'no-token' ? missingToken() : invalidToken('not the metrics token'))
    }
  }, async (_request, reply) => {
    reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8').header('cache-control', 'no-store')
    return scrape(undefined)
  })
}

export default metricsRoutes

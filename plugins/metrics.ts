import fp from 'fastify-plugin'
import { clusterScrape, type DatabaseProbe } from '../lib/ops/cluster.js'
import { Registry, type Counter, type Histogram } from '../lib/ops/metrics.js'
import { addProcessMetrics } from '../lib/ops/process-metrics.js'

export interface Metrics {
  /** Where other plugins add their own metrics (counters, gauges, histograms). */
  registry: Registry
  /** Tokens issued, by grant type and client. */
  tokensIssued: Counter
  /** Prometheus text exposition (version 0.0.4) of this process, with what the scrape measured of the database. */
  render (database: DatabaseProbe): string
  /**
   * What /metrics answers: this process's exposition, or with WORKERS > 1 every worker's, merged through the
   * primary, each sample labelled `worker` (lib/ops/cluster.ts).
   */
  scrape (database: DatabaseProbe): Promise<string>
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

/**
 * Per-route request counts and latency histograms (route patterns, never raw URLs: bounded label values),
 * replies by error code, tokens issued, and the standard process metrics (lib/ops/process-metrics.ts). Recording is a few
 * Map lookups per request (lib/ops/metrics.ts), cheap enough for the hot path.
 */
export default fp(async (fastify) => {
  const registry = new Registry()
  const requests = registry.counter('gatehouse_http_requests_total', 'HTTP requests answered, by method, route pattern and status.', ['method', 'route', 'status'])
  const duration: Histogram = registry.histogram('gatehouse_http_request_duration_seconds', 'Time from the request\'s arrival to its reply, by method and route pattern.', ['method', 'route'])
  const errors = registry.counter('gatehouse_http_errors_total', 'Error replies by route pattern and error code (invalid_grant, too_many_requests, temporarily_unavailable, ...).', ['route', 'error'])
  const tokensIssued = registry.counter('gatehouse_tokens_issued_total', 'Token replies issued, by grant type and client.', ['grant_type', 'client_id'])
  let database = { up: true, pingSeconds: 0 }
  registry.gauge('gatehouse_database_up', '1 when the database answered the scrape\'s ping.', () => database.up ? 1 : 0)
  registry.gauge('gatehouse_database_ping_seconds', 'Round trip of the scrape\'s ping to the database (store latency).', () => database.pingSeconds)
  registry.gauge('gatehouse_database_connections', 'PostgreSQL pool connections by state (total, idle, waiting: requests queued for a connection). Absent on SQLite.', () => {
    const pool = fastify.storage.poolStats?.()
    if (!pool) return []
    return (['total', 'idle', 'waiting'] as const).map((state) => ({ labels: { state }, value: pool[state] }))
  })
  registry.counterFrom('gatehouse_cache_lookups_total', 'User and client lookups by the bearer check and the grants, by cache (users, clients) and result (hit: from memory; miss: read from the store).', () =>
    fastify.storage.cache.stats().flatMap(({ cache, hits, misses }) => [
      { labels: { cache, result: 'hit' }, value: hits },
      { labels: { cache, result: 'miss' }, value: misses }
    ]))
  // CPU, start time, memory, file descriptors, GC and the event loop over the last scrape window (prom-client's names).
  const processMetrics = addProcessMetrics(registry)
  fastify.addHook('onClose', async () => processMetrics.close())

  // Callback style, not async: this runs on every response, and an async hook costs a promise each time.
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched'
    const status = reply.statusCode
    requests.inc([request.method, route, STATUS[status] ?? String(status)])
    duration.observe([request.method, route], reply.elapsedTime / 1000)
    // The error handler names the code of every error reply it writes.
    if (request.errorCode !== null) errors.inc([route, request.errorCode])
    done()
  })

  const render = (measured: DatabaseProbe) => {
    database = measured
    return registry.render()
  }
  const scrapeWorkers = clusterScrape(render)
  fastify.decorate('metrics', {
    registry,
    tokensIssued,
    render,
    scrape: async (measured: DatabaseProbe) => scrapeWorkers ? scrapeWorkers(measured) : render(measured)
  } satisfies Metrics)
}, { name: 'metrics' })

/** Status codes as label values, made once. */
const STATUS: Record<number, string> = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [i + 100, String(i + 100)]))

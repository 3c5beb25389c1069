import fp from 'fastify-plugin'
import { monitorEventLoopDelay } from 'node:perf_hooks'

export interface Metrics {
  /** Prometheus text exposition (version 0.0.4). */
  render (databaseUp: boolean): string
  /**
   * Where other plugins add counters of their own (without labels here), rendered with the others. The
   * shape of main's lib/metrics.ts Registry (`registry.counter(name, help)`, `inc()`), so callers keep working.
   */
  registry: { counter (name: string, help: string): { inc (): void } }
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

const escape = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')

/**
 * Request counts by route pattern (never the raw URL: bounded label values), process memory, uptime and
 * event-loop delay. Counting is one Map increment per request, cheap enough for the hot path.
 */
export default fp(async (fastify) => {
  const requests = new Map<string, number>()
  const counters = new Map<string, { help: string, value: number }>()
  const loop = monitorEventLoopDelay({ resolution: 10 })
  loop.enable()
  fastify.addHook('onClose', async () => loop.disable())

  // Callback style, not async: this runs on every response, and an async hook costs a promise each time.
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched'
    const key = `${request.method}\u0000${route}\u0000${reply.statusCode}`
    requests.set(key, (requests.get(key) ?? 0) + 1)
    done()
  })

  fastify.decorate('metrics', {
    render (databaseUp: boolean) {
      const lines = [
        '# HELP gatehouse_http_requests_total HTTP requests answered, by method, route pattern and status.',
        '# TYPE gatehouse_http_requests_total counter'
      ]
      for (const [key, count] of requests) {
        const [method = '', route = '', status = ''] = key.split('\u0000')
        lines.push(`gatehouse_http_requests_total{method="${escape(method)}",route="${escape(route)}",status="${status}"} ${count}`)
      }
      for (const [name, { help, value }] of counters) lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${value}`)
      const memory = process.memoryUsage()
      lines.push(
        '# HELP gatehouse_database_up 1 when the database answered the scrape\'s ping.',
        '# TYPE gatehouse_database_up gauge',
        `gatehouse_database_up ${databaseUp ? 1 : 0}`,
        '# HELP process_resident_memory_bytes Resident memory size in bytes.',
        '# TYPE process_resident_memory_bytes gauge',
        `process_resident_memory_bytes ${memory.rss}`,
        '# HELP nodejs_heap_used_bytes V8 heap in use, in bytes.',
        '# TYPE nodejs_heap_used_bytes gauge',
        `nodejs_heap_used_bytes ${memory.heapUsed}`,
        '# HELP process_uptime_seconds Seconds since the process started.',
        '# TYPE process_uptime_seconds gauge',
        `process_uptime_seconds ${process.uptime().toFixed(3)}`,
        '# HELP nodejs_eventloop_delay_p99_seconds 99th percentile event-loop delay since start.',
        '# TYPE nodejs_eventloop_delay_p99_seconds gauge',
        `nodejs_eventloop_delay_p99_seconds ${(loop.percentile(99) / 1e9).toFixed(6)}`
      )
      return lines.join('\n') + '\n'
    },
    registry: {
      counter (name, help) {
        if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name) || counters.has(name)) throw new Error(`bad or duplicate metric name: ${name}`)
        const counter = { help, value: 0 }
        counters.set(name, counter)
        return { inc: () => { counter.value++ } }
      }
    }
  } satisfies Metrics)
}, { name: 'metrics' })

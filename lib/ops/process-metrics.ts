import { readdirSync, readFileSync } from 'node:fs'
import { constants, monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks'
import type { Registry } from './metrics.js'

/**
 * The standard process metrics, under the names prom-client's default collectors give them (so dashboards and
 * alerts written for any Node service work): CPU, start time, memory, open and maximum file descriptors, garbage
 * collection, the Node version, and the event-loop delay over the last scrape window. Everything but GC is read
 * when /metrics is scraped; GC pauses are counted by a PerformanceObserver as V8 reports them (nothing runs per
 * request). With WORKERS each worker reports its own, labelled `worker` by the merge (lib/ops/cluster.ts), as
 * every other metric: `sum without (worker)` gives the server's CPU or memory, and a restarted worker shows
 * under its own label with a new `process_start_time_seconds`.
 */

/** GC pause buckets in seconds (prom-client's). */
export const GC_BUCKETS = [0.001, 0.01, 0.1, 1, 2, 5]

/** The event-loop delay sampling period, ms (prom-client's default). */
export const EVENT_LOOP_RESOLUTION_MS = 10

/** V8's GC kinds as perf_hooks names them, as label values. */
const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb'
}

/** The event-loop delay of one scrape window, seconds (all 0 when the window has no sample). */
export interface LoopWindow { min: number, max: number, mean: number, stddev: number, p50: number, p90: number, p99: number }

/** What the window's histogram says, nanoseconds to seconds; an empty one (min > max) reads as 0 throughout. */
export function loopWindow (h: { min: number, max: number, mean: number, stddev: number, percentile: (p: number) => number }): LoopWindow {
  if (!(h.max > 0) || h.min > h.max) return { min: 0, max: 0, mean: 0, stddev: 0, p50: 0, p90: 0, p99: 0 }
  const s = (ns: number) => Number.isFinite(ns) ? ns / 1e9 : 0
  return { min: s(h.min), max: s(h.max), mean: s(h.mean), stddev: s(h.stddev), p50: s(h.percentile(50)), p90: s(h.percentile(90)), p99: s(h.percentile(99)) }
}

/** Open file descriptors, from /proc (Linux); undefined elsewhere. The listing's own descriptor is not counted. */
export function openFds (dir = '/proc/self/fd'): number | undefined {
  try { return readdirSync(dir).length - 1 } catch { return undefined }
}

/** The soft limit on open files, from /proc/self/limits (Linux); undefined elsewhere or when unlimited. */
export function maxFds (limits?: string): number | undefined {
  try {
    const text = limits ?? readFileSync('/proc/self/limits', 'utf8')
    const match = /^Max open files\s+(\d+)/m.exec(text)
    return match ? Number(match[1]) : undefined
  } catch { return undefined }
}

const optional = (value: number | undefined) => value === undefined ? [] : [{ value }]

/**
 * Adds the process metrics to `registry`. The event-loop figures are the window since the previous scrape:
 * `registry.render` reads the monitor and resets it (so a stall shows in the next scrape, and only there; with
 * several scrapers, each window ends at whichever scrape came last). Returns what stops the monitor and observer.
 */
export function addProcessMetrics (registry: Registry): { close: () => void } {
  const cpu = () => process.cpuUsage()
  registry.counterFrom('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.', () => cpu().user / 1e6)
  registry.counterFrom('process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.', () => cpu().system / 1e6)
  registry.counterFrom('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', () => { const c = cpu(); return (c.user + c.system) / 1e6 })
  // performance.timeOrigin: when this process started, ms since the epoch (kept to the ms: a quick restart shows).
  const started = performance.timeOrigin / 1000
  registry.gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', () => started)
  registry.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', () => process.memoryUsage.rss())
  registry.gauge('process_open_fds', 'Number of open file descriptors (Linux).', () => optional(openFds()))
  const max = maxFds()
  registry.gauge('process_max_fds', 'Maximum number of open file descriptors (Linux).', () => optional(max))
  registry.gauge('nodejs_heap_used_bytes', 'V8 heap in use, in bytes.', () => process.memoryUsage().heapUsed)
  registry.gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', () => process.memoryUsage().heapTotal)
  registry.gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', () => process.memoryUsage().external)
  registry.gauge('process_uptime_seconds', 'Seconds since the process started.', () => process.uptime())
  const [major = '', minor = '', patch = ''] = process.versions.node.split('.')
  registry.gauge('nodejs_version_info', 'Node.js version info.', () => [{ labels: { version: process.version, major, minor, patch }, value: 1 }])

  // Garbage collection: one observation per pause V8 reports, by kind.
  const gc = registry.histogram('nodejs_gc_duration_seconds', 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.', ['kind'], GC_BUCKETS)
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind
      gc.observe([GC_KINDS[kind ?? -1] ?? 'other'], entry.duration / 1000)
    }
  })
  observer.observe({ entryTypes: ['gc'] })

  // The event loop, over the last scrape window: read and reset at the start of each render.
  const loop = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS })
  loop.enable()
  let window = loopWindow(loop)
  registry.beforeRender(() => {
    window = loopWindow(loop)
    loop.reset()
  })
  const windowed = (name: string, figure: keyof LoopWindow, what: string) =>
    registry.gauge(name, `${what} event loop delay in seconds, since the previous scrape.`, () => window[figure])
  windowed('nodejs_eventloop_lag_min_seconds', 'min', 'The minimum recorded')
  windowed('nodejs_eventloop_lag_max_seconds', 'max', 'The maximum recorded')
  windowed('nodejs_eventloop_lag_mean_seconds', 'mean', 'The mean of the recorded')
  windowed('nodejs_eventloop_lag_stddev_seconds', 'stddev', 'The standard deviation of the recorded')
  windowed('nodejs_eventloop_lag_p50_seconds', 'p50', 'The 50th percentile of the recorded')
  windowed('nodejs_eventloop_lag_p90_seconds', 'p90', 'The 90th percentile of the recorded')
  windowed('nodejs_eventloop_lag_p99_seconds', 'p99', 'The 99th percentile of the recorded')
  // Gatehouse's own name from before, kept (docs, dashboards); now the window's figure too, as the others.
  windowed('nodejs_eventloop_delay_p99_seconds', 'p99', '99th percentile')

  return { close: () => { loop.disable(); observer.disconnect() } }
}

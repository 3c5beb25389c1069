/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered as the text exposition
 * format (version 0.0.4). Built for the request path: recording is a few Map lookups and a number increment,
 * no allocation once a label set has been seen, and every metric caps its label sets (MAX_SERIES) so that
 * values a request carries can never grow it without bound (the overflow is counted under `other`).
 */

/** Most label sets one metric keeps; past it, new ones are counted under the label value `other`. */
export const MAX_SERIES = 2_000

/** Latency buckets in seconds: from a cached bearer check (~100 µs) to a slow password hash under load. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

type Labels = readonly string[]

interface Metric {
  render (lines: string[]): void
}

const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
const formatLabels = (names: Labels, values: Labels, extra = '') => {
  const pairs = names.map((n, i) => `${n}="${escapeLabel(values[i] ?? '')}"`)
  if (extra) pairs.push(extra)
  return pairs.length > 0 ? `{${pairs.join(',')}}` : ''
}

/** Series by label values, through nested maps (one lookup per label, no key string built per call). */
class Series<T> {
  readonly #root = new Map<string, unknown>()
  readonly #all: Array<{ values: string[], value: T }> = []
  constructor (private readonly depth: number, private readonly make: () => T) {}

  get (values: Labels): T {
    let node = this.#root
    for (let i = 0; i < this.depth - 1; i++) {
      const key = values[i] ?? ''
      let next = node.get(key) as Map<string, unknown> | undefined
      if (next === undefined) {
        if (this.#all.length >= MAX_SERIES) return this.#overflow()
        node.set(key, next = new Map())
      }
      node = next
    }
    const last = values[this.depth - 1] ?? ''
    let found = node.get(last) as T | undefined
    if (found === undefined) {
      if (this.#all.length >= MAX_SERIES) return this.#overflow()
      found = this.make()
      node.set(last, found)
      this.#all.push({ values: [...values], value: found })
    }
    return found
  }

  entries (): ReadonlyArray<{ values: string[], value: T }> { return this.#all }

  #overflowSeries: T | undefined
  #overflow (): T {
    if (this.#overflowSeries === undefined) {
      this.#overflowSeries = this.make()
      this.#all.push({ values: Array.from({ length: this.depth }, () => 'other'), value: this.#overflowSeries })
    }
    return this.#overflowSeries
  }
}

export class Counter implements Metric {
  readonly #series: Series<{ n: number }>
  constructor (readonly name: string, readonly help: string, readonly labels: Labels = []) {
    this.#series = new Series(Math.max(1, labels.length), () => ({ n: 0 }))
    // A counter without labels exists from the start at 0, so that a rate or an alert on it is defined.
    if (labels.length === 0) this.#series.get([])
  }

  inc (values: Labels = [], by = 1): void { this.#series.get(values).n += by }

  render (lines: string[]): void {
    lines.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`)
    for (const { values, value } of this.#series.entries()) lines.push(`${this.name}${formatLabels(this.labels, values)} ${value.n}`)
  }
}

/** A gauge read when /metrics is scraped (pool usage, memory): nothing is recorded on the request path. */
export class Gauge implements Metric {
  constructor (
    readonly name: string,
    readonly help: string,
    readonly read: () => Array<{ labels?: Record<string, string>, value: number }> | number,
    /** `counter` for a total kept elsewhere (a cache's hit count) and only read at the scrape. */
    readonly type: 'gauge' | 'counter' = 'gauge'
  ) {}

  render (lines: string[]): void {
    lines.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`)
    const read = this.read()
    const samples = typeof read === 'number' ? [{ value: read }] : read
    for (const s of samples) {
      const names = Object.keys(s.labels ?? {})
      lines.push(`${this.name}${formatLabels(names, names.map((n) => s.labels?.[n] ?? ''))} ${formatNumber(s.value)}`)
    }
  }
}

export class Histogram implements Metric {
  readonly #series: Series<{ counts: number[], sum: number, count: number }>
  constructor (readonly name: string, readonly help: string, readonly labels: Labels = [], readonly buckets = LATENCY_BUCKETS) {
    this.#series = new Series(Math.max(1, labels.length), () => ({ counts: new Array<number>(buckets.length).fill(0), sum: 0, count: 0 }))
  }

  observe (values: Labels, seconds: number): void {
    const s = this.#series.get(values)
    s.sum += seconds
    s.count++
    // Cumulative counts are computed at render time; here only the first bucket that holds the value counts.
    for (let i = 0; i < this.buckets.length; i++) {
      if (seconds <= (this.buckets[i] as number)) { (s.counts[i] as number)++; return }
    }
  }

  render (lines: string[]): void {
    lines.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`)
    for (const { values, value } of this.#series.entries()) {
      let cumulative = 0
      this.buckets.forEach((le, i) => {
        cumulative += value.counts[i] ?? 0
        lines.push(`${this.name}_bucket${formatLabels(this.labels, values, `le="${le}"`)} ${cumulative}`)
      })
      lines.push(`${this.name}_bucket${formatLabels(this.labels, values, 'le="+Inf"')} ${value.count}`)
      lines.push(`${this.name}_sum${formatLabels(this.labels, values)} ${formatNumber(value.sum)}`)
      lines.push(`${this.name}_count${formatLabels(this.labels, values)} ${value.count}`)
    }
  }
}

const formatNumber = (n: number) => Number.isInteger(n) ? String(n) : n.toFixed(6)

export class Registry {
  readonly #metrics: Metric[] = []
  readonly #before: Array<() => void> = []

  /** Runs at the start of every render, before any metric is read (a window that each scrape closes). */
  beforeRender (fn: () => void): void { this.#before.push(fn) }

  counter (name: string, help: string, labels: Labels = []): Counter { return this.#add(new Counter(name, help, labels)) }
  gauge (name: string, help: string, read: Gauge['read']): Gauge { return this.#add(new Gauge(name, help, read)) }
  /** A counter whose total another module keeps (nothing recorded on the request path by the registry). */
  counterFrom (name: string, help: string, read: Gauge['read']): Gauge { return this.#add(new Gauge(name, help, read, 'counter')) }
  histogram (name: string, help: string, labels: Labels = [], buckets?: number[]): Histogram { return this.#add(new Histogram(name, help, labels, buckets)) }

  render (): string {
    for (const fn of this.#before) fn()
    const lines: string[] = []
    for (const metric of this.#metrics) metric.render(lines)
    return lines.join('\n') + '\n'
  }

  #add<T extends Metric> (metric: T): T {
    this.#metrics.push(metric)
    return metric
  }
}

/**
 * How long one scrape's exposition is answered again: a flood of scrapes (anyone who can reach /metrics, or many
 * Prometheus replicas) costs at most one exposition a second, and with WORKERS at most one merge of every worker's
 * a second in the primary. Prometheus scrapes every 15 s or more, so it never sees a repeat.
 */
export const SCRAPE_CACHE_MS = 1_000

/**
 * `produce`, shared while it runs and its result reused for `ms` after it resolved (by `nowMs`, the injected
 * clock). A failure is not reused. The argument of the call that produced the result wins; later callers' are
 * ignored until it expires.
 */
export function reusedFor<A, T> (ms: number, nowMs: () => number, produce: (arg: A) => Promise<T>): (arg: A) => Promise<T> {
  let last: { value: T, at: number } | undefined
  let running: Promise<T> | undefined
  return async (arg) => {
    if (last !== undefined && nowMs() - last.at < ms) return last.value
    running ??= produce(arg).then((value) => {
      last = { value, at: nowMs() }
      return value
    }).finally(() => { running = undefined })
    return running
  }
}

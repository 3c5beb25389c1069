/**
 * A strict reader of the Prometheus text exposition format (0.0.4), for tests: every line must be a HELP, a
 * TYPE or a sample of a declared metric, and histograms must be consistent (cumulative buckets, +Inf = count).
 */
export interface Sample { name: string, labels: Record<string, string>, value: number }
export interface Exposition { types: Map<string, string>, samples: Sample[], problems: string[] }

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.e+-]+|\+Inf|NaN)$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y

export function parseExposition (text: string): Exposition {
  const types = new Map<string, string>()
  const samples: Sample[] = []
  const problems: string[] = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line)
    if (meta) {
      if (meta[1] === 'TYPE') types.set(meta[2]!, meta[3]!)
      continue
    }
    const m = SAMPLE.exec(line)
    if (!m) { problems.push(`not a sample: ${line}`); continue }
    const labels: Record<string, string> = {}
    const body = m[3] ?? ''
    LABEL.lastIndex = 0
    while (LABEL.lastIndex < body.length) {
      const l = LABEL.exec(body)
      if (!l) { problems.push(`bad labels: ${line}`); break }
      labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\')
    }
    const name = m[1]!
    const family = name.replace(/_(bucket|sum|count)$/, '')
    if (!types.has(name) && !types.has(family)) problems.push(`sample of an undeclared metric: ${name}`)
    samples.push({ name, labels, value: m[4] === '+Inf' ? Infinity : Number(m[4]) })
  }
  for (const [name, type] of types) {
    if (type !== 'histogram') continue
    const series = new Map<string, Sample[]>()
    for (const s of samples.filter((x) => x.name === `${name}_bucket`)) {
      const { le: _le, ...rest } = s.labels
      const key = JSON.stringify(rest)
      series.set(key, [...(series.get(key) ?? []), s])
    }
    for (const [key, buckets] of series) {
      for (let i = 1; i < buckets.length; i++) if (buckets[i]!.value < buckets[i - 1]!.value) problems.push(`${name}${key}: buckets not cumulative`)
      const inf = buckets.find((b) => b.labels.le === '+Inf')
      const count = samples.find((s) => s.name === `${name}_count` && JSON.stringify(s.labels) === key)
      if (!inf || !count || inf.value !== count.value) problems.push(`${name}${key}: +Inf bucket differs from _count`)
    }
  }
  return { types, samples, problems }
}

/** The value of the one sample with this name and these labels (undefined when absent). */
export function sampleValue (e: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  return e.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value
}

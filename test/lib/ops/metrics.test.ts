import t from 'tap'
import { Histogram, LATENCY_BUCKETS, MAX_SERIES, Registry } from '../../../lib/ops/metrics.js'
import { parseExposition, sampleValue } from '../../support/prometheus.js'

// The registry behind /metrics: counters, gauges and histograms rendered in the Prometheus text format (0.0.4),
// read back with the strict reader of test/support/prometheus.ts.

t.test('counters: a label-free one exists at 0 from the start; labelled ones appear when used', async (t) => {
  const registry = new Registry()
  const plain = registry.counter('gatehouse_things_total', 'Things.')
  const labelled = registry.counter('gatehouse_requests_total', 'Requests.', ['route', 'status'])
  let e = parseExposition(registry.render())
  t.same(e.problems, [])
  t.equal(e.types.get('gatehouse_things_total'), 'counter')
  t.equal(sampleValue(e, 'gatehouse_things_total'), 0, 'defined before the first increment')
  t.notOk(e.samples.some((s) => s.name === 'gatehouse_requests_total'), 'no labelled series yet')
  plain.inc()
  plain.inc([], 2)
  labelled.inc(['/token', '200'])
  labelled.inc(['/token', '200'])
  labelled.inc(['/token', '400'])
  e = parseExposition(registry.render())
  t.equal(sampleValue(e, 'gatehouse_things_total'), 3)
  t.equal(sampleValue(e, 'gatehouse_requests_total', { route: '/token', status: '200' }), 2)
  t.equal(sampleValue(e, 'gatehouse_requests_total', { route: '/token', status: '400' }), 1)
})

t.test('label values are escaped: backslash, quote and newline stay inside their label', async (t) => {
  const registry = new Registry()
  registry.counter('gatehouse_odd_total', 'Odd labels.', ['value']).inc(['a\\b"c\nd'])
  const text = registry.render()
  t.match(text, /gatehouse_odd_total\{value="a\\\\b\\"c\\nd"\} 1\n/)
  const e = parseExposition(text)
  t.same(e.problems, [])
  t.equal(sampleValue(e, 'gatehouse_odd_total', { value: 'a\\b"c\nd' }), 1, 'read back as it was')
})

t.test('histograms: cumulative buckets, +Inf equal to the count, the sum', async (t) => {
  const registry = new Registry()
  const h = registry.histogram('gatehouse_duration_seconds', 'Durations.', ['route'], [0.1, 1])
  for (const seconds of [0.05, 0.1, 0.5, 2]) h.observe(['/a'], seconds)
  const e = parseExposition(registry.render())
  t.same(e.problems, [], 'the reader checks cumulative buckets and +Inf = _count')
  t.equal(sampleValue(e, 'gatehouse_duration_seconds_bucket', { route: '/a', le: '0.1' }), 2, 'a value on a bound counts in it')
  t.equal(sampleValue(e, 'gatehouse_duration_seconds_bucket', { route: '/a', le: '1' }), 3)
  t.equal(sampleValue(e, 'gatehouse_duration_seconds_bucket', { route: '/a', le: '+Inf' }), 4)
  t.equal(sampleValue(e, 'gatehouse_duration_seconds_count', { route: '/a' }), 4)
  t.equal(sampleValue(e, 'gatehouse_duration_seconds_sum', { route: '/a' }), 2.65)
  t.same(new Histogram('x', 'x').buckets, LATENCY_BUCKETS, 'latency buckets by default')
})

t.test('gauges are read at the scrape; counterFrom renders a total kept elsewhere as a counter', async (t) => {
  const registry = new Registry()
  let size = 3
  registry.gauge('gatehouse_cache_entries', 'Entries.', () => size)
  registry.gauge('gatehouse_pool', 'Pool.', () => [{ labels: { state: 'idle' }, value: 2 }, { labels: { state: 'busy' }, value: 0.5 }])
  registry.counterFrom('gatehouse_cache_hits_total', 'Hits.', () => 7)
  size = 4
  const e = parseExposition(registry.render())
  t.same(e.problems, [])
  t.equal(sampleValue(e, 'gatehouse_cache_entries'), 4, 'the value at the scrape')
  t.equal(sampleValue(e, 'gatehouse_pool', { state: 'busy' }), 0.5)
  t.equal(e.types.get('gatehouse_cache_hits_total'), 'counter')
  t.equal(e.types.get('gatehouse_pool'), 'gauge')
})

t.test(`past ${MAX_SERIES} label sets, new ones are counted under "other"`, async (t) => {
  const registry = new Registry()
  const c = registry.counter('gatehouse_by_client_total', 'By client.', ['client', 'outcome'])
  for (let i = 0; i < MAX_SERIES + 500; i++) c.inc([`client-${i}`, 'ok'])
  c.inc(['client-0', 'ok'])
  const e = parseExposition(registry.render())
  const series = e.samples.filter((s) => s.name === 'gatehouse_by_client_total')
  t.equal(series.length, MAX_SERIES + 1, 'the cap plus one overflow series')
  t.equal(sampleValue(e, 'gatehouse_by_client_total', { client: 'other', outcome: 'other' }), 500)
  t.equal(sampleValue(e, 'gatehouse_by_client_total', { client: 'client-0', outcome: 'ok' }), 2, 'a known set still counts as itself')
})

t.test('22.12: reusedFor: one result per interval, shared while it runs, a failure not kept', async (t) => {
  const { reusedFor } = await import('../../../lib/ops/metrics.js')
  let now = 0
  let produced = 0
  let fail = false
  const get = reusedFor(1000, () => now, async (label: string) => {
    produced++
    await new Promise((resolve) => setTimeout(resolve, 5))
    if (fail) throw new Error('no')
    return `${label}-${produced}`
  })
  t.same(await Promise.all([get('a'), get('b'), get('c')]), ['a-1', 'a-1', 'a-1'], 'calls at once share one run')
  now = 999
  t.equal(await get('d'), 'a-1', 'reused within the interval')
  now = 1000
  t.equal(await get('e'), 'e-2', 'produced again once it has passed')
  now = 3000
  fail = true
  await t.rejects(get('f'), /no/)
  fail = false
  t.equal(await get('g'), 'g-4', 'a failure is not reused')
  t.equal(produced, 4)
})

t.test('issue 29: beforeRender runs once per render, before any metric is read (a window each scrape closes)', async (t) => {
  const registry = new Registry()
  let window = 0
  let open = 5
  registry.beforeRender(() => { window = open; open = 0 })
  registry.gauge('w_max', 'The window.', () => window)
  t.equal(sampleValue(parseExposition(registry.render()), 'w_max'), 5, 'the window closed by this render')
  open = 2
  t.equal(sampleValue(parseExposition(registry.render()), 'w_max'), 2, 'the next render shows only what came since')
  t.equal(sampleValue(parseExposition(registry.render()), 'w_max'), 0, 'and then nothing')
})

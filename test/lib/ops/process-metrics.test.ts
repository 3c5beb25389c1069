import t from 'tap'
import { loopWindow, maxFds, openFds } from '../../../lib/ops/process-metrics.js'

t.test('an event-loop window in seconds; an empty one reads 0', async (t) => {
  const h = { min: 10e6, max: 210e6, mean: 12e6, stddev: 3e6, percentile: (p: number) => p === 99 ? 200e6 : 10e6 }
  t.same(loopWindow(h), { min: 0.01, max: 0.21, mean: 0.012, stddev: 0.003, p50: 0.01, p90: 0.01, p99: 0.2 })
  // What perf_hooks' histogram reads after reset(), before a sample: min is the largest int64, mean NaN.
  const empty = { min: 9223372036854776000, max: 0, mean: NaN, stddev: NaN, percentile: () => 0 }
  t.same(loopWindow(empty), { min: 0, max: 0, mean: 0, stddev: 0, p50: 0, p90: 0, p99: 0 })
})

t.test('file descriptors from /proc', async (t) => {
  const limits = 'Limit                     Soft Limit           Hard Limit           Units     \n' +
    'Max processes             63704                63704                processes \nMax open files            1024                 1048576              files     \n'
  t.equal(maxFds(limits), 1024, 'the soft limit')
  t.equal(maxFds('Max open files            unlimited            unlimited            files\n'), undefined, 'unlimited: no figure')
  t.equal(openFds('/no/such/dir'), undefined, 'no /proc: no figure')
  if (process.platform === 'linux') t.ok((openFds() ?? 0) >= 3, 'stdin, stdout, stderr at least')
})

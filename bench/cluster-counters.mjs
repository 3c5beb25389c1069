/**
 * What sharing the rate-limit counters through the WORKERS primary costs (lib/limits/cluster-counters.ts): a
 * sign-in's reservation and settlement (lib/oauth/sign-in-reservation.ts) in one process's own counters, then
 * from N worker processes through the primary over node:cluster IPC. Prints one JSON line per case: steps a
 * second, each step's latency (p50, p99, µs), and the primary's CPU per step. Each step is a distinct account
 * from a distinct address, so no limit answers and every step does the whole work.
 *
 * Alone, after `npm run build`: `node bench/cluster-counters.mjs` [BENCH_COUNTER_WORKERS=2]
 * [BENCH_COUNTER_STEPS=20000] (per worker) [BENCH_COUNTER_CONCURRENCY=16] (steps in flight per worker: what
 * parallel sign-ins on one worker have in flight at once).
 */
import cluster from 'node:cluster'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const ROOT = resolve(import.meta.dirname, '..')
const load = (path) => import(pathToFileURL(resolve(ROOT, 'dist', path)).href)
const { MemoryCounterStore, Throttle } = await load('lib/limits/throttle.js')
const { ClusterCounterStore, shareCounters } = await load('lib/limits/cluster-counters.js')
const { SIGN_IN_LIMITS, signInKeys } = await load('lib/oauth/brute-force.js')
const { reserveSignIn, SIGN_IN_SCRIPTS } = await load('lib/oauth/sign-in-reservation.js')

const WORKERS = Number(process.env.BENCH_COUNTER_WORKERS ?? 2)
// At most 65,536 per worker: each step has an address of its own in its worker's 10.W.0.0/16.
const STEPS = Math.min(65_536, Number(process.env.BENCH_COUNTER_STEPS ?? 20_000))
const CONCURRENCY = Number(process.env.BENCH_COUNTER_CONCURRENCY ?? 16)

const percentile = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(s.length * p) - 1)] ?? NaN }

/** STEPS sign-ins (reserve, then settle as a failure) on `throttle`, CONCURRENCY at a time; each step's µs. `lane` (0–255) keeps addresses apart. */
async function signIns (throttle, tag, lane0) {
  const latencies = []
  let next = 0
  const lane = async () => {
    while (next < STEPS) {
      const i = next++
      const started = process.hrtime.bigint()
      const attempt = await reserveSignIn(throttle, signInKeys(`${tag}-${i}`, `10.${lane0}.${(i >> 8) & 255}.${i & 255}`), SIGN_IN_LIMITS)
      if (!('settle' in attempt)) throw new Error(`step ${i} refused: the bench must not reach a limit`)
      await attempt.settle('failure')
      latencies.push(Number(process.hrtime.bigint() - started) / 1000)
    }
  }
  const started = process.hrtime.bigint()
  await Promise.all(Array.from({ length: CONCURRENCY }, lane))
  return { latencies, seconds: Number(process.hrtime.bigint() - started) / 1e9 }
}

const report = (name, { latencies, seconds }, extra = {}) => {
  console.log(JSON.stringify({ case: name, sign_ins_per_s: Math.round(latencies.length / seconds), p50_us: Math.round(percentile(latencies, 0.5)), p99_us: Math.round(percentile(latencies, 0.99)), ...extra }))
}

if (cluster.isPrimary) {
  // One process's own counters: the floor.
  const local = new MemoryCounterStore(undefined, 1_000_000)
  report('in-process (MemoryCounterStore)', await signIns(new Throttle(local), 'local', 0), { processes: 1, concurrency: CONCURRENCY })
  await local.close()

  const shared = new MemoryCounterStore(undefined, 1_000_000)
  shareCounters(shared, SIGN_IN_SCRIPTS)
  const results = []
  let cpuBefore
  let ready = 0
  const done = new Promise((resolve) => {
    for (let w = 0; w < WORKERS; w++) {
      const worker = cluster.fork({ BENCH_WORKER: String(w) })
      worker.on('message', (m) => {
        if (m?.bench === 'ready' && ++ready === WORKERS) {
          cpuBefore = process.cpuUsage()
          for (const id in cluster.workers) cluster.workers[id].send({ bench: 'go' })
        }
        if (m?.bench === 'result') {
          results.push(m)
          if (results.length === WORKERS) resolve()
        }
      })
    }
  })
  await done
  const cpu = process.cpuUsage(cpuBefore)
  const latencies = results.flatMap((r) => r.latencies)
  const seconds = Math.max(...results.map((r) => r.seconds))
  report(`${WORKERS} workers through the primary (ClusterCounterStore)`, { latencies, seconds }, {
    processes: WORKERS + 1,
    concurrency: CONCURRENCY * WORKERS,
    // Two IPC steps per sign-in (reserve, settle): the primary's CPU per step.
    primary_cpu_us_per_step: Math.round((cpu.user + cpu.system) / (latencies.length * 2))
  })
  for (const id in cluster.workers) cluster.workers[id].kill()
  await shared.close()
} else {
  const store = new ClusterCounterStore()
  const throttle = new Throttle(store)
  process.on('message', async (m) => {
    if (m?.bench !== 'go') return
    const result = await signIns(throttle, `w${process.env.BENCH_WORKER}`, Number(process.env.BENCH_WORKER) + 1)
    process.send({ bench: 'result', ...result })
  })
  // A round of warm-up before the primary says go.
  await reserveSignIn(throttle, signInKeys(`warm-${process.env.BENCH_WORKER}`, '10.9.9.9'), SIGN_IN_LIMITS)
  process.send({ bench: 'ready' })
}

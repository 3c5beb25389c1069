import { availableParallelism } from 'node:os'
import { READY_TARGET_MS, runCrashHarness } from './harness.js'

/**
 * `npm run test:crash`: the crash-safety harness (test/crash/harness.ts) at full size, outside `npm test`.
 *   CRASH_CYCLES (default 50), CRASH_SEED (default: random, printed), CRASH_CONCURRENCY (default 8).
 * Prints one line per cycle and a summary; exits 1 on any violation.
 */
const cycles = Number(process.env.CRASH_CYCLES ?? 50)
const seed = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31))
const concurrency = Number(process.env.CRASH_CONCURRENCY ?? 8)

console.log(`crash harness: ${cycles} cycles, seed ${seed}, ${concurrency} concurrent writers, ${new Date().toISOString()}, ${availableParallelism()} CPUs, node ${process.version}`)
const started = Date.now()
const summary = await runCrashHarness({ cycles, seed, concurrency, log: (line) => console.log(line) })
const ready = [...summary.timeToReadyMs].sort((a, b) => a - b)
console.log('')
console.log(`cycles:               ${summary.cycles} (SIGKILL at a random moment of each)`)
console.log(`writes acknowledged:  ${summary.writesAcknowledged} (${Object.entries(summary.byKind).map(([k, n]) => `${k} ${n}`).join(', ')})`)
console.log(`writes found:         ${summary.writesFound}`)
console.log(`cut by the kills:     ${summary.inFlightAtKill} requests in flight, unacknowledged (either outcome is fine)`)
console.log(`shed under load:      ${summary.shed} sign-ins refused with 503 temporarily_unavailable (refused, not lost)`)
console.log(`violations:           ${summary.violations.length}`)
console.log(`time to ready:        max ${summary.maxTimeToReadyMs.toFixed(0)} ms, median ${ready[Math.floor(ready.length / 2)]!.toFixed(0)} ms over ${ready.length} starts (limit ${READY_TARGET_MS} ms)`)
console.log(`duration:             ${((Date.now() - started) / 1000).toFixed(1)} s; seed ${summary.seed}`)
for (const v of summary.violations.slice(0, 50)) console.log(`VIOLATION: ${v}`)
process.exit(summary.violations.length === 0 && summary.writesFound === summary.writesAcknowledged ? 0 : 1)

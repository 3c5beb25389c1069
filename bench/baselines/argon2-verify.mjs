/**
 * Baseline: the raw argon2id verify rate with @node-rs/argon2 (the service's own copy) at the cost
 * Gatehouse uses (ARGON2_* or its defaults), on every core: verify runs on libuv's thread pool, with
 * CONCURRENCY calls in flight (default: one per core, which hashes fastest: more only share the cores
 * and the caches). Prints one JSON line.
 */
import { hash, verify } from '@node-rs/argon2'
import { availableParallelism } from 'node:os'

const seconds = Number(process.env.DURATION ?? 5)
const concurrency = Number(process.env.CONCURRENCY ?? availableParallelism())
const options = {
  algorithm: 2, // argon2id
  memoryCost: Number(process.env.ARGON2_MEMORY_KIB ?? 19456),
  timeCost: Number(process.env.ARGON2_TIME_COST ?? 2),
  parallelism: Number(process.env.ARGON2_PARALLELISM ?? 1)
}
const stored = await hash('correct horse battery staple', options)

let done = 0
const latencies = []
const end = performance.now() + seconds * 1000
async function worker () {
  while (performance.now() < end) {
    const start = performance.now()
    if (!await verify(stored, 'correct horse battery staple')) throw new Error('verify failed')
    latencies.push(performance.now() - start)
    done++
  }
}
const start = performance.now()
const cpuStart = process.cpuUsage()
await Promise.all(Array.from({ length: concurrency }, worker))
const elapsed = (performance.now() - start) / 1000
const { user, system } = process.cpuUsage(cpuStart)
latencies.sort((a, b) => a - b)
const at = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]
process.stdout.write(JSON.stringify({ requests: done, rps: done / elapsed, p50: at(0.5), p99: at(0.99), cpu: (user + system) / done, errors: 0 }) + '\n')

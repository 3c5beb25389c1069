/**
 * Micro-row: one ES256 signature verified with node:crypto, as lib/oauth/dpop-proof.ts verifies a DPoP proof (a
 * P-256 KeyObject kept from before, the JWS signing input, the raw r||s signature: dsaEncoding ieee-p1363). What
 * a DPoP proof must cost at least; the "client_credentials with DPoP" row's extra CPU per request is compared with
 * it. One verify at a time, for DURATION seconds, on whatever core the runner gives it. Prints one JSON line (the
 * runner's shape: `cpu` is µs of CPU per verify, p50/p99 the wall time of one in ms).
 */
import { generateKeyPairSync, randomUUID, sign, verify } from 'node:crypto'

const seconds = Number(process.env.DURATION ?? 5)
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
// A few different proofs, so no cache of any kind sees the same input twice in a row.
const inputs = Array.from({ length: 64 }, () => {
  const input = Buffer.from(`${Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256' })).toString('base64url')}.${Buffer.from(JSON.stringify({ jti: randomUUID(), htm: 'POST' })).toString('base64url')}`)
  return { input, signature: sign('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' }) }
})

let done = 0
const latencies = []
const start = performance.now()
const end = start + seconds * 1000
const cpuStart = process.cpuUsage()
while (performance.now() < end) {
  const t0 = performance.now()
  for (let i = 0; i < 16; i++) {
    const { input, signature } = inputs[(done + i) % inputs.length]
    if (!verify('sha256', input, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)) throw new Error('verify failed')
  }
  latencies.push((performance.now() - t0) / 16)
  done += 16
}
const elapsed = (performance.now() - start) / 1000
const { user, system } = process.cpuUsage(cpuStart)
latencies.sort((a, b) => a - b)
const at = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]
process.stdout.write(JSON.stringify({ requests: done, rps: done / elapsed, p50: at(0.5), p99: at(0.99), cpu: (user + system) / done, errors: 0 }) + '\n')

import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { tempDatabaseUrl } from '../support/helper.js'
import { childEnv, formPost, runCli, startServer, stopServer } from '../support/server-process.js'
import { spawnNode } from '../support/oauth.js'

/**
 * Issue 10, defect 4 (CI-sized; the longer flood is `npm run bench`, bench/README.md): a login flood for
 * unknown users from many addresses, with production argon2 cost, against a server in a child process,
 * driven by another child process (test/load/flood-driver.ts). The hash queue is bounded by the time it
 * takes to drain: logins beyond it get 503 temporarily_unavailable with Retry-After at once, GET /users/me
 * keeps answering, the server has answered everything within 10 s of the flood's end, RSS stays < 200 MB.
 */
const driverJs = fileURLToPath(new URL('../load/flood-driver.js', import.meta.url))
const LOGINS = Number(process.env.GATEHOUSE_FLOOD_LOGINS ?? 400)
const ADDRESSES = Number(process.env.GATEHOUSE_FLOOD_ADDRESSES ?? 100)
const SECONDS = Number(process.env.GATEHOUSE_FLOOD_SECONDS ?? 1)

const rssMb = (pid: number): number => {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))
    return Number(line?.replace(/\D+/g, '')) / 1024
  } catch { return 0 }
}
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil(values.length * p) - 1)] ?? 0

interface Reply { status: number, ms: number, retryAfter?: string, sentAt?: number }

t.test(`${LOGINS} logins for unknown users from ${ADDRESSES} addresses in ${SECONDS} s: shed at once, /users/me answers, drained within 10 s`, async (t) => {
  // A flood on any machine: 400 logins a second against a queue that holds 1 s of hashing (PASSWORD_QUEUE_SECONDS)
  // overflows unless one production-cost hash takes under 2.5 ms. With the default 3 s and 2 s of sending, a quiet
  // machine hashed fast enough that nothing was shed, and the test measured no flood at all.
  const env = { DATABASE_URL: tempDatabaseUrl(t), ARGON2_MEMORY_KIB: '19456', ARGON2_TIME_COST: '2', ARGON2_PARALLELISM: '1', PASSWORD_QUEUE_SECONDS: '1' }
  const server = await startServer(env)
  t.teardown(() => stopServer(server))
  await runCli(['users', 'add', 'alice', '--password-stdin'], env, 'alice-pw')
  const signIn = () => formPost(`${server.url}/token`, { grant_type: 'password', username: 'alice', password: 'alice-pw' })
  const { access_token: token } = await (await signIn()).json() as { access_token: string }

  let rssMax = rssMb(server.child.pid!)
  const sampler = setInterval(() => { rssMax = Math.max(rssMax, rssMb(server.child.pid!)) }, 100)
  t.teardown(() => clearInterval(sampler))

  const driver = spawnNode([driverJs, server.url, token, String(LOGINS), String(ADDRESSES), String(SECONDS)], childEnv({}))
  let out = ''
  driver.stdout!.on('data', (d) => { out += d })
  driver.stderr!.on('data', (d) => { out += d })
  const code = await new Promise((resolve) => driver.on('exit', resolve))
  clearInterval(sampler)
  t.equal(code, 0, 'the driver finished')
  const result = JSON.parse(out) as { sentMs: number, lastReplyMs: number, driverLagMaxMs: number, logins: Reply[], me: Reply[] }

  const by = (status: number) => result.logins.filter((r) => r.status === status)
  const shed = by(503)
  const meMs = result.me.map((r) => r.ms)
  t.comment(`sent in ${result.sentMs.toFixed(0)} ms; ${by(400).length} verified (400), ${shed.length} shed (503), ` +
    `${result.logins.length - by(400).length - shed.length} other; slowest 503 ${Math.max(0, ...shed.map((r) => r.ms)).toFixed(0)} ms; ` +
    `last reply ${(result.lastReplyMs - result.sentMs).toFixed(0)} ms after the flood; /users/me ${result.me.length} calls, ` +
    `p50 ${percentile(meMs, 0.5).toFixed(1)} ms, p99 ${percentile(meMs, 0.99).toFixed(1)} ms, max ${Math.max(...meMs).toFixed(1)} ms; RSS max ${rssMax.toFixed(0)} MB; ` +
    `the driver's own event-loop lag up to ${result.driverLagMaxMs.toFixed(0)} ms`)

  t.equal(by(400).length + shed.length, LOGINS, 'every login is an ordinary failure (400) or shed (503): no 429, no 500, no dropped connection')
  t.ok(shed.length > 0, 'the flood is more than the queue holds: some logins are shed')
  // Latency as a client sees it is only measurable when the driver itself is not starved of CPU (a machine
  // shared by other test runs); otherwise it is reported above, not judged.
  if (result.driverLagMaxMs < 200) t.ok(shed.every((r) => r.ms < 2000), 'every shed login is answered within 2 s')
  else t.comment(`the driver lagged ${result.driverLagMaxMs.toFixed(0)} ms: the machine is too loaded to judge client-side latency`)
  t.ok(shed.every((r) => /^[1-9]\d*$/.test(r.retryAfter ?? '')), 'with Retry-After')
  t.ok(result.me.length > 0 && result.me.every((r) => r.status === 200), `/users/me keeps answering 200 (${result.me.length} calls)`)
  t.ok(result.lastReplyMs - result.sentMs < 10_000, 'the server has answered every login within 10 s of the flood\'s end')
  t.ok(rssMax < 200, `RSS stays under 200 MB (${rssMax.toFixed(0)} MB)`)
  t.equal((await signIn()).status, 200, 'and a real user signs in right after')
  // Every shed login is a login_shed security event (logged at warn, counted in /metrics).
  const metrics = await (await fetch(`${server.url}/metrics`)).text()
  const counted = Number(/^gatehouse_security_events_total\{type="login_shed"\} (\d+)$/m.exec(metrics)?.[1] ?? 0)
  t.equal(counted, shed.length, `login_shed counted once per shed login (${counted})`)
})

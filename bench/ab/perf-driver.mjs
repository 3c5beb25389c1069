/**
 * CPU per request of Gatehouse, native (no valgrind), for issue 9's A/B (see issue9-perf.md).
 *
 *   node perf-driver.mjs OUTDIR WORKTREE...
 *
 * This machine's VM exposes no hardware PMU ("PMU not available due to virtualization": instructions:u is
 * <not supported>), so the counter is perf's software event task-clock (CPU time), per thread:
 * `perf stat --per-thread -e task-clock -p <server pid>`. The main thread (tid = pid, the event loop) is
 * reported apart from the process total (V8's GC/compiler threads, libuv's pool).
 *
 * Per worktree (built: dist/ present, node_modules present): fresh SQLite store, provisioned as
 * bench/run.mjs does (CLI: user `bench`, clients bench-svc client_credentials and bench-web
 * password,refresh_token; refresh tokens written straight into the store, one grant each, each used once),
 * `node dist/server.js` started natively. All servers are up together and every measurement is
 * interleaved across them (rep → case → server, the server order rotated each rep), so machine drift
 * (the machine is shared) hits every commit alike.
 * Warm-up: WARMUP requests per case per server. Then per rep, case, server: perf stat attached to the
 * server, N requests from this process (CONC keep-alive connections, node:http), perf stopped (SIGINT).
 * Idle: per rep and server, perf stat over IDLE_S s with no requests; idle CPU/s × the case's wall time
 * is subtracted. µs/request = (task-clock − idle) / N.
 * Environment: PERF_WARMUP (3000), PERF_N_ME (20000), PERF_N_CC (20000), PERF_N_REFRESH (5000),
 * PERF_CONC (8), PERF_REPS (3), PERF_IDLE_S (5), PERF_PORT (39300), PERF_CASES (me,cc,refresh).
 * PERF_PARALLEL=1: each rep's case is measured on all servers AT ONCE (one perf per server, CONC connections
 * each), so the time-varying load of the shared machine hits every commit in the same window: paired samples.
 */
import { execFileSync, spawn } from 'node:child_process'
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import http from 'node:http'

const [outArg, ...wtArgs] = process.argv.slice(2)
const OUT = resolve(outArg)
const WARMUP = Number(process.env.PERF_WARMUP ?? 3000)
const N = { me: Number(process.env.PERF_N_ME ?? 20000), cc: Number(process.env.PERF_N_CC ?? 20000), refresh: Number(process.env.PERF_N_REFRESH ?? 5000) }
const CONC = Number(process.env.PERF_CONC ?? 8)
const REPS = Number(process.env.PERF_REPS ?? 3)
const IDLE_S = Number(process.env.PERF_IDLE_S ?? 5)
const PORT0 = Number(process.env.PERF_PORT ?? 39300)
const PARALLEL = process.env.PERF_PARALLEL === '1'
const CASES = (process.env.PERF_CASES ?? 'me,cc,refresh').split(',')
const PASSWORD = 'bench-password-1'
const started = Date.now()
const log = (...a) => process.stderr.write(`[perf ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${a.join(' ')}\n`)
rmSync(OUT, { recursive: true, force: true })
mkdirSync(OUT, { recursive: true })

const basic = (id, secret) => 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')
const children = new Set()
process.on('exit', () => { for (const c of children) c.kill('SIGKILL') })

function request (agent, port, method, path, { auth, body } = {}) {
  return new Promise((resolve, reject) => {
    const headers = {}
    if (auth) headers.authorization = auth
    if (body !== undefined) { headers['content-type'] = 'application/x-www-form-urlencoded'; headers['content-length'] = Buffer.byteLength(body) }
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

async function setup (wt, i) {
  const name = wt.split('/').pop()
  const port = PORT0 + i
  const dir = join(OUT, name)
  mkdirSync(dir, { recursive: true })
  const dbPath = join(dir, 'gatehouse.db')
  const env = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: `sqlite:${dbPath}`,
    ISSUER: `http://localhost:${port}`,
    ACCESS_TOKEN_TTL: '7200',
    WORKERS: '1',
    ARGON2_MEMORY_KIB: '64',
    ARGON2_TIME_COST: '1',
    ARGON2_PARALLELISM: '1'
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONC })
  const s = { name, wt, port, dir, env, agent }
  s.req = (method, path, opts) => request(agent, port, method, path, opts)
  s.ok = async (method, path, opts) => {
    const res = await s.req(method, path, opts)
    if (res.status < 200 || res.status > 299) throw new Error(`${name} ${method} ${path}: ${res.status} ${res.text.slice(0, 200)}`)
    return res.text
  }
  const start = () => {
    const child = spawn('node', ['dist/server.js'], { cwd: wt, env, stdio: ['ignore', 'pipe', 'pipe'] })
    children.add(child)
    let output = ''
    child.stdout.on('data', () => {}) // request logs: drained, not kept
    child.stderr.on('data', (c) => { output = (output + c).slice(-4000) })
    child.exited = new Promise((resolve) => child.on('exit', () => { children.delete(child); resolve() }))
    child.output = () => output
    return child
  }
  const waitHealth = async (child) => {
    for (let t0 = Date.now(); Date.now() - t0 < 120_000;) {
      if (child.exitCode !== null) throw new Error(`${name} exited: ${child.output()}`)
      try { if ((await s.req('GET', '/health')).status === 200) return } catch {}
      await sleep(200)
    }
    throw new Error(`${name}: no /health`)
  }
  // Tables + signing key, then provisioning through the CLI, then refresh tokens straight into the store.
  const first = start(); await waitHealth(first); first.kill('SIGTERM'); await first.exited
  const cli = (args, input) => JSON.parse(execFileSync('node', ['bin/gatehouse.js', ...args], { cwd: wt, env, input, encoding: 'utf8' }))
  const user = cli(['users', 'add', 'bench', '--password-stdin', '--scope', 'items:read'], PASSWORD)
  s.svc = basic('bench-svc', cli(['clients', 'add', 'bench-svc', '--grant', 'client_credentials', '--scope', 'orders:read']).client_secret)
  s.web = basic('bench-web', cli(['clients', 'add', 'bench-web', '--grant', 'password,refresh_token']).client_secret)
  s.refreshTokens = []
  const Database = createRequire(join(wt, 'package.json'))('better-sqlite3')
  const now = Math.floor(Date.now() / 1000)
  const db = new Database(dbPath)
  const g = db.prepare("INSERT INTO grants (id, client_id, user_id, scope, created_at, expires_at) VALUES (?, ?, ?, 'items:read', ?, ?)")
  const t = db.prepare("INSERT INTO refresh_tokens (hash, grant_id, scope, issued_at, expires_at) VALUES (?, ?, 'items:read', ?, ?)")
  db.transaction(() => {
    for (let k = 0; k < WARMUP + REPS * N.refresh + CONC; k++) {
      const token = randomBytes(32).toString('base64url')
      const id = randomUUID()
      s.refreshTokens.push(token)
      g.run(id, 'bench-web', user.sub, now, now + 7_776_000)
      t.run(createHash('sha256').update(token).digest('base64url'), id, now, now + 1_209_600)
    }
  }).immediate()
  db.close()
  s.server = start()
  await waitHealth(s.server)
  s.pid = s.server.pid
  s.meToken = JSON.parse(await s.ok('POST', '/token', { body: `grant_type=password&username=bench&password=${PASSWORD}`, auth: s.web })).access_token
  s.nextRefresh = 0
  s.cases = {
    me: () => s.ok('GET', '/users/me', { auth: `Bearer ${s.meToken}` }),
    cc: () => s.ok('POST', '/token', { auth: s.svc, body: 'grant_type=client_credentials&scope=orders:read' }),
    refresh: () => s.ok('POST', '/token', { auth: s.web, body: `grant_type=refresh_token&refresh_token=${s.refreshTokens[s.nextRefresh++]}` })
  }
  log(`${name} up: pid ${s.pid}, port ${port}, commit ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: wt, encoding: 'utf8' }).trim()}`)
  return s
}

/** n requests of one case, CONC in flight at once. */
async function drive (s, name, n) {
  let left = n
  const worker = async () => { while (left > 0) { left--; await s.cases[name]() } }
  await Promise.all(Array.from({ length: CONC }, worker))
}

/** perf stat --per-thread task-clock on s.pid around fn(); returns { mainMs, totalMs, wallMs }. */
async function measure (s, label, fn) {
  const file = join(s.dir, `${label}.perf`)
  const perf = spawn('perf', ['stat', '--per-thread', '-e', 'task-clock', '-x,', '-o', file, '-p', String(s.pid)], { stdio: 'ignore' })
  const perfDone = new Promise((resolve) => perf.on('exit', resolve))
  await sleep(300) // perf attached
  const t0 = performance.now()
  await fn()
  const wallMs = performance.now() - t0
  perf.kill('SIGINT')
  await perfDone
  let mainMs = 0; let totalMs = 0
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^[^,]*-(\d+),([\d.]+),msec,task-clock/.exec(line)
    if (!m) continue
    totalMs += Number(m[2])
    if (Number(m[1]) === s.pid) mainMs += Number(m[2])
  }
  return { mainMs, totalMs, wallMs: wallMs + 300 } // perf counted from attach to SIGINT
}

const servers = []
for (const [i, wt] of wtArgs.entries()) servers.push(await setup(resolve(wt), i))

for (const s of servers) {
  const t0 = Date.now()
  for (const name of CASES) await drive(s, name, WARMUP)
  log(`${s.name} warm-up ${WARMUP} × ${CASES.length} in ${((Date.now() - t0) / 1000).toFixed(0)} s`)
}

const results = []
for (let rep = 1; rep <= REPS; rep++) {
  const order = servers.map((_, k) => servers[(k + rep - 1) % servers.length])
  const idle = {}
  for (const s of order) {
    const r = await measure(s, `idle-r${rep}`, () => sleep(IDLE_S * 1000))
    idle[s.name] = { mainPerMs: r.mainMs / r.wallMs, totalPerMs: r.totalMs / r.wallMs }
    results.push({ rep, server: s.name, case: 'idle', ...r })
  }
  for (const name of CASES) {
    const one = async (s) => {
      const r = await measure(s, `${name}-r${rep}`, () => drive(s, name, N[name]))
      const mainUs = (r.mainMs - idle[s.name].mainPerMs * r.wallMs) * 1000 / N[name]
      const totalUs = (r.totalMs - idle[s.name].totalPerMs * r.wallMs) * 1000 / N[name]
      results.push({ rep, server: s.name, case: name, n: N[name], ...r, mainUs, totalUs })
      log(`rep ${rep} ${name} ${s.name}: ${N[name]} in ${(r.wallMs / 1000).toFixed(1)} s (${(N[name] / r.wallMs * 1000).toFixed(0)}/s), main ${mainUs.toFixed(1)} µs/req, process ${totalUs.toFixed(1)} µs/req; load ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}`)
      writeFileSync(join(OUT, 'results.json'), JSON.stringify({ N, WARMUP, CONC, REPS, IDLE_S, PARALLEL, results }, null, 2) + '\n')
    }
    if (PARALLEL) await Promise.all(order.map(one))
    else for (const s of order) await one(s)
  }
}

for (const s of servers) { s.server.kill('SIGTERM'); await s.server.exited; s.agent.destroy() }
log('done')

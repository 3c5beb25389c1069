/**
 * Instructions per request of Gatehouse under callgrind, for issue 9's A/B (see issue9-ab.md).
 *
 *   node ab-driver.mjs WORKTREE OUTDIR [PORT]
 *   node ab-driver.mjs WORKTREE OUTDIR PORT --attach PID   (a server already started by an earlier run, still up:
 *                                                          new clients are added to its store, tokens seeded)
 *
 * WORKTREE is a built checkout (npx tsc -p tsconfig.json done, node_modules present). The driver:
 *  1. creates a fresh SQLite store (one native start creates the tables and the signing key), then
 *     provisions the way bench/run.mjs does (the CLI: user `bench`, clients `bench-svc` with
 *     client_credentials and `bench-web` with password,refresh_token) and writes WARMUP + N1 + N2 refresh
 *     tokens straight into the store (as bench/run.mjs's seedRefreshTokens does: SHA-256 base64url);
 *  2. starts `valgrind --tool=callgrind node dist/server.js` (the real JIT, no --jitless), waits for /health;
 *  3. warms up: WARMUP requests of each case, interleaved; then `callgrind_control --dump` (the dump zeroes
 *     the counters, so each later dump holds only what ran since the previous one);
 *  4. an idle phase (IDLE_S seconds without requests, then a dump: the timers' cost per second);
 *  5. per case (me, cc, refresh): N1 requests, dump, N2 requests, dump. Ir/request = (Ir(N2) - Ir(N1)) / (N2 - N1):
 *     the dump's own cost and the idle gaps around it cancel. Step 5 is done ROUNDS times (the same server).
 * Requests are sequential on one keep-alive connection (the client is this process, not measured).
 * Prints and writes OUTDIR/result.json. Environment: AB_WARMUP (1500), AB_N1 (500), AB_N2 (1500), AB_IDLE_S (10), AB_ROUNDS (2).
 */
import { execFileSync, spawn } from 'node:child_process'
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import http from 'node:http'

const [wtArg, outArg, portArg, attachFlag, attachPid] = process.argv.slice(2)
const ATTACH = attachFlag === '--attach' ? Number(attachPid) : undefined
const WT = resolve(wtArg)
const OUT = resolve(outArg)
const PORT = Number(portArg ?? 39201)
const WARMUP = Number(process.env.AB_WARMUP ?? 1500)
const N1 = Number(process.env.AB_N1 ?? 500)
const N2 = Number(process.env.AB_N2 ?? 1500)
const IDLE_S = Number(process.env.AB_IDLE_S ?? 10)
const ROUNDS = Number(process.env.AB_ROUNDS ?? 2)
const PASSWORD = 'bench-password-1'
const started = Date.now()
const log = (...a) => process.stderr.write(`[ab ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s ${WT.split('/').pop()}] ${a.join(' ')}\n`)

if (!ATTACH) rmSync(OUT, { recursive: true, force: true })
mkdirSync(OUT, { recursive: true })
const dbPath = join(OUT, 'gatehouse.db')
const env = {
  ...process.env,
  PORT: String(PORT),
  HOST: '127.0.0.1',
  DATABASE_URL: `sqlite:${dbPath}`,
  ISSUER: `http://localhost:${PORT}`,
  ACCESS_TOKEN_TTL: '3600',
  // Cheap hashing: only the set-up (the user's password, the start-up dummy hash) hashes; no measured request does.
  ARGON2_MEMORY_KIB: '64',
  ARGON2_TIME_COST: '1',
  ARGON2_PARALLELISM: '1'
}
const Database = createRequire(join(WT, 'package.json'))('better-sqlite3')

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
function request (method, path, { auth, body } = {}) {
  return new Promise((resolve, reject) => {
    const headers = {}
    if (auth) headers.authorization = auth
    if (body !== undefined) { headers['content-type'] = 'application/x-www-form-urlencoded'; headers['content-length'] = Buffer.byteLength(body) }
    const req = http.request({ host: '127.0.0.1', port: PORT, method, path, headers, agent }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end(body)
  })
}
async function ok (method, path, opts) {
  const res = await request(method, path, opts)
  if (res.status < 200 || res.status > 299) throw new Error(`${method} ${path}: ${res.status} ${res.text.slice(0, 200)}`)
  return res.text
}

function startServer (cmd, args, name) {
  const child = spawn(cmd, args, { cwd: WT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (c) => { output += c })
  child.stderr.on('data', (c) => { output += c })
  child.exited = new Promise((resolve) => child.on('exit', resolve))
  child.output = () => output
  child.name = name
  return child
}
async function waitHealth (child, timeoutMs) {
  const t0 = Date.now()
  while (Date.now() - t0 < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`${child.name} exited: ${child.output().slice(-500)}`)
    try { if ((await request('GET', '/health')).status === 200) return } catch {}
    await sleep(200)
  }
  throw new Error(`${child.name}: no /health in ${timeoutMs} ms`)
}
async function stop (child) {
  child.kill('SIGTERM')
  await Promise.race([child.exited, sleep(300_000).then(() => child.kill('SIGKILL'))])
}
const cli = (args, input) => JSON.parse(execFileSync('node', ['bin/gatehouse.js', ...args], { cwd: WT, env, input, encoding: 'utf8' }))
const basic = (id, secret) => 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')

// 1. Store: tables + key, provisioning, refresh tokens.
const tag = ATTACH ? `-${Date.now()}` : ''
let user
if (!ATTACH) {
  const first = startServer('node', ['dist/server.js'], 'first start')
  await waitHealth(first, 60_000)
  await stop(first)
  user = cli(['users', 'add', 'bench', '--password-stdin', '--scope', 'items:read'], PASSWORD)
} else {
  const db = new Database(dbPath, { readonly: true })
  user = { sub: db.prepare("SELECT id FROM users WHERE username = 'bench'").get().id }
  db.close()
}
const svc = basic(`bench-svc${tag}`, cli(['clients', 'add', `bench-svc${tag}`, '--grant', 'client_credentials', '--scope', 'orders:read']).client_secret)
const webId = `bench-web${tag}`
const web = basic(webId, cli(['clients', 'add', webId, '--grant', 'password,refresh_token']).client_secret)
const refreshTokens = []
{
  const now = Math.floor(Date.now() / 1000)
  const db = new Database(dbPath)
  db.pragma('busy_timeout = 10000')
  const g = db.prepare("INSERT INTO grants (id, client_id, user_id, scope, created_at, expires_at) VALUES (?, ?, ?, 'items:read', ?, ?)")
  const t = db.prepare("INSERT INTO refresh_tokens (hash, grant_id, scope, issued_at, expires_at) VALUES (?, ?, 'items:read', ?, ?)")
  db.transaction(() => {
    for (let i = 0; i < WARMUP + ROUNDS * (N1 + N2) + 1; i++) {
      const token = randomBytes(32).toString('base64url')
      const id = randomUUID()
      refreshTokens.push(token)
      g.run(id, webId, user.sub, now, now + 7_776_000)
      t.run(createHash('sha256').update(token).digest('base64url'), id, now, now + 1_209_600)
    }
  }).immediate()
  db.close()
}

// 2. The server under callgrind.
const cgOut = join(OUT, 'callgrind.out')
const server = ATTACH
  ? { pid: ATTACH, kill: (signal) => process.kill(ATTACH, signal), exited: (async () => { for (;;) { try { process.kill(ATTACH, 0) } catch { return } await sleep(500) } })() }
  : startServer('valgrind', ['--tool=callgrind', '--trace-children=no', `--callgrind-out-file=${cgOut}`, 'node', 'dist/server.js'], 'callgrind server')
if (ATTACH) { for (;;) { try { if ((await request('GET', '/health')).status === 200) break } catch {} await sleep(2000) } } else await waitHealth(server, 3_600_000)
log(`server up under callgrind (pid ${server.pid})`)
const dump = (label) => execFileSync('callgrind_control', ['--dump=' + label, String(server.pid)], { encoding: 'utf8', env }) // env: vgdb's FIFOs are named after $HOST

const meToken = JSON.parse(await ok('POST', '/token', { body: `grant_type=password&username=bench&password=${PASSWORD}`, auth: web })).access_token
let nextRefresh = 0
const cases = {
  me: () => ok('GET', '/users/me', { auth: `Bearer ${meToken}` }),
  cc: () => ok('POST', '/token', { auth: svc, body: 'grant_type=client_credentials&scope=orders:read' }),
  refresh: () => ok('POST', '/token', { auth: web, body: `grant_type=refresh_token&refresh_token=${refreshTokens[nextRefresh++]}` })
}
const run = async (name, n) => { const t0 = Date.now(); for (let i = 0; i < n; i++) await cases[name](); return Date.now() - t0 }

// 3. Warm-up, interleaved so every case's code is hot before any is measured.
{
  const t0 = Date.now()
  for (let i = 0; i < WARMUP; i++) { await cases.me(); await cases.cc(); await cases.refresh() }
  log(`warm-up ${WARMUP} × 3 in ${((Date.now() - t0) / 1000).toFixed(0)} s`)
}
dump('warmup')
// 4. Idle.
await sleep(IDLE_S * 1000)
dump('idle')
// 5. Cases.
const wall = {}
for (let r = 1; r <= ROUNDS; r++) {
  for (const name of ['me', 'cc', 'refresh']) {
    wall[`${name}-r${r}-n1`] = await run(name, N1)
    dump(`${name}-r${r}-n1`)
    wall[`${name}-r${r}-n2`] = await run(name, N2)
    dump(`${name}-r${r}-n2`)
    log(`round ${r} ${name}: ${N1} in ${wall[`${name}-r${r}-n1`]} ms, ${N2} in ${wall[`${name}-r${r}-n2`]} ms`)
  }
}
agent.destroy()

// Per dump: total Ir (all threads) and the main thread's Ir (inclusive cost of `(below main)`: the event loop;
// the rest is V8's background GC and compiler threads and libuv's pool, whose bursts dominate the noise).
function readParts (dir) {
  const parts = {}
  for (const f of readdirSync(dir).filter((f) => /^callgrind\.out\.\d+$/.test(f))) {
    const text = readFileSync(join(dir, f), 'utf8')
    const summary = /^(?:totals|summary): (\d+)/m.exec(text)
    if (!summary) continue
    const trigger = /^desc: Trigger: (.*)$/m.exec(text)?.[1] ?? ''
    const label = /(warmup|idle|(?:me|cc|refresh)-r\d+-n\d)/.exec(trigger)?.[1] ?? trigger
    const annotated = execFileSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', join(dir, f)], { encoding: 'utf8', maxBuffer: 1 << 28 })
    const main = Number(/^\s*([\d,]+) .*\(below main\)/m.exec(annotated)?.[1].replace(/,/g, '') ?? NaN)
    parts[label] = { total: Number(summary[1]), main }
  }
  return parts
}
const parts = readParts(OUT)
const result = { worktree: WT, commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: WT, encoding: 'utf8' }).trim(), WARMUP, N1, N2, IDLE_S, ROUNDS, parts, wall, perRequest: {} }
result.idlePerSecond = Math.round(parts.idle.total / IDLE_S)
for (const name of ['me', 'cc', 'refresh']) {
  result.perRequest[name] = { total: [], main: [] }
  for (let r = 1; r <= ROUNDS; r++) {
    for (const k of ['total', 'main']) result.perRequest[name][k].push(Math.round((parts[`${name}-r${r}-n2`][k] - parts[`${name}-r${r}-n1`][k]) / (N2 - N1)))
  }
}
writeFileSync(join(OUT, 'result.json'), JSON.stringify(result, null, 2) + '\n')
process.stdout.write(JSON.stringify(result) + '\n')
await stop(server)

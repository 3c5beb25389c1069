/**
 * An independent check of `npm run bench`'s CPU-per-request figures, sharing none of run.mjs's code: it
 * measures the way the outside harness of issue 17 did. Each server is started in a session (process
 * group) of its own with its output going to a file (never through a pipe to this script), pinned to
 * core 0 with every thread (`taskset -a`); wrk runs pinned to the last core; the server's CPU is the
 * utime + stime of every process in its process group (so a WORKERS primary and its workers all count),
 * read from /proc before and after the run. This script does nothing while wrk runs.
 *
 *   npm run build && node bench/crosscheck.mjs            # bare Fastify and GET /users/me, 3 × 8 s each
 *
 * Environment: CHECK_RUNS (3), CHECK_DURATION (8), CHECK_WORKERS (Gatehouse's WORKERS, 1), CHECK_TOKEN=none
 * (send no token: every /users/me answer is a 401, which is counted and reported, not refused: what a
 * harness whose token was missing or had expired would have measured), CHECK_PATH (Gatehouse's route, /users/me;
 * `/health` answers without a token or the store: what Gatehouse's hooks and plugins cost every request).
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

const ROOT = resolve(import.meta.dirname, '..')
const RUNS = Number(process.env.CHECK_RUNS ?? 3)
const DURATION = Number(process.env.CHECK_DURATION ?? 8)
const WORKERS = process.env.CHECK_WORKERS ?? '1'
const NO_TOKEN = process.env.CHECK_TOKEN === 'none'
/** Gatehouse's route measured against bare Fastify: `/health` (no token, no store) shows what every request pays. */
const PATH = process.env.CHECK_PATH ?? '/users/me'
const LAST = String(availableParallelism() - 1)
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-crosscheck-'))
const started = []
process.on('exit', () => { for (const pgid of started) try { process.kill(-pgid, 'SIGKILL') } catch {} rmSync(dir, { recursive: true, force: true }) })

/** utime + stime (µs) of every process whose process group is `pgid`. */
function groupCpu (pgid) {
  let ticks = 0
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
      if (Number(f[2]) === pgid) ticks += Number(f[11]) + Number(f[12])
    } catch {}
  }
  return ticks * 10_000
}
const groupPids = (pgid) => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((pid) => {
  try { return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[2]) === pgid } catch { return false }
})

async function start (name, args, env, url) {
  const out = openSync(join(dir, `${name}.log`), 'w')
  const child = spawn('node', args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', out, out], detached: true })
  started.push(child.pid)
  for (let i = 0; i < 400; i++) {
    try { if ((await fetch(url)).status < 500) break } catch {}
    await sleep(50)
  }
  await sleep(WORKERS === '1' ? 500 : 3000) // every worker listening
  for (const pid of groupPids(child.pid)) execFileSync('taskset', ['-a', '-p', '-c', '0', pid], { stdio: 'ignore' })
  return child.pid
}

function wrk (url, auth, allowErrors = false) {
  const args = ['-c', LAST, 'wrk', '-t', '1', '-c', '64', '-d', `${DURATION}s`, ...(auth ? ['-H', `Authorization: ${auth}`] : []), url]
  const text = execFileSync('taskset', args, { encoding: 'utf8' })
  const requests = Number(/(\d+) requests in/.exec(text)[1])
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0)
  if (non2xx > 0 && !allowErrors) throw new Error(`${url}: ${non2xx} non-2xx answers`)
  return { requests, non2xx }
}

function measure (pgid, url, auth, allowErrors) {
  const before = groupCpu(pgid)
  const { requests, non2xx } = wrk(url, auth, allowErrors)
  return { cpu: (groupCpu(pgid) - before) / requests, rps: requests / DURATION, non2xx }
}

const db = `sqlite:${join(dir, 'g.db')}`
const cli = (args, input) => execFileSync('node', ['bin/gatehouse.js', ...args], { cwd: ROOT, input, env: { ...process.env, DATABASE_URL: db } })
cli(['users', 'add', 'bench', '--password-stdin', '--scope', 'items:read'], 'bench-password-1')
const bare = await start('bare', ['bench/baselines/fastify-bare.mjs'], { PORT: '38201' }, 'http://127.0.0.1:38201/users/me')
const gate = await start('gatehouse', ['dist/server.js'], { PORT: '38202', DATABASE_URL: db, WORKERS }, 'http://127.0.0.1:38202/health')
const token = (await (await fetch('http://127.0.0.1:38202/token', { method: 'POST', body: new URLSearchParams({ username: 'bench', password: 'bench-password-1' }) })).json()).access_token

const rows = { bare: [], me: [] }
wrk('http://127.0.0.1:38201/users/me') // warm-up
const auth = NO_TOKEN ? undefined : `Bearer ${token}`
wrk(`http://127.0.0.1:38202${PATH}`, auth, NO_TOKEN)
for (let i = 0; i < RUNS; i++) {
  rows.bare.push(measure(bare, 'http://127.0.0.1:38201/users/me'))
  rows.me.push(measure(gate, `http://127.0.0.1:38202${PATH}`, auth, NO_TOKEN))
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const b = median(rows.bare.map((r) => r.cpu))
const m = median(rows.me.map((r) => r.cpu))
console.log(JSON.stringify({ date: new Date().toISOString(), load: loadavg()[0].toFixed(2), workers: WORKERS, path: PATH, token: NO_TOKEN ? 'none' : 'valid', bareCpuUs: +b.toFixed(1), meCpuUs: +m.toFixed(1), ratioByCpu: +(b / m).toFixed(2), runs: rows }))
process.exit(0)

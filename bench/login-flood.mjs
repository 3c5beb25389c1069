/**
 * The login-flood case of `npm run bench` (issue 10, defect 4; the CI-sized version is test/process/flood.test.ts):
 * 1,500 password sign-ins for unknown users from 250 client addresses (127.1.x.y) in 5 s, at production
 * argon2 cost, against a Gatehouse of its own on SQLite, driven by dist/test/load/flood-driver.js in a process
 * of its own, while one client calls GET /users/me every 20 ms. Targets: shed sign-ins (503) answered within
 * 2 s, /users/me p99 < 50 ms, every sign-in answered within 10 s of the flood's end, server RSS < 200 MB.
 *
 * Alone (after `npm run build`): `node bench/login-flood.mjs` [BENCH_FLOOD_LOGINS=1500]
 * [BENCH_FLOOD_ADDRESSES=250] [BENCH_FLOOD_SECONDS=5]. `run.mjs` calls `loginFloodCase` and puts its rows
 * into its table.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const ROOT = resolve(import.meta.dirname, '..')

const freePort = () => new Promise((resolve, reject) => {
  const server = createServer()
  server.once('error', reject)
  server.listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => resolve(port)) })
})
const rssMB = (pid) => {
  try { return Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) / 1024 } catch { return 0 }
}
const percentile = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(s.length * p) - 1)] ?? NaN }
const run = (args, env, stdin = '') => new Promise((resolve, reject) => {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''; let err = ''
  child.stdout.on('data', (d) => { out += d })
  child.stderr.on('data', (d) => { err += d })
  child.stdin.end(stdin)
  child.on('exit', (code) => code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')}: exit ${code}: ${err}`)))
})

export async function loginFloodCase ({ out, logins = 1500, addresses = 250, seconds = 5, log = () => {} }) {
  mkdirSync(out, { recursive: true })
  const dbFile = join(out, 'login-flood.db')
  const port = await freePort()
  const env = { DATABASE_URL: `sqlite:${dbFile}`, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' }
  const server = spawn(process.execPath, ['dist/server.js'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] })
  const base = `http://127.0.0.1:${port}`
  try {
    for (let i = 0; ; i++) {
      try { if ((await fetch(`${base}/health`)).ok) break } catch {}
      if (i > 300) throw new Error('the server did not start')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    await run(['bin/gatehouse.js', 'users', 'add', 'probe', '--password-stdin'], env, 'probe-password')
    const signIn = await fetch(`${base}/token`, { method: 'POST', body: new URLSearchParams({ username: 'probe', password: 'probe-password' }) })
    const { access_token: token } = await signIn.json()
    let rssMax = rssMB(server.pid)
    const sampler = setInterval(() => { rssMax = Math.max(rssMax, rssMB(server.pid)) }, 100)
    log(`login flood: ${logins} sign-ins from ${addresses} addresses in ${seconds} s`)
    const text = await run(['dist/test/load/flood-driver.js', base, token, String(logins), String(addresses), String(seconds)], {})
    clearInterval(sampler)
    const r = JSON.parse(text)
    const shed = r.logins.filter((l) => l.status === 503)
    const verified = r.logins.filter((l) => l.status === 400)
    const me = r.me.map((m) => m.ms)
    return {
      logins,
      addresses,
      seconds,
      shed: shed.length,
      verified: verified.length,
      other: r.logins.length - shed.length - verified.length,
      shedMaxMs: Math.max(0, ...shed.map((l) => l.ms)),
      shedP99Ms: percentile(shed.map((l) => l.ms), 0.99),
      drainMs: r.lastReplyMs - r.sentMs,
      meP50: percentile(me, 0.5),
      meP99: percentile(me, 0.99),
      meCalls: me.length,
      meErrors: r.me.filter((m) => m.status !== 200).length,
      rssMax,
      driverLagMaxMs: r.driverLagMaxMs
    }
  } finally {
    server.kill('SIGTERM')
    await new Promise((resolve) => server.once('exit', resolve))
    for (const suffix of ['', '-wal', '-shm']) rmSync(dbFile + suffix, { force: true })
  }
}

export function loginFloodRows (c) {
  const fmt = (n, d = 0) => Number.isNaN(n) ? '–' : n.toLocaleString('en', { minimumFractionDigits: d, maximumFractionDigits: d })
  const label = `login flood: ${fmt(c.logins)} sign-ins (unknown users) from ${c.addresses} addresses in ${c.seconds} s`
  return [
    `| ${label} | | | | | ${c.other} | shed (503) within 2 s | ${c.shed} shed, slowest ${fmt(c.shedMaxMs)} ms (p99 ${fmt(c.shedP99Ms)}); ${c.verified} verified | ${c.shed > 0 && c.shedMaxMs < 2000 ? 'yes' : 'no'} |`,
    `| | | | | | ${c.meErrors} | /users/me p99 < 50 ms | p99 ${fmt(c.meP99, 1)} ms (p50 ${fmt(c.meP50, 1)}; ${c.meCalls} calls; driver lag ≤ ${fmt(c.driverLagMaxMs)} ms) | ${c.meP99 < 50 && c.meErrors === 0 ? 'yes' : 'no'} |`,
    `| | | | | | | drained within 10 s | ${fmt(c.drainMs / 1000, 1)} s after the flood | ${c.drainMs < 10_000 ? 'yes' : 'no'} |`,
    `| | | | | | | RSS < 200 MB | ${fmt(c.rssMax)} MB | ${c.rssMax < 200 ? 'yes' : 'no'} |`
  ]
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const env = process.env
  const out = join(import.meta.dirname, 'results', `login-flood-${new Date().toISOString().replace(/[:.]/g, '-')}`)
  const c = await loginFloodCase({
    out,
    logins: Number(env.BENCH_FLOOD_LOGINS ?? 1500),
    addresses: Number(env.BENCH_FLOOD_ADDRESSES ?? 250),
    seconds: Number(env.BENCH_FLOOD_SECONDS ?? 5),
    log: (...args) => process.stderr.write(`[bench login-flood] ${args.join(' ')}\n`)
  })
  process.stdout.write(['| case | | | | | errors | target | measured | met |', '|---|---:|---:|---:|---:|---:|---|---|---|', ...loginFloodRows(c)].join('\n') + '\n')
}

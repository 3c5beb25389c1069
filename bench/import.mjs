/**
 * The import case of `npm run bench`: BENCH_IMPORT_USERS users (1,000,000) in one JSON Lines file, imported
 * by `gatehouse users import FILE` (the CLI, as an operator runs it) into a fresh SQLite file and into a fresh
 * PostgreSQL schema. Targets: under 60 s on SQLite, under 120 s on PostgreSQL (the hashes are stored, not
 * computed). Measured: wall time from spawn to exit, the CLI's peak RSS, and its summary must say every
 * user was imported.
 *
 * Alone (after `npm run build`): `node bench/import.mjs` [BENCH_IMPORT_USERS=N] [BENCH_DATABASE_URL=…]
 * [BENCH_ONLY=import-sqlite|import-pg]. `run.mjs` calls `importCases` and puts the rows into its table.
 */
import { spawn } from 'node:child_process'
import { createWriteStream, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { once } from 'node:events'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const ROOT = resolve(import.meta.dirname, '..')

/**
 * One hash of each accepted kind, as other systems write them, cycled through the file: bcrypt (the FastAPI
 * tutorial's), argon2id (pwdlib's parameters), PBKDF2 as passlib and as Django write it. Their size is what
 * matters here: the import stores hashes, it verifies none.
 */
const HASHES = [
  '$2b$12$EixZaYVK1fsbw1ZfbX3OXePaWxn96p36WQoeG6Lruj3vjPGga31lW',
  '$argon2id$v=19$m=65536,t=3,p=4$Y3ozZjRiNnB1b2JjdXZzcw$N3Wd6mRLqhkT9Gmm4Nn0mFfA3xDSf6ck6wWeJfP4Ab0',
  '$pbkdf2-sha256$29000$AAECAwQFBgcICQoLDA0ODw$ZvLORN3Wu1.2s6Mb0kBKZ43bylSsC/t0Vz5rE9nJPNg',
  'pbkdf2_sha256$1000000$bvMJ8KHkmf3Nj0dqQ1Tl2a$sEJtwsLq0r4J8j2KkwfpEgnhL4Jx81eR0ZEukqIIZuo='
]

/** The JSON Lines file: a user a line, a third with a full name and e-mail, every tenth with a scope. */
export async function writeUsersFile (path, count) {
  const out = createWriteStream(path)
  let chunk = ''
  for (let i = 0; i < count; i++) {
    const user = { username: `user${String(i).padStart(7, '0')}`, password_hash: HASHES[i % HASHES.length] }
    if (i % 3 === 0) { user.full_name = `User ${i}`; user.email = `user${i}@example.test` }
    if (i % 10 === 0) user.scope = 'items:read'
    chunk += JSON.stringify(user) + '\n'
    if (chunk.length > 1 << 20) { if (!out.write(chunk)) await once(out, 'drain'); chunk = '' }
  }
  out.end(chunk)
  await once(out, 'finish')
  return statSync(path).size
}

/** Runs `gatehouse users import FILE` against `databaseUrl`; wall time, peak RSS (VmHWM), the summary. */
async function timeImport (file, databaseUrl) {
  const started = performance.now()
  const child = spawn(process.execPath, [join(ROOT, 'bin/gatehouse.js'), 'users', 'import', file], {
    cwd: ROOT, env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  let peakKb = 0
  const sample = () => {
    try { peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0)) } catch {}
  }
  const timer = setInterval(sample, 200)
  child.stdout.on('data', (d) => { stdout += d })
  child.stderr.on('data', (d) => { stderr += d })
  const [code] = await once(child, 'exit')
  clearInterval(timer)
  const seconds = (performance.now() - started) / 1000
  if (code !== 0) throw new Error(`users import exited ${code}: ${stderr.trim().split('\n').pop()}`)
  return { seconds, peakMB: peakKb * 1024 / 1e6, summary: JSON.parse(stdout), progressLines: stderr.split('\n').filter(Boolean).length }
}

/** A fresh schema named by the URL's search_path (dropped again by the returned function). */
async function freshSchema (url) {
  const { default: pg } = await import('pg')
  const schema = /search_path(?:=|%3D)([A-Za-z0-9_]+)/.exec(decodeURIComponent(new URL(url).searchParams.get('options') ?? ''))?.[1]
  if (!schema) throw new Error('BENCH_DATABASE_URL names no search_path schema')
  const base = new URL(url)
  base.search = ''
  const admin = async (sql) => {
    const client = new pg.Client({ connectionString: base.toString(), connectionTimeoutMillis: 5000 })
    await client.connect()
    try { await client.query(sql) } finally { await client.end() }
  }
  await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`)
  return () => admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
}

/**
 * The cases: [{ id, label, target, limitSeconds, result | error }]. `pgUrl` is the main bench's
 * PostgreSQL URL; the import gets a schema of its own beside it.
 */
export async function importCases ({ out, count, pgUrl, only, log = () => {} }) {
  mkdirSync(out, { recursive: true })
  const file = join(out, 'import-users.jsonl')
  log(`writing ${count.toLocaleString('en')} users to ${file}`)
  const bytes = await writeUsersFile(file, count)
  log(`${(bytes / 1e6).toFixed(0)} MB written`)
  const cases = []
  const label = (backend) => `gatehouse users import: ${count.toLocaleString('en')} users from JSON Lines (${backend})`
  if (!only || only.test('import-sqlite')) {
    const path = join(out, 'import.db')
    const c = { id: 'import-sqlite', label: label('SQLite'), target: '< 60 s', limitSeconds: 60 }
    try {
      c.result = await timeImport(file, `sqlite:${path}`)
      log(`import-sqlite: ${c.result.seconds.toFixed(1)} s, peak RSS ${c.result.peakMB.toFixed(0)} MB, ${JSON.stringify({ ...c.result.summary, rejected: c.result.summary.rejected.length })}`)
    } catch (err) { c.error = String(err.message) }
    for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true })
    cases.push(c)
  }
  if (!only || only.test('import-pg')) {
    const url = pgUrl.replace(/search_path(=|%3D)[A-Za-z0-9_]+/, (_m, eq) => `search_path${eq}bench_import`)
    const c = { id: 'import-pg', label: label('PostgreSQL'), target: '< 120 s', limitSeconds: 120 }
    let drop
    try {
      drop = await freshSchema(url)
      c.result = await timeImport(file, url)
      log(`import-pg: ${c.result.seconds.toFixed(1)} s, peak RSS ${c.result.peakMB.toFixed(0)} MB, ${JSON.stringify({ ...c.result.summary, rejected: c.result.summary.rejected.length })}`)
    } catch (err) { c.error = `skipped (backend not available): ${String(err.message).split('\n')[0]}` }
    await drop?.().catch(() => {})
    cases.push(c)
  }
  rmSync(file, { force: true })
  for (const c of cases) {
    if (c.result && c.result.summary.imported !== count) c.error = `imported ${c.result.summary.imported} of ${count}`
  }
  return cases
}

/** Table rows in run.mjs's format. */
export function importRows (cases) {
  const fmt = (n, d = 0) => n.toLocaleString('en', { minimumFractionDigits: d, maximumFractionDigits: d })
  return cases.map((c) => {
    if (!c.result || c.error) return `| ${c.label} | ${c.error ?? 'failed'} | | | | | ${c.target} | – | – |`
    const { seconds, peakMB, summary } = c.result
    const rate = summary.imported / seconds
    return `| ${c.label} | ${fmt(rate)} users/s | | | | 0 | ${c.target} | ${fmt(seconds, 1)} s (peak RSS ${fmt(peakMB)} MB) | ${seconds < c.limitSeconds ? 'yes' : 'no'} |`
  })
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const env = process.env
  const out = join(import.meta.dirname, 'results', `import-${new Date().toISOString().replace(/[:.]/g, '-')}`)
  const log = (...args) => process.stderr.write(`[bench import] ${args.join(' ')}\n`)
  const cases = await importCases({
    out,
    count: Number(env.BENCH_IMPORT_USERS ?? 1_000_000),
    pgUrl: env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3Dbench_gatehouse',
    only: env.BENCH_ONLY ? new RegExp(env.BENCH_ONLY) : undefined,
    log
  })
  process.stdout.write(['| case | rate | | | | errors | target | measured | met |', '|---|---:|---:|---:|---:|---:|---|---|---|', ...importRows(cases)].join('\n') + '\n')
}

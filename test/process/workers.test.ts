import t, { type Test } from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import http from 'node:http'
import { mergeExpositions, restartDelay, RESTART_MAX_MS } from '../../lib/ops/cluster.js'
import { loadConfig } from '../../lib/config.js'
import { hashesPerProcess } from '../../lib/credentials/passwords.js'
import { createTestSchema } from '../support/pg-schema.js'
import { tempDatabaseUrl } from '../support/helper.js'
import { formPost, runCli, startServer, stopServer, type ServerProcess } from '../support/server-process.js'

/**
 * WORKERS=2: one primary forking two server processes on one port (server.ts, lib/ops/cluster.ts), as real
 * processes over real sockets, on SQLite (two writers on one WAL file) and on PostgreSQL.
 */

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'))
/** The primary's children (its workers), from the kernel. */
const childrenOf = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number).filter(alive)
  } catch { return [] }
}

async function until (what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** One request on a connection of its own (no keep-alive: each lands on whichever worker accepts it). */
function freshGet (url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false, timeout: 10_000 }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)) })
      .on('timeout', function (this: http.ClientRequest) { this.destroy(new Error('no answer in 10 s')) })
      .on('error', reject)
  })
}

async function startWorkers (t: Test, env: Record<string, string>): Promise<ServerProcess> {
  const server = await startServer({ ...env, WORKERS: '2', LOG_LEVEL: 'info' })
  t.teardown(() => stopServer(server))
  await until('both workers to listen', () => server.output().includes('listening with 2 worker processes'))
  return server
}

async function scenario (t: Test, DATABASE_URL: string): Promise<void> {
  const env = { DATABASE_URL }
  await runCli(['users', 'add', 'carol', '--password-stdin', '--scope', 'read'], env, 'carol-pw')
  const server = await startWorkers(t, env)
  const pid = server.child.pid!
  const workers = childrenOf(pid)
  t.equal(workers.length, 2, 'the primary runs two worker processes')
  t.equal((await (await fetch(`${server.url}/.well-known/jwks.json`)).json() as { keys: unknown[] }).keys.length, 2,
    'one signing key per algorithm: created once, before the workers started')

  const login = async () => {
    const res = await formPost(`${server.url}/token`, { grant_type: 'password', username: 'carol', password: 'carol-pw' })
    t.equal(res.status, 200, 'carol signs in')
    return res.json() as Promise<{ access_token: string, refresh_token: string }>
  }
  // The same refresh token, sent 6 times at once on 6 connections (so both workers get some): one wins.
  const race = async (label: string) => {
    let wins = 0
    let losses = 0
    for (let round = 0; round < 15; round++) {
      const { refresh_token: rt } = await login()
      const results = await Promise.all(Array.from({ length: 6 }, () =>
        formPost(`${server.url}/token`, { grant_type: 'refresh_token', refresh_token: rt }, { connection: 'close' })))
      const bodies = await Promise.all(results.map((r) => r.json() as Promise<{ error?: string }>))
      const won = results.filter((r) => r.status === 200).length
      wins += won
      if (won !== 1) t.fail(`${label}, round ${round}: ${won} winners (${results.map((r) => r.status).join(',')})`)
      for (const [i, r] of results.entries()) {
        if (r.status === 200) continue
        losses++
        if (r.status !== 400 || bodies[i]?.error !== 'invalid_grant') t.fail(`${label}, round ${round}: a loser answered ${r.status} ${JSON.stringify(bodies[i])}`)
      }
    }
    t.equal(wins, 15, `${label}: every refresh token won exactly once in 15 races of 6`)
    t.equal(losses, 75, `${label}: every other use answered 400 invalid_grant`)
  }
  await race('two workers')

  const scrape = await (await fetch(`${server.url}/metrics`)).text()
  const served = [...scrape.matchAll(/^gatehouse_http_requests_total\{method="POST",route="\/token",status="\d+",worker="(\d)"\} (\d+)/gm)]
  t.same([...new Set(served.map((m) => m[1]))].sort(), ['1', '2'], '/metrics shows both workers, each labelled, and both served /token')
  t.equal(scrape.match(/^# TYPE gatehouse_http_requests_total counter$/gm)?.length, 1, 'each metric family once in the merged exposition')

  // A worker dies hard: the other keeps serving, and the primary starts a new one.
  const victim = workers[0]!
  process.kill(victim, 'SIGKILL')
  // (A connection the primary hands to the worker in the instant it dies, before the primary has seen the
  // death, is lost with it: node:cluster's round-robin hand-off. So the requests start once it has.)
  await until('the primary to see the death', () => /a worker died: restarting it/.test(server.output()))
  const statuses: number[] = []
  for (let i = 0; i < 20; i++) statuses.push(await freshGet(`${server.url}/health`))
  t.same([...new Set(statuses)], [200], 'requests keep being answered while a worker is down')
  await until('a new worker', () => { const now = childrenOf(pid); return now.length === 2 && !now.includes(victim) })
  await until('the new worker to listen', () => (server.output().match(/Server listening at/g) ?? []).length >= 3)
  await race('after the restart')
  t.ok(alive(pid), 'the primary is still running')

  // SIGTERM to the primary: every worker drains and exits, then the primary exits 0.
  const last = childrenOf(pid)
  server.child.kill('SIGTERM')
  t.equal(await server.exited, 0, 'the primary exits 0 after SIGTERM')
  await until('the workers to be gone', () => last.every((w) => !alive(w)), 5_000)
  t.pass('no worker outlives the primary')
  t.notMatch(server.output(), /workers took too long|error during shutdown/, 'a clean shutdown')
}

t.test('WORKERS=2 on SQLite: one WAL file, two writers', async (t) => {
  await scenario(t, tempDatabaseUrl(t))
})

t.test('WORKERS=2 on PostgreSQL', async (t) => {
  const { url, drop } = await createTestSchema()
  t.teardown(drop)
  await scenario(t, url)
})

t.test('a worker that cannot start stops the whole server (no restart storm)', async (t) => {
  const blocker = http.createServer((_req, res) => res.writeHead(404).end())
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  t.teardown(() => blocker.close())
  const port = (blocker.address() as { port: number }).port
  const started = startServer({ DATABASE_URL: tempDatabaseUrl(t), WORKERS: '2', PORT: String(port) }, port)
  // The port answers (the blocker's empty replies are not /health 200s), so startServer fails once the primary exits.
  await t.rejects(started, /exited early|did not start/, 'the server does not come up')
})

t.test('WORKERS: 1 by default, auto is one per core, N is N', async (t) => {
  const base = { DATABASE_URL: 'sqlite::memory:' }
  t.equal(loadConfig(base).workers, 1)
  t.equal(loadConfig({ ...base, WORKERS: '3' }).workers, 3)
  t.ok(loadConfig({ ...base, WORKERS: 'auto' }).workers >= 1)
  for (const bad of ['0', 'many', '-1', '1.5', '65', '1000']) {
    t.throws(() => loadConfig({ ...base, WORKERS: bad }), /WORKERS/, `WORKERS=${bad} is refused, naming the variable`)
  }
  t.equal(hashesPerProcess(1, 8), 7, 'one process hashes on every core but one (left to the event loop)')
  t.equal(hashesPerProcess(2, 8), 3, 'two share them')
  t.equal(hashesPerProcess(1, 2), 1, 'on two cores: one hash at a time')
  t.equal(hashesPerProcess(4, 2), 1, 'at least one each')
})

t.test('a crashed worker restarts with backoff: a worker killed right after start waits >= 100 ms, killed again at once >= 200 ms', async (t) => {
  const server = await startWorkers(t, { DATABASE_URL: tempDatabaseUrl(t) })
  const pid = server.child.pid!
  /** The "a worker died" lines so far, as logged (JSON). */
  const deaths = () => server.output().split('\n').filter((l) => l.includes('a worker died')).map((l) => JSON.parse(l) as { worker: number, workerPid: number, restartInMs: number })
  const [first, other] = childrenOf(pid) as [number, number]
  process.kill(first, 'SIGKILL')
  await until('the first death to be logged', () => deaths().length === 1)
  const [died] = deaths()
  t.equal(died!.workerPid, first, 'the killed worker')
  t.ok(died!.restartInMs >= 100, `a worker that died soon after starting is restarted after ${died!.restartInMs} ms (>= 100), not at once`)
  // Its replacement, killed as soon as it exists: the same slot's second quick death.
  let replacement = 0
  await until('the replacement worker', () => { replacement = childrenOf(pid).find((w) => w !== first && w !== other) ?? 0; return replacement !== 0 })
  process.kill(replacement, 'SIGKILL')
  await until('the second death to be logged', () => deaths().length === 2)
  const second = deaths()[1]!
  t.equal(second.worker, died!.worker, 'the same slot')
  t.ok(second.restartInMs >= 200, `its second quick death waits longer: ${second.restartInMs} ms (>= 200)`)
  await until('the slot to be filled again', () => childrenOf(pid).length === 2)
  t.ok(alive(pid), 'the primary keeps running')
})

t.test('restart backoff: immediate once, then doubling, capped', async (t) => {
  t.equal(restartDelay(0), 0, 'a worker that had been running a while comes back at once')
  t.ok(restartDelay(2) > restartDelay(1) && restartDelay(3) > restartDelay(2), 'each quick death waits longer')
  t.equal(restartDelay(50), RESTART_MAX_MS, 'capped')
})

t.test('merged expositions: one family, every worker labelled', async (t) => {
  const one = '# HELP a_total A.\n# TYPE a_total counter\na_total{route="/x y",status="200"} 3\n# HELP up Up.\n# TYPE up gauge\nup 1\n'
  const two = '# HELP a_total A.\n# TYPE a_total counter\na_total{route="/x y",status="200"} 4\n# HELP up Up.\n# TYPE up gauge\nup 0\n'
  t.equal(mergeExpositions([{ worker: '2', text: two }, { worker: '1', text: one }]),
    '# HELP a_total A.\n# TYPE a_total counter\na_total{route="/x y",status="200",worker="1"} 3\na_total{route="/x y",status="200",worker="2"} 4\n' +
    '# HELP up Up.\n# TYPE up gauge\nup{worker="1"} 1\nup{worker="2"} 0\n')
})

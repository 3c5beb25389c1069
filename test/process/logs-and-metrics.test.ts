import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { tempDatabaseUrl } from '../support/helper.js'
import { parseExposition, sampleValue } from '../support/prometheus.js'
import { startServer, stopServer } from '../support/server-process.js'

/**
 * The server as processes, for issue 29's operations: the log lines it writes, as text (one `pid` key per JSON line,
 * also for a restarted worker and for the primary's line about its death: JSON.parse keeps the last of two equal keys,
 * so the keys are counted in the text), LOG_FORMAT, and the process metrics of each worker.
 */

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'))
const childrenOf = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number).filter(alive)
  } catch { return [] }
}

async function until (what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** How many times `"key":` occurs as a key of the JSON text (a string value holding it is escaped: `\"key\":`). */
const keyCount = (line: string, key: string) => line.split(`"${key}":`).length - 1

t.test('WORKERS=2: every line of the primary, the workers and a restarted worker has one pid', async (t) => {
  const server = await startServer({ DATABASE_URL: tempDatabaseUrl(t), WORKERS: '2', LOG_LEVEL: 'info' })
  t.teardown(() => stopServer(server))
  await until('both workers to listen', () => server.output().includes('listening with 2 worker processes'))
  const primary = server.child.pid!
  const first = childrenOf(primary)
  const victim = first[0]!
  const before = parseExposition(await (await fetch(`${server.url}/metrics`)).text())
  t.same(before.problems, [], 'a valid merged exposition')
  const startOf = (e: typeof before, worker: string) => sampleValue(e, 'process_start_time_seconds', { worker })!
  for (const worker of ['1', '2']) {
    t.ok((sampleValue(before, 'process_cpu_seconds_total', { worker }) ?? 0) > 0, `worker ${worker}: its own CPU time`)
    t.ok((sampleValue(before, 'process_open_fds', { worker }) ?? 0) > 0, `worker ${worker}: its own open fds`)
    t.ok(startOf(before, worker) > 0, `worker ${worker}: its start time`)
  }
  t.equal(before.samples.filter((s) => s.name === 'process_start_time_seconds').length, 2, 'one start time per worker, each labelled')
  process.kill(victim, 'SIGKILL')
  await until('the new worker to listen', () => (server.output().match(/Server listening at/g) ?? []).length >= 3)
  const restarted = childrenOf(primary).find((w) => !first.includes(w))
  const lines = server.output().split('\n').filter((l) => l.startsWith('{'))
  const twice = lines.filter((l) => keyCount(l, 'pid') !== 1)
  t.same(twice, [], 'no line has a pid key other than once')

  const death = lines.find((l) => l.includes('a worker died'))
  t.ok(death, 'the primary logged the death')
  const parsed = JSON.parse(death!) as { pid: number, workerPid: number, worker: number }
  t.equal(parsed.pid, primary, 'the death line\'s pid is the process that wrote it (the primary)')
  t.equal(parsed.workerPid, victim, 'the dead worker is workerPid')
  const listening = lines.filter((l) => l.includes('Server listening at')).map((l) => (JSON.parse(l) as { pid: number }).pid)
  t.ok(restarted !== undefined && listening.includes(restarted), 'the restarted worker\'s own lines are among those read')

  await new Promise((resolve) => setTimeout(resolve, 1_100)) // past the second one merged exposition is served for
  const after = parseExposition(await (await fetch(`${server.url}/metrics`)).text())
  const slot = String(parsed.worker)
  const other = slot === '1' ? '2' : '1'
  t.ok(startOf(after, slot) > startOf(before, slot), `the restarted slot ${slot} reports its new process's start time`)
  t.ok(startOf(after, slot) > startOf(before, other), 'which is later than the worker that kept running')
  t.equal(startOf(after, other), startOf(before, other), 'the other worker\'s start time is unchanged')
})

t.test('LOG_FORMAT=pretty: human lines, no JSON', async (t) => {
  const server = await startServer({ DATABASE_URL: tempDatabaseUrl(t), LOG_LEVEL: 'info', LOG_FORMAT: 'pretty' })
  t.teardown(() => stopServer(server))
  await until('the listening line', () => server.output().includes('Server listening at'))
  const lines = server.output().split('\n').filter((l) => l !== '')
  t.ok(lines.length > 0)
  t.same(lines.filter((l) => l.startsWith('{')), [], 'no JSON line')
  t.match(server.output(), new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  \\[${server.child.pid!}\\] Server listening at http://127\\.0\\.0\\.1:\\d+$`, 'm'),
    'time, level, pid and message')
})

t.test('LOG_FORMAT: json by default; anything but json or pretty is refused at start', async (t) => {
  const server = await startServer({ DATABASE_URL: tempDatabaseUrl(t), LOG_LEVEL: 'info' })
  t.teardown(() => stopServer(server))
  await until('the listening line', () => server.output().includes('Server listening at'))
  const listening = server.output().split('\n').find((l) => l.includes('Server listening at'))!
  t.equal((JSON.parse(listening) as { pid: number }).pid, server.child.pid, 'a JSON line')
  await t.rejects(startServer({ DATABASE_URL: tempDatabaseUrl(t), LOG_FORMAT: 'fancy' }), /LOG_FORMAT/, 'LOG_FORMAT=fancy: the server does not start, naming the variable')
})

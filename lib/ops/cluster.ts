import cluster, { type Worker } from 'node:cluster'
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import { reusedFor, SCRAPE_CACHE_MS } from './metrics.js'

/**
 * WORKERS > 1: one primary process that serves nothing, and N worker processes (node:cluster) that each run
 * the whole app on the same port, each with its own event loop. The workers share state through the store
 * (and Redis), exactly as separate instances do, and their rate-limit counters through the primary. What the
 * primary does, and nothing else:
 *
 * - before forking, it opens the store once (migrations, the first signing key: server.ts), so workers
 *   starting together find nothing to create;
 * - it restarts a worker that dies, after a delay that doubles with each quick death of that slot (from
 *   RESTART_MIN_MS up to RESTART_MAX_MS; a worker that lived STABLE_MS resets it), so a worker that cannot
 *   start does not turn into a fork storm;
 * - if a worker dies before every worker has listened once, the start has failed (port taken, bad
 *   database): it stops the others and exits 1, as a single process would;
 * - on SIGTERM/SIGINT it sends SIGTERM to every worker (each drains its connections, server.ts) and exits
 *   when all have, 0 if all exited cleanly;
 * - it relays /metrics scrapes: the worker that receives one asks the primary, which collects every
 *   worker's exposition and merges them, each sample labelled with `worker` (mergeExpositions); one merge is
 *   answered again for SCRAPE_CACHE_MS, so a scrape flood costs the primary one merge a second;
 * - it holds every worker's rate-limit counters (lib/limits/cluster-counters.ts) and DPoP replay memory
 *   (lib/oauth/cluster-proof-replay.ts), both started by server.ts.
 */

export const RESTART_MIN_MS = 100
export const RESTART_MAX_MS = 30_000
/** A worker that lived this long before dying counts as stable: its slot's next restart is immediate again. */
export const STABLE_MS = 10_000
/** After SIGTERM, how long the primary waits for the workers before killing them (each drains within 15 s). */
export const STOP_TIMEOUT_MS = 20_000
/** How long a /metrics scrape waits for the other workers' parts. */
export const SCRAPE_TIMEOUT_MS = 2_000

/** What the worker that received a scrape measured of the database; every worker's exposition shows it. */
export interface DatabaseProbe { up: boolean, pingSeconds: number }

/** Messages between the primary and the workers (node:cluster IPC). */
type Message =
  | { gatehouse: 'scrape', id: number, database: DatabaseProbe } // worker → primary: a /metrics request arrived
  | { gatehouse: 'render', id: number, database: DatabaseProbe } // primary → every worker: your exposition, please
  | { gatehouse: 'part', id: number, text: string } // worker → primary
  | { gatehouse: 'scraped', id: number, text: string } // primary → the asking worker: every worker's, merged

const isMessage = (m: unknown): m is Message => typeof m === 'object' && m !== null && typeof (m as { gatehouse?: unknown }).gatehouse === 'string'

interface Slot { index: number, worker?: Worker, startedAt: number, quickDeaths: number, restart?: NodeJS.Timeout }

export interface Supervisor {
  /** Resolves with the exit code the primary should end with. */
  readonly done: Promise<number>
}

/** Forks `count` workers (this module's caller, server.ts, is the worker's entry point too) and looks after them. */
export function superviseWorkers (count: number, log: Logger, clock: Clock): Supervisor {
  const slots: Slot[] = Array.from({ length: count }, (_, index) => ({ index, startedAt: 0, quickDeaths: 0 }))
  let started = 0 // workers that listened once since the primary started
  let stopping = false
  let finish: (code: number) => void = () => {}
  const done = new Promise<number>((resolve) => { finish = resolve })
  let exitCode = 0

  const fork = (slot: Slot) => {
    slot.restart = undefined
    slot.startedAt = clock.nowMs()
    const worker = cluster.fork({ GATEHOUSE_WORKER: String(slot.index + 1) })
    slot.worker = worker
    let listened = false
    worker.on('listening', (address) => {
      if (!listened && started < count) {
        started++
        if (started === count) log.info({ workers: count, port: address.port }, `listening with ${count} worker processes`)
      }
      listened = true
    })
    worker.on('message', (message: unknown) => { if (isMessage(message)) onMessage(worker, message) })
    worker.on('exit', (code, signal) => {
      slot.worker = undefined
      if (stopping) {
        if (code !== 0) exitCode = 1
        if (slots.every((s) => s.worker === undefined)) finish(exitCode)
        return
      }
      if (started < count) {
        log.error({ worker: slot.index + 1, code, signal }, 'a worker failed to start: stopping')
        stop(1)
        return
      }
      const lived = clock.nowMs() - slot.startedAt
      slot.quickDeaths = lived >= STABLE_MS ? 0 : slot.quickDeaths + 1
      const delay = restartDelay(slot.quickDeaths)
      log.error({ worker: slot.index + 1, workerPid: worker.process.pid, code, signal, restartInMs: delay }, 'a worker died: restarting it')
      slot.restart = setTimeout(() => fork(slot), delay)
    })
  }

  function stop (code = 0): void {
    if (stopping) return
    stopping = true
    exitCode = code
    for (const slot of slots) if (slot.restart) clearTimeout(slot.restart)
    const alive = slots.filter((s) => s.worker !== undefined)
    if (alive.length === 0) { finish(exitCode); return }
    for (const slot of alive) slot.worker?.process.kill('SIGTERM')
    setTimeout(() => {
      log.error('workers took too long to stop; killing them')
      for (const slot of slots) slot.worker?.process.kill('SIGKILL')
      finish(1)
    }, STOP_TIMEOUT_MS).unref()
  }

  // /metrics: collect every live worker's exposition (at most once per SCRAPE_CACHE_MS) for the worker that was asked.
  let nextScrape = 0
  const scrapes = new Map<number, { parts: Array<{ worker: string, text: string }>, waiting: Map<Worker, string>, reply: () => void }>()
  const collect = reusedFor(SCRAPE_CACHE_MS, clock.nowMs, (database: DatabaseProbe) => new Promise<string>((resolve) => {
    const id = ++nextScrape
    const waiting = new Map(slots.flatMap((s) => s.worker?.isConnected() ? [[s.worker, String(s.index + 1)] as const] : []))
    const timer = setTimeout(() => reply(), SCRAPE_TIMEOUT_MS)
    const parts: Array<{ worker: string, text: string }> = []
    const reply = () => {
      scrapes.delete(id)
      clearTimeout(timer)
      resolve(mergeExpositions(parts))
    }
    scrapes.set(id, { parts, waiting, reply })
    for (const worker of waiting.keys()) worker.send({ gatehouse: 'render', id, database } satisfies Message)
  }))
  function onMessage (from: Worker, message: Message): void {
    if (message.gatehouse === 'scrape') {
      collect(message.database).then((text) => {
        if (from.isConnected()) from.send({ gatehouse: 'scraped', id: message.id, text } satisfies Message)
      })
    } else if (message.gatehouse === 'part') {
      const scrape = scrapes.get(message.id)
      const label = scrape?.waiting.get(from)
      if (!scrape || label === undefined) return
      scrape.parts.push({ worker: label, text: message.text })
      scrape.waiting.delete(from)
      if (scrape.waiting.size === 0) scrape.reply()
    }
  }

  process.on('SIGTERM', () => { log.info({ signal: 'SIGTERM' }, 'shutting down: stopping every worker'); stop(0) })
  process.on('SIGINT', () => { log.info({ signal: 'SIGINT' }, 'shutting down: stopping every worker'); stop(0) })
  for (const slot of slots) fork(slot)
  return { done }
}

/** The delay before restarting a worker whose slot has died `quickDeaths` times in a row, each soon after starting. */
export function restartDelay (quickDeaths: number): number {
  if (quickDeaths <= 1) return quickDeaths === 0 ? 0 : RESTART_MIN_MS
  return Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** (quickDeaths - 1))
}

/**
 * In a worker: answers the primary's render requests with `render(database)`, and returns the function
 * /metrics uses to get every worker's exposition merged (or undefined outside a cluster worker).
 */
export function clusterScrape (render: (database: DatabaseProbe) => string): ((database: DatabaseProbe) => Promise<string>) | undefined {
  if (!cluster.isWorker) return undefined
  let nextId = 0
  const pending = new Map<number, (text: string) => void>()
  process.on('message', (message: unknown) => {
    if (!isMessage(message)) return
    if (message.gatehouse === 'render') process.send?.({ gatehouse: 'part', id: message.id, text: render(message.database) } satisfies Message)
    else if (message.gatehouse === 'scraped') {
      pending.get(message.id)?.(message.text)
      pending.delete(message.id)
    }
  })
  return (database) => new Promise<string>((resolve) => {
    const id = ++nextId
    // Without an answer in time (the primary is gone), this worker's own exposition, labelled as the others would be.
    const timer = setTimeout(() => {
      pending.delete(id)
      resolve(mergeExpositions([{ worker: process.env.GATEHOUSE_WORKER ?? '?', text: render(database) }]))
    }, SCRAPE_TIMEOUT_MS + 500)
    pending.set(id, (text) => { clearTimeout(timer); resolve(text) })
    process.send?.({ gatehouse: 'scrape', id, database } satisfies Message)
  })
}

/**
 * Several workers' Prometheus expositions (text format 0.0.4) as one: each metric family once (its HELP and
 * TYPE lines), with every worker's samples under it, each labelled `worker="N"`. Sum over `worker` for the
 * server as a whole (`sum without (worker) (rate(gatehouse_http_requests_total[1m]))`).
 */
export function mergeExpositions (parts: ReadonlyArray<{ worker: string, text: string }>): string {
  const families = new Map<string, { meta: string[], samples: string[] }>()
  const sorted = [...parts].sort((a, b) => Number(a.worker) - Number(b.worker))
  for (const { worker, text } of sorted) {
    let family: { meta: string[], samples: string[] } | undefined
    for (const line of text.split('\n')) {
      if (line === '') continue
      const meta = /^# (HELP|TYPE) (\S+)/.exec(line)
      if (meta) {
        const name = meta[2] as string
        family = families.get(name)
        if (!family) families.set(name, family = { meta: [], samples: [] })
        if (!family.meta.includes(line)) family.meta.push(line)
        continue
      }
      if (line.startsWith('#') || !family) continue
      family.samples.push(withLabel(line, 'worker', worker))
    }
  }
  const lines: string[] = []
  for (const { meta, samples } of families.values()) lines.push(...meta, ...samples)
  return lines.join('\n') + '\n'
}

/** `name{a="b"} 1` → `name{a="b",worker="2"} 1`; `name 1` → `name{worker="2"} 1`. The value never holds a space or `}`. */
function withLabel (sample: string, name: string, value: string): string {
  const space = sample.lastIndexOf(' ')
  const series = sample.slice(0, space)
  const label = `${name}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
  return series.endsWith('}')
    ? `${series.slice(0, -1)}${series.endsWith('{}') ? '' : ','}${label}}${sample.slice(space)}`
    : `${series}{${label}}${sample.slice(space)}`
}

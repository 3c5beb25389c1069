import { GatehouseError, temporarilyUnavailable, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../errors.js'
import { countersFull, isCountersFull, type CounterKind, type CounterPlace, type CounterScript, type CounterStore, type MemoryCounterStore, type RunOptions } from './throttle.js'
import { answerWorkers, isTagged, PrimaryQuestions, processChannel, type PrimaryChannel } from './primary-channel.js'

export type { PrimaryChannel }

/**
 * WORKERS > 1: every worker's counters are the primary's. Without this each worker process counted alone, and
 * every limit (an account's 10 failures, an address's 50 accounts, 60 upstream starts a minute) was multiplied by
 * the number of workers. The primary holds one MemoryCounterStore; a worker sends it each step over node:cluster's
 * IPC channel, and the primary runs it synchronously, the script's local twin (lib/limits/throttle.ts) as Redis
 * runs its Lua twin: one step at a time, so parallel guesses on several workers still count one by one, with no
 * check-then-act gap between workers.
 *
 * When the primary does not answer in PRIMARY_TIMEOUT_MS, the step is refused (503 temporarily_unavailable
 * with Retry-After): a worker never counts on its own, which would hand out the limit again per worker. A step
 * that timed out may still have been counted by the primary: it then counts against the account (fail closed).
 * A step may say what to answer instead (`unavailable`, as a settlement does: its counters expire by themselves).
 * With REDIS_URL, Redis holds the counters and the primary's are the fallback while Redis is away.
 *
 * Cost, measured with bench/cluster-counters.mjs (bench/README.md): one step is one IPC round trip of two small
 * JSON messages, ~85 µs (8 µs in one process's own counters) and 15–30 µs of the primary's CPU; a sign-in takes
 * two, against one argon2 verify of tens of milliseconds.
 */

/** How long a worker waits for the primary's answer before it refuses the step. */
export const PRIMARY_TIMEOUT_MS = 1_000

/** A worker's question. */
type CounterRequest =
  | { gatehouse: 'count', id: number, op: 'hit', key: string, windowSeconds: number, kind: CounterKind }
  | { gatehouse: 'count', id: number, op: 'run', script: string, keys: string[], args: unknown }

/** The primary's answer: a result, a refusal for want of room (countersFull), or a failure. */
type CounterReply =
  | { gatehouse: 'counted', id: number, result: unknown }
  | { gatehouse: 'counted', id: number, full: number }
  | { gatehouse: 'counted', id: number, failed: string }

const isRequest = isTagged('count') as (m: unknown) => m is CounterRequest

/** Any counter script, as the primary looks it up by name (its arguments come over IPC). */
type NamedScript = CounterScript<never, unknown>

/**
 * The primary's answer to one message from a worker, or undefined when the message is not a counter step. Runs
 * the step at once, synchronously, on `store`: the whole of a step's atomicity.
 */
export function answerCounterStep (store: MemoryCounterStore, scripts: ReadonlyMap<string, NamedScript>, message: unknown): CounterReply | undefined {
  if (!isRequest(message)) return undefined
  const { id } = message
  try {
    if (message.op === 'hit') return { gatehouse: 'counted', id, result: store.hitNow(message.key, message.windowSeconds, message.kind) }
    const script = scripts.get(message.script) as CounterScript<unknown, unknown> | undefined
    if (!script) return { gatehouse: 'counted', id, failed: `no counter script named ${JSON.stringify(message.script)}` }
    return { gatehouse: 'counted', id, result: store.runNow(script, message.keys, message.args) }
  } catch (err) {
    if (isCountersFull(err)) return { gatehouse: 'counted', id, full: Number((err as GatehouseError).headers['retry-after']) }
    return { gatehouse: 'counted', id, failed: err instanceof Error ? err.message : String(err) }
  }
}

/**
 * In the primary: answers every worker's counter steps from `store`, with `scripts` (looked up by name). Returns
 * the function that stops answering.
 */
export function shareCounters (store: MemoryCounterStore, scripts: readonly NamedScript[]): () => void {
  const byName = new Map(scripts.map((s) => [s.name, s]))
  return answerWorkers((message) => answerCounterStep(store, byName, message))
}

/** The refusal when the primary cannot be asked or does not answer in time. */
const primaryUnavailable = () => temporarilyUnavailable(UNAVAILABLE_RETRY_AFTER_SECONDS, 'the rate-limit counters cannot be reached; try again shortly')

/** In a worker: the counters of the primary (each step one IPC round trip), refused when it does not answer. */
export class ClusterCounterStore implements CounterStore {
  readonly #primary: PrimaryQuestions<CounterReply>

  constructor (channel: PrimaryChannel = processChannel(), timeoutMs = PRIMARY_TIMEOUT_MS) {
    this.#primary = new PrimaryQuestions('count', 'counted', channel, timeoutMs)
  }

  async hit (key: string, windowSeconds: number, kind: CounterKind = 'request'): Promise<{ count: number, resetIn: number }> {
    return await this.#ask({ op: 'hit', key, windowSeconds, kind }) as { count: number, resetIn: number }
  }

  async run<A, R> (script: CounterScript<A, R>, keys: readonly string[], args: A, options: RunOptions<R> = {}): Promise<{ result: R, place: CounterPlace }> {
    try {
      return { result: await this.#ask({ op: 'run', script: script.name, keys: [...keys], args }) as R, place: 'shared' }
    } catch (err) {
      if (options.unavailable === undefined) throw err
      return { result: options.unavailable(), place: 'shared' }
    }
  }

  async close (): Promise<void> {
    this.#primary.close()
  }

  /** One step at the primary: its result, or countersFull / primaryUnavailable thrown. */
  async #ask (step: DistributiveOmit<CounterRequest, 'gatehouse' | 'id'>): Promise<unknown> {
    const reply = await this.#primary.ask(step)
    if (reply === undefined || 'failed' in reply) throw primaryUnavailable()
    if ('full' in reply) throw countersFull(reply.full)
    return reply.result
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

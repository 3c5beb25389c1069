import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { OutboxMessage, OutboxStore } from '../stores/types.js'

/**
 * The rules of every outbox sender (mail, back-channel logout): when a failed message is tried again, how long a
 * claim holds, how many messages may wait, how long finished rows stay. The store (lib/stores/types.ts
 * OutboxStore) keeps the rows; `deliverRound` is one sender's round over its kind, on its kind's schedule.
 */

/**
 * Seconds to wait after the n-th failed attempt (index n - 1): quick at first (a relay restarting, a greylisting
 * 451), then spaced out, about 23 hours in all; after the last one the message is given up.
 */
export const OUTBOX_BACKOFF_SECONDS: readonly number[] = [10, 60, 300, 900, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 8 * 3600]

/** Attempts a message gets: the first, and one after each wait of the schedule. */
export const OUTBOX_MAX_ATTEMPTS = OUTBOX_BACKOFF_SECONDS.length + 1

/** How long a claim holds a message: longer than any one attempt may take, so a live sender never loses its claim. */
export const OUTBOX_LEASE_SECONDS = 120

/** The longest one attempt may take (a send that hangs is abandoned, and counted as a failed attempt). */
export const OUTBOX_ATTEMPT_TIMEOUT_MS = 30_000

/**
 * Unfinished messages of one kind the outbox holds at most (counted per kind: a flood of one kind never refuses
 * another); past it an enqueue is refused (OutboxFullError). A kind whose messages are queued by a change that
 * must not fail (a session ending queues its logout messages) drops its oldest instead (`dropOldest`).
 */
export const OUTBOX_MAX_PENDING = 10_000

/** How long a finished message's row (without its payload) stays for an operator to look at, seconds. */
export const OUTBOX_RETENTION_SECONDS = 7 * 24 * 3600

/** Messages one sender claims per round. */
export const OUTBOX_BATCH = 10

/** How a kind's messages are tried: its backoff (one attempt more than waits), lease, batch and attempt timeout. */
export interface OutboxSchedule {
  /** Seconds to wait after the n-th failed attempt (index n - 1); after the last, the message is given up. */
  backoffSeconds: readonly number[]
  leaseSeconds: number
  /** Messages one round claims. */
  batch: number
  /** The longest one attempt may take (then it counts as failed). */
  timeoutMs: number
}

/** The schedule of a kind that names none (mail). */
export const DEFAULT_OUTBOX_SCHEDULE: OutboxSchedule = {
  backoffSeconds: OUTBOX_BACKOFF_SECONDS,
  leaseSeconds: OUTBOX_LEASE_SECONDS,
  batch: OUTBOX_BATCH,
  timeoutMs: OUTBOX_ATTEMPT_TIMEOUT_MS
}

/**
 * When a message that has failed `attempts` times (the one just failed included) is due again, or undefined when
 * it has had all its attempts (one more than `backoff` has waits) and is given up.
 */
export function nextAttemptAt (attempts: number, now: number, backoff: readonly number[] = OUTBOX_BACKOFF_SECONDS): number | undefined {
  if (attempts > backoff.length) return undefined
  return now + backoff[Math.max(0, attempts - 1)]!
}

/** The outbox holds OUTBOX_MAX_PENDING unfinished messages: nothing was added. */
export class OutboxFullError extends Error {
  override name = 'OutboxFullError'
  constructor (kind: string) {
    super(`the outbox is full (${OUTBOX_MAX_PENDING} ${kind} messages waiting): ${kind} not queued`)
  }
}

/** Adds a message, or throws OutboxFullError at the cap. */
export async function enqueue (store: OutboxStore, kind: string, payload: unknown, now: number): Promise<string> {
  const id = await store.enqueue({ kind, payload, now, maxPending: OUTBOX_MAX_PENDING })
  if (id === undefined) throw new OutboxFullError(kind)
  return id
}

/** The last_error of a message dropped by `dropOldest`. */
export const DROPPED = 'dropped: the outbox bound was reached'

/**
 * Keeps the newest `keep` unfinished messages of `kind` and finishes the others as failed (DROPPED); returns how
 * many went. For the kinds that cannot be refused at enqueue (see OUTBOX_MAX_PENDING).
 */
export async function dropOldest (store: OutboxStore, kind: string, now: number, keep = OUTBOX_MAX_PENDING): Promise<number> {
  return store.dropOldest(kind, keep, now, DROPPED)
}

/** What became of one claimed message in a round. */
export type Outcome =
  | { result: 'sent', message: OutboxMessage, detail: unknown }
  | { result: 'retried', message: OutboxMessage, error: string, at: number }
  | { result: 'failed', message: OutboxMessage, error: string }
  /** The claim was lost (a lease ran out, another sender took it over): its new holder records the outcome. */
  | { result: 'lost', message: OutboxMessage }

export interface RoundInput {
  store: OutboxStore
  kind: string
  /** Unix seconds, read when needed (the round may last a while). */
  now: () => number
  /** This sender's id, unique per process (lease_owner). */
  owner: string
  /** Delivers one message; throws when it did not go out. */
  deliver: (message: OutboxMessage) => Promise<unknown>
  /** Failures that would recur however often tried (a recipient refused for good): given up at once. */
  isPermanent?: (err: unknown) => boolean
  /** The kind's schedule (DEFAULT_OUTBOX_SCHEDULE when absent). */
  schedule?: OutboxSchedule
  /** Overrides the schedule's attempt timeout. */
  timeoutMs?: number
}

/** Claims the due messages of one kind and delivers them (at once), recording each outcome. */
export async function deliverRound (input: RoundInput): Promise<Outcome[]> {
  const { store, kind, now, owner, deliver } = input
  const schedule = input.schedule ?? DEFAULT_OUTBOX_SCHEDULE
  const timeoutMs = input.timeoutMs ?? schedule.timeoutMs
  const claimed = await store.claim(kind, now(), schedule.batch, schedule.leaseSeconds, owner)
  return Promise.all(claimed.map(async (message): Promise<Outcome> => {
    let detail: unknown
    try {
      detail = await withTimeout(deliver(message), timeoutMs)
    } catch (err) {
      const error = describe(err)
      const at = input.isPermanent?.(err) === true ? undefined : nextAttemptAt(message.attempts, now(), schedule.backoffSeconds)
      if (at === undefined) {
        return await store.giveUp(message.id, owner, now(), error) ? { result: 'failed', message, error } : { result: 'lost', message }
      }
      return await store.reschedule(message.id, owner, at, error) ? { result: 'retried', message, error, at } : { result: 'lost', message }
    }
    return await store.complete(message.id, owner, now()) ? { result: 'sent', message, detail } : { result: 'lost', message }
  }))
}

/** A sender's lease owner: unique per process and per sender, and telling an operator which host holds a claim. */
export const senderId = (): string => `${hostname()}:${process.pid}:${randomUUID()}`

/**
 * A sender's rounds, one at a time. `run()` starts a round now; called during one, it waits for it and then runs
 * the next (a message queued, or a clock moved, after the running round claimed is what the caller is after), and
 * answers with both rounds' results: the running round (the schedule's, or a nudge's) may have taken the very
 * message the caller meant. Calls during one round share the next.
 */
export class SerialRounds<T> {
  readonly #round: () => Promise<T[]>
  #running: Promise<T[]> | undefined
  #next: Promise<T[]> | undefined
  #closed = false

  constructor (round: () => Promise<T[]>) {
    this.#round = round
  }

  /** A round is running. */
  get busy (): boolean {
    return this.#running !== undefined
  }

  run (): Promise<T[]> {
    if (this.#closed) return Promise.resolve([])
    if (this.#running) {
      const current = this.#running.catch((): T[] => [])
      this.#next ??= current.then(() => { this.#next = undefined; return this.run() })
      return Promise.all([current, this.#next]).then(([before, after]) => [...before, ...after])
    }
    this.#running = this.#round().finally(() => { this.#running = undefined })
    return this.#running
  }

  /** No round starts from now on; resolves once the one in flight (and one already waiting) has finished. */
  async close (): Promise<void> {
    this.#closed = true
    await this.#running?.catch(() => {})
    await this.#next?.catch(() => {})
  }
}

async function withTimeout<T> (work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** An error as the row keeps it: its message, one line, bounded. */
const describe = (err: unknown): string =>
  (err instanceof Error ? err.message : String(err)).replace(/[\r\n]+/g, ' ').slice(0, 500)

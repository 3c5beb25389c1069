import type { OutboxMessage, OutboxStore } from '../stores/types.js'

/**
 * The rules of every outbox sender (mail now; back-channel logout calls later): when a failed message is tried
 * again, how long a claim holds, how many messages may wait, how long finished rows stay. The store
 * (lib/stores/types.ts OutboxStore) keeps the rows; `deliverRound` is one sender's round over its kind.
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

/** Unfinished messages the outbox holds at most; past it an enqueue is refused (OutboxFullError). */
export const OUTBOX_MAX_PENDING = 10_000

/** How long a finished message's row (without its payload) stays for an operator to look at, seconds. */
export const OUTBOX_RETENTION_SECONDS = 7 * 24 * 3600

/** Messages one sender claims per round. */
export const OUTBOX_BATCH = 10

/**
 * When a message that has failed `attempts` times (the one just failed included) is due again, or undefined when
 * it has had all its attempts and is given up.
 */
export function nextAttemptAt (attempts: number, now: number): number | undefined {
  if (attempts >= OUTBOX_MAX_ATTEMPTS) return undefined
  const wait = OUTBOX_BACKOFF_SECONDS[Math.max(0, attempts - 1)] ?? OUTBOX_BACKOFF_SECONDS[OUTBOX_BACKOFF_SECONDS.length - 1]!
  return now + wait
}

/** The outbox holds OUTBOX_MAX_PENDING unfinished messages: nothing was added. */
export class OutboxFullError extends Error {
  override name = 'OutboxFullError'
  constructor (kind: string) {
    super(`the outbox is full (${OUTBOX_MAX_PENDING} messages waiting): ${kind} not queued`)
  }
}

/** Adds a message, or throws OutboxFullError at the cap. */
export async function enqueue (store: OutboxStore, kind: string, payload: unknown, now: number): Promise<string> {
  const id = await store.enqueue({ kind, payload, now, maxPending: OUTBOX_MAX_PENDING })
  if (id === undefined) throw new OutboxFullError(kind)
  return id
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
  timeoutMs?: number
}

/** Claims the due messages of one kind and delivers them (at once), recording each outcome. */
export async function deliverRound (input: RoundInput): Promise<Outcome[]> {
  const { store, kind, now, owner, deliver } = input
  const timeoutMs = input.timeoutMs ?? OUTBOX_ATTEMPT_TIMEOUT_MS
  const claimed = await store.claim(kind, now(), OUTBOX_BATCH, OUTBOX_LEASE_SECONDS, owner)
  return Promise.all(claimed.map(async (message): Promise<Outcome> => {
    let detail: unknown
    try {
      detail = await withTimeout(deliver(message), timeoutMs)
    } catch (err) {
      const error = describe(err)
      const at = input.isPermanent?.(err) === true ? undefined : nextAttemptAt(message.attempts, now())
      if (at === undefined) {
        return await store.giveUp(message.id, owner, now(), error) ? { result: 'failed', message, error } : { result: 'lost', message }
      }
      return await store.reschedule(message.id, owner, at, error) ? { result: 'retried', message, error, at } : { result: 'lost', message }
    }
    return await store.complete(message.id, owner, now()) ? { result: 'sent', message, detail } : { result: 'lost', message }
  }))
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

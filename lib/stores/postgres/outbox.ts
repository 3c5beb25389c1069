import { randomUUID } from 'node:crypto'
import type { OutboxMessage, OutboxStore } from '../types.js'
import type { Db, Queryable } from './db.js'
import { assertNoNul, hasNul } from './nul.js'
import { toOutboxMessage } from '../rows.js'

export interface OutboxEntry { kind: string, payload: unknown, now: number, maxPending: number }

/**
 * Enqueues on any connection: the pool, or a caller's transaction (a sign-up writing its user and its mail at
 * once). Under concurrency the cap may be passed by the few inserts racing it; it bounds a flood, not a count.
 */
export async function enqueueOutbox (q: Queryable, input: OutboxEntry): Promise<string | undefined> {
  assertNoNul([input.kind, input.payload], 'outbox message')
  const id = randomUUID()
  const { rowCount } = await q.query({
    name: 'gh_outbox_enqueue',
    text: `INSERT INTO outbox (id, kind, payload, attempts, next_attempt_at, created_at)
      SELECT $1, $2, $3::jsonb, 0, $4, $4 WHERE (SELECT COUNT(*) FROM outbox WHERE finished_at IS NULL AND kind = $2) < $5`,
    values: [id, input.kind, JSON.stringify(input.payload), input.now, input.maxPending]
  })
  return (rowCount ?? 0) > 0 ? id : undefined
}

export class PostgresOutboxStore implements OutboxStore {
  readonly #db: Db
  constructor (db: Db) { this.#db = db }

  async enqueue (input: OutboxEntry): Promise<string | undefined> {
    return enqueueOutbox(this.#db, input)
  }

  async claim (kind: string, now: number, limit: number, leaseSeconds: number, owner: string): Promise<OutboxMessage[]> {
    if (hasNul(kind) || hasNul(owner)) return []
    // FOR UPDATE SKIP LOCKED: instances claiming at once each lock rows the others have not; a row another
    // instance claimed and committed meanwhile is re-checked against its new lease (READ COMMITTED) and skipped.
    const { rows } = await this.#db.query({
      name: 'gh_outbox_claim',
      text: `UPDATE outbox o SET attempts = o.attempts + 1, lease_until = $4, lease_owner = $5
        FROM (SELECT id FROM outbox WHERE kind = $1 AND finished_at IS NULL AND next_attempt_at <= $2
          AND (lease_until IS NULL OR lease_until <= $2) ORDER BY next_attempt_at, created_at LIMIT $3 FOR UPDATE SKIP LOCKED) due
        WHERE o.id = due.id
        RETURNING o.id, o.kind, o.payload, o.attempts, o.created_at, o.last_error`,
      values: [kind, now, limit, now + leaseSeconds, owner]
    })
    return rows.map(toOutboxMessage)
  }

  async complete (id: string, owner: string, now: number): Promise<boolean> {
    if (hasNul(id) || hasNul(owner)) return false
    const { rowCount } = await this.#db.query({
      name: 'gh_outbox_complete',
      text: `UPDATE outbox SET finished_at = $1, outcome = 'sent', payload = '{}', lease_until = NULL, lease_owner = NULL
        WHERE id = $2 AND lease_owner = $3 AND finished_at IS NULL`,
      values: [now, id, owner]
    })
    return (rowCount ?? 0) > 0
  }

  async reschedule (id: string, owner: string, at: number, error: string): Promise<boolean> {
    if (hasNul(id) || hasNul(owner)) return false
    const { rowCount } = await this.#db.query({
      name: 'gh_outbox_reschedule',
      text: `UPDATE outbox SET next_attempt_at = $1, last_error = $2, lease_until = NULL, lease_owner = NULL
        WHERE id = $3 AND lease_owner = $4 AND finished_at IS NULL`,
      values: [at, error.replaceAll('\u0000', ''), id, owner]
    })
    return (rowCount ?? 0) > 0
  }

  async giveUp (id: string, owner: string, now: number, error: string): Promise<boolean> {
    if (hasNul(id) || hasNul(owner)) return false
    const { rowCount } = await this.#db.query({
      name: 'gh_outbox_give_up',
      text: `UPDATE outbox SET finished_at = $1, outcome = 'failed', last_error = $2, payload = '{}', lease_until = NULL, lease_owner = NULL
        WHERE id = $3 AND lease_owner = $4 AND finished_at IS NULL`,
      values: [now, error.replaceAll('\u0000', ''), id, owner]
    })
    return (rowCount ?? 0) > 0
  }

  async dropOldest (kind: string, keep: number, now: number, error: string): Promise<number> {
    if (hasNul(kind)) return 0
    // seq (an identity) breaks ties between messages created in the same second.
    const { rowCount } = await this.#db.query({
      name: 'gh_outbox_drop_oldest',
      text: `UPDATE outbox SET finished_at = $1, outcome = 'failed', last_error = $2, payload = '{}', lease_until = NULL, lease_owner = NULL
        WHERE kind = $3 AND finished_at IS NULL AND seq NOT IN
          (SELECT seq FROM outbox WHERE kind = $3 AND finished_at IS NULL ORDER BY created_at DESC, seq DESC LIMIT $4)`,
      values: [now, error.replaceAll('\u0000', ''), kind, keep]
    })
    return rowCount ?? 0
  }

  async pending (kind?: string): Promise<number> {
    const { rows } = kind === undefined
      ? await this.#db.query({ name: 'gh_outbox_pending', text: 'SELECT COUNT(*) AS n FROM outbox WHERE finished_at IS NULL' })
      : await this.#db.query({ name: 'gh_outbox_pending_kind', text: 'SELECT COUNT(*) AS n FROM outbox WHERE finished_at IS NULL AND kind = $1', values: [kind] })
    return Number(rows[0]?.n ?? 0)
  }

  async purgeFinished (before: number): Promise<number> {
    const result = await this.#db.query({ name: 'gh_outbox_purge', text: 'DELETE FROM outbox WHERE finished_at IS NOT NULL AND finished_at < $1', values: [before] })
    return result.rowCount ?? 0
  }
}

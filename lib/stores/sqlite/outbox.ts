import type Database from 'better-sqlite3'
import { randomUUID } from 'node:crypto'
import type { OutboxMessage, OutboxStore } from '../types.js'
import { toOutboxMessage } from '../rows.js'

/**
 * The enqueue statement on its own, so a caller's transaction (a sign-up writing its user and its mail at once)
 * can run it with the same values: id, kind, payload (JSON text), now, now, maxPending (of its kind).
 */
export const SQLITE_OUTBOX_ENQUEUE = `INSERT INTO outbox (id, kind, payload, attempts, next_attempt_at, created_at)
  SELECT m.id, m.kind, m.payload, 0, m.due, m.created FROM (SELECT ? AS id, ? AS kind, ? AS payload, ? AS due, ? AS created) m
  WHERE (SELECT COUNT(*) FROM outbox WHERE finished_at IS NULL AND kind = m.kind) < ?`

const RETURNED = 'id, kind, payload, attempts, created_at, last_error'

export class SqliteOutboxStore implements OutboxStore {
  readonly #db: Database.Database
  readonly #enqueue: Database.Statement
  readonly #claim: Database.Statement
  readonly #complete: Database.Statement
  readonly #reschedule: Database.Statement
  readonly #giveUp: Database.Statement
  readonly #dropOldest: Database.Statement
  readonly #pendingAll: Database.Statement
  readonly #pendingKind: Database.Statement
  readonly #purge: Database.Statement

  constructor (db: Database.Database) {
    this.#db = db
    this.#enqueue = db.prepare(SQLITE_OUTBOX_ENQUEUE)
    // One UPDATE … RETURNING: SQLite runs one writer at a time, so two instances on one file never claim a row twice.
    this.#claim = db.prepare(`UPDATE outbox SET attempts = attempts + 1, lease_until = ?, lease_owner = ?
      WHERE id IN (SELECT id FROM outbox WHERE kind = ? AND finished_at IS NULL AND next_attempt_at <= ?
        AND (lease_until IS NULL OR lease_until <= ?) ORDER BY next_attempt_at, created_at LIMIT ?)
      RETURNING ${RETURNED}`)
    this.#complete = db.prepare(`UPDATE outbox SET finished_at = ?, outcome = 'sent', payload = '{}', lease_until = NULL, lease_owner = NULL
      WHERE id = ? AND lease_owner = ? AND finished_at IS NULL`)
    this.#reschedule = db.prepare(`UPDATE outbox SET next_attempt_at = ?, last_error = ?, lease_until = NULL, lease_owner = NULL
      WHERE id = ? AND lease_owner = ? AND finished_at IS NULL`)
    this.#giveUp = db.prepare(`UPDATE outbox SET finished_at = ?, outcome = 'failed', last_error = ?, payload = '{}', lease_until = NULL, lease_owner = NULL
      WHERE id = ? AND lease_owner = ? AND finished_at IS NULL`)
    // The rowid breaks ties between messages created in the same second (it grows with each insert).
    this.#dropOldest = db.prepare(`UPDATE outbox SET finished_at = ?, outcome = 'failed', last_error = ?, payload = '{}', lease_until = NULL, lease_owner = NULL
      WHERE kind = ? AND finished_at IS NULL AND rowid NOT IN
        (SELECT rowid FROM outbox WHERE kind = ? AND finished_at IS NULL ORDER BY created_at DESC, rowid DESC LIMIT ?)`)
    this.#pendingAll = db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE finished_at IS NULL')
    this.#pendingKind = db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE finished_at IS NULL AND kind = ?')
    this.#purge = db.prepare('DELETE FROM outbox WHERE finished_at IS NOT NULL AND finished_at < ?')
  }

  async enqueue (input: { kind: string, payload: unknown, now: number, maxPending: number }): Promise<string | undefined> {
    const id = randomUUID()
    const { changes } = this.#enqueue.run(id, input.kind, JSON.stringify(input.payload), input.now, input.now, input.maxPending)
    return changes > 0 ? id : undefined
  }

  async claim (kind: string, now: number, limit: number, leaseSeconds: number, owner: string): Promise<OutboxMessage[]> {
    const rows = this.#db.transaction(() => this.#claim.all(now + leaseSeconds, owner, kind, now, now, limit)).immediate() as Array<Record<string, unknown>>
    return rows.map(toOutboxMessage)
  }

  async complete (id: string, owner: string, now: number): Promise<boolean> {
    return this.#complete.run(now, id, owner).changes > 0
  }

  async reschedule (id: string, owner: string, at: number, error: string): Promise<boolean> {
    return this.#reschedule.run(at, error, id, owner).changes > 0
  }

  async giveUp (id: string, owner: string, now: number, error: string): Promise<boolean> {
    return this.#giveUp.run(now, error, id, owner).changes > 0
  }

  async dropOldest (kind: string, keep: number, now: number, error: string): Promise<number> {
    return this.#dropOldest.run(now, error, kind, kind, keep).changes
  }

  async pending (kind?: string): Promise<number> {
    const row = (kind === undefined ? this.#pendingAll.get() : this.#pendingKind.get(kind)) as { n: number }
    return Number(row.n)
  }

  async purgeFinished (before: number): Promise<number> {
    return this.#purge.run(before).changes
  }
}

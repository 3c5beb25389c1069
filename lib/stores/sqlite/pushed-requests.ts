import type Database from 'better-sqlite3'
import { toPushedRequest, type Row } from '../rows.js'
import type { PushedRequest, PushedRequestStore } from '../types.js'

/**
 * Every change of state is one conditional UPDATE … RETURNING: SQLite serialises writers, so of two answers ending
 * one sign-in each sees the other's write, and exactly one spends the request.
 */
export class SqlitePushedRequestStore implements PushedRequestStore {
  readonly #insert: Database.Statement
  readonly #start: Database.Statement
  readonly #findStarted: Database.Statement
  readonly #consume: Database.Statement
  readonly #purge: Database.Statement

  constructor (db: Database.Database) {
    this.#insert = db.prepare(`INSERT INTO pushed_requests (hash, client_id, parameters, state, created_at, started_at, expires_at)
      VALUES (@hash, @clientId, @parameters, @state, @createdAt, @startedAt, @expiresAt)`)
    this.#start = db.prepare(`UPDATE pushed_requests SET state = 'started', started_at = @now, expires_at = @until
      WHERE hash = @hash AND client_id = @clientId AND state = 'unused' AND expires_at > @now RETURNING *`)
    this.#findStarted = db.prepare("SELECT * FROM pushed_requests WHERE hash = @hash AND client_id = @clientId AND state = 'started' AND expires_at > @now")
    this.#consume = db.prepare("UPDATE pushed_requests SET state = 'used' WHERE hash = ? AND state = 'started' AND expires_at > ?")
    this.#purge = db.prepare('DELETE FROM pushed_requests WHERE expires_at <= ?')
  }

  async create (request: PushedRequest): Promise<void> {
    this.#insert.run({ ...request, parameters: JSON.stringify(request.parameters) })
  }

  async start (hash: string, clientId: string, now: number, until: number): Promise<PushedRequest | undefined> {
    const row = (this.#start.get({ hash, clientId, now, until }) ?? this.#findStarted.get({ hash, clientId, now })) as Row | undefined
    return row && toPushedRequest(row)
  }

  async consume (hash: string, now: number): Promise<boolean> {
    return this.#consume.run(hash, now).changes === 1
  }

  async purgeExpired (now: number): Promise<number> { return this.#purge.run(now).changes }
}

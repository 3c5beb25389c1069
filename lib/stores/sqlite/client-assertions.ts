import type Database from 'better-sqlite3'
import type { ClientAssertionStore } from '../types.js'

/**
 * A use is one INSERT whose conflict clause is the whole check: a row still live stays (no change: a replay), an
 * expired one is taken over. SQLite serialises writers, so of two uses at once exactly one changes a row.
 */
export class SqliteClientAssertionStore implements ClientAssertionStore {
  readonly #use: Database.Statement
  readonly #purge: Database.Statement

  constructor (db: Database.Database) {
    this.#use = db.prepare(`INSERT INTO client_assertion_jtis (client_id, jti, expires_at) VALUES (@clientId, @jti, @expiresAt)
      ON CONFLICT (client_id, jti) DO UPDATE SET expires_at = excluded.expires_at WHERE client_assertion_jtis.expires_at <= @now`)
    this.#purge = db.prepare('DELETE FROM client_assertion_jtis WHERE expires_at <= ?')
  }

  async use (clientId: string, jti: string, expiresAt: number, now: number): Promise<boolean> {
    return this.#use.run({ clientId, jti, expiresAt, now }).changes === 1
  }

  async purgeExpired (now: number): Promise<number> {
    return this.#purge.run(now).changes
  }
}

import type { ClientAssertionStore } from '../types.js'
import type { Db } from './db.js'
import { hasNul } from './nul.js'

/**
 * A use is one INSERT … ON CONFLICT whose condition is the whole check: a live row is left alone (rowCount 0: a
 * replay), an expired one is taken over. Concurrent uses of one jti wait on the row lock, so exactly one wins.
 */
export class PostgresClientAssertionStore implements ClientAssertionStore {
  readonly #db: Db
  constructor (db: Db) { this.#db = db }

  async use (clientId: string, jti: string, expiresAt: number, now: number): Promise<boolean> {
    // PostgreSQL text cannot hold U+0000: such a jti cannot be recorded, so it is never accepted.
    if (hasNul(clientId) || hasNul(jti)) return false
    const { rowCount } = await this.#db.query({
      name: 'gh_client_assertion_use',
      text: `INSERT INTO client_assertion_jtis (client_id, jti, expires_at) VALUES ($1, $2, $3)
        ON CONFLICT (client_id, jti) DO UPDATE SET expires_at = excluded.expires_at WHERE client_assertion_jtis.expires_at <= $4`,
      values: [clientId, jti, expiresAt, now]
    })
    return rowCount === 1
  }

  async purgeExpired (now: number): Promise<number> {
    const { rowCount } = await this.#db.query({ name: 'gh_client_assertion_purge', text: 'DELETE FROM client_assertion_jtis WHERE expires_at <= $1', values: [now] })
    return rowCount ?? 0
  }
}

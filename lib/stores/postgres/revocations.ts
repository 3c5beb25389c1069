import type { RevocationStore } from '../types.js'
import type { Db } from './db.js'
import { assertNoNul, hasNul } from './nul.js'

/**
 * The database's clock in unix seconds, at the moment the statement runs (not the transaction start: the
 * row must not look older than when it becomes visible).
 */
export const DB_NOW = 'extract(epoch from clock_timestamp())::bigint'

export class PostgresRevocationStore implements RevocationStore {
  readonly #db: Db

  constructor (db: Db) {
    this.#db = db
  }

  async add (ids: string[], expiresAt: number): Promise<void> {
    assertNoNul(ids, 'revocation')
    // One statement, so all-or-nothing like SQLite's transaction. Deduplicated (ON CONFLICT may not touch
    // a row twice in one statement) and sorted (concurrent adds lock the rows in the same order).
    const unique = [...new Set(ids)].sort()
    if (unique.length === 0) return
    await this.#db.query({
      name: 'gh_revocations_add',
      text: `INSERT INTO revocations (id, created_at, expires_at) SELECT id, ${DB_NOW}, $2 FROM unnest($1::text[]) AS u (id) ORDER BY id
        ON CONFLICT (id) DO UPDATE SET expires_at = GREATEST(revocations.expires_at, excluded.expires_at)`,
      values: [unique, expiresAt]
    })
  }

  async anyRevoked (ids: string[]): Promise<boolean> {
    // An id containing NUL cannot be on the list (it could never have been added).
    const candidates = ids.filter((id) => !hasNul(id))
    if (candidates.length === 0) return false
    // The hot path (every authenticated request): one prepared statement whatever the number of ids.
    const { rows } = await this.#db.query({
      name: 'gh_revocations_any',
      text: 'SELECT EXISTS (SELECT 1 FROM revocations WHERE id = ANY($1::text[])) AS hit',
      values: [candidates]
    })
    return rows[0]?.hit === true
  }

  async listSince (since: number): Promise<Array<{ id: string, createdAt: number, expiresAt: number }>> {
    const { rows } = await this.#db.query({
      name: 'gh_revocations_since',
      text: 'SELECT id, created_at, expires_at FROM revocations WHERE created_at >= $1 ORDER BY created_at',
      values: [since]
    })
    return rows.map((r) => ({ id: String(r.id), createdAt: Number(r.created_at), expiresAt: Number(r.expires_at) }))
  }

  async purgeExpired (now: number): Promise<number> {
    const result = await this.#db.query({ name: 'gh_revocations_purge', text: 'DELETE FROM revocations WHERE expires_at < $1', values: [now] })
    return result.rowCount ?? 0
  }
}

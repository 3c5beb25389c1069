import type Database from 'better-sqlite3'
import type { RevocationStore } from '../types.js'

export class SqliteRevocationStore implements RevocationStore {
  readonly #db: Database.Database
  readonly #add: Database.Statement
  readonly #one: Database.Statement
  readonly #two: Database.Statement
  readonly #since: Database.Statement
  readonly #purge: Database.Statement

  constructor (db: Database.Database) {
    this.#db = db
    // created_at by SQLite's own clock (see RevocationStore).
    this.#add = db.prepare(`INSERT INTO revocations (id, created_at, expires_at) VALUES (?, unixepoch(), ?)
      ON CONFLICT (id) DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)`)
    this.#one = db.prepare('SELECT 1 FROM revocations WHERE id = ?')
    this.#two = db.prepare('SELECT 1 FROM revocations WHERE id IN (?, ?)')
    this.#since = db.prepare('SELECT id, created_at AS createdAt, expires_at AS expiresAt FROM revocations WHERE created_at >= ? ORDER BY created_at')
    this.#purge = db.prepare('DELETE FROM revocations WHERE expires_at < ?')
  }

  async add (ids: string[], expiresAt: number): Promise<void> {
    this.#db.transaction(() => { for (const id of ids) this.#add.run(id, expiresAt) })()
  }

  async anyRevoked (ids: string[]): Promise<boolean> {
    // The hot path asks about one or two ids (jti, grant); those have prepared statements.
    if (ids.length === 1) return this.#one.get(ids[0]) !== undefined
    if (ids.length === 2) return this.#two.get(ids[0], ids[1]) !== undefined
    if (ids.length === 0) return false
    return this.#db.prepare(`SELECT 1 FROM revocations WHERE id IN (${ids.map(() => '?').join(',')})`).get(...ids) !== undefined
  }

  async listSince (since: number): Promise<Array<{ id: string, createdAt: number, expiresAt: number }>> {
    return this.#since.all(since) as Array<{ id: string, createdAt: number, expiresAt: number }>
  }

  async purgeExpired (now: number): Promise<number> {
    return this.#purge.run(now).changes
  }
}

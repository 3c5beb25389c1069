import type Database from 'better-sqlite3'
import { toRegistrationToken, type Row } from '../rows.js'
import type { RegistrationToken, RegistrationTokenStore } from '../types.js'

/** A use is one UPDATE whose WHERE is the whole check (unexpired, uses left): SQLite serialises writers. */
export class SqliteRegistrationTokenStore implements RegistrationTokenStore {
  readonly #insert: Database.Statement
  readonly #list: Database.Statement
  readonly #delete: Database.Statement
  readonly #findUsable: Database.Statement
  readonly #use: Database.Statement

  constructor (db: Database.Database) {
    this.#insert = db.prepare('INSERT INTO registration_tokens (id, digest, expires_at, max_uses, uses, created_at) VALUES (?, ?, ?, ?, 0, ?) RETURNING *')
    this.#list = db.prepare('SELECT * FROM registration_tokens ORDER BY created_at, id')
    this.#delete = db.prepare('DELETE FROM registration_tokens WHERE id = ? RETURNING *')
    const usable = '(expires_at IS NULL OR expires_at > ?) AND (max_uses IS NULL OR uses < max_uses)'
    this.#findUsable = db.prepare(`SELECT * FROM registration_tokens WHERE digest = ? AND ${usable}`)
    this.#use = db.prepare(`UPDATE registration_tokens SET uses = uses + 1 WHERE digest = ? AND ${usable}`)
  }

  async create (t: Omit<RegistrationToken, 'uses' | 'createdAt'>, now: number): Promise<RegistrationToken> {
    return toRegistrationToken(this.#insert.get(t.id, t.digest, t.expiresAt, t.maxUses, now) as Row)
  }

  async list (): Promise<RegistrationToken[]> {
    return (this.#list.all() as Row[]).map(toRegistrationToken)
  }

  async delete (id: string): Promise<RegistrationToken | undefined> {
    const row = this.#delete.get(id) as Row | undefined
    return row && toRegistrationToken(row)
  }

  async findUsable (digest: string, now: number): Promise<RegistrationToken | undefined> {
    const row = this.#findUsable.get(digest, now) as Row | undefined
    return row && toRegistrationToken(row)
  }

  async use (digest: string, now: number): Promise<boolean> {
    return this.#use.run(digest, now).changes === 1
  }
}

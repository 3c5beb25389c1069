import type Database from 'better-sqlite3'
import type { KeyStore, SigningKey } from '../types.js'
import { toSigningKey } from '../rows.js'

export class SqliteKeyStore implements KeyStore {
  readonly #db: Database.Database
  readonly #list: Database.Statement
  readonly #insert: Database.Statement
  readonly #any: Database.Statement
  readonly #delete: Database.Statement

  constructor (db: Database.Database) {
    this.#db = db
    this.#list = db.prepare('SELECT * FROM signing_keys ORDER BY activates_at, created_at')
    this.#insert = db.prepare(`INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at, activates_at)
      VALUES (@kid, @alg, @privateKey, @publicJwk, @createdAt, @activatesAt)`)
    this.#any = db.prepare('SELECT 1 FROM signing_keys LIMIT 1')
    this.#delete = db.prepare('DELETE FROM signing_keys WHERE kid = ?')
  }

  async list (): Promise<SigningKey[]> {
    return (this.#list.all() as Array<Record<string, unknown>>).map(toSigningKey)
  }

  async insert (key: SigningKey): Promise<void> {
    this.#insert.run(key)
  }

  async insertIfEmpty (key: SigningKey): Promise<boolean> {
    return this.#db.transaction(() => {
      if (this.#any.get() !== undefined) return false
      this.#insert.run(key)
      return true
    }).immediate()
  }

  async delete (kid: string): Promise<void> {
    this.#delete.run(kid)
  }
}

import type Database from 'better-sqlite3'
import type { KeyStore, NewSigningKey, SigningKey } from '../types.js'
import { toSigningKey } from '../rows.js'

export class SqliteKeyStore implements KeyStore {
  readonly #db: Database.Database
  readonly #list: Database.Statement
  readonly #insert: Database.Statement
  readonly #byKid: Database.Statement
  readonly #anyOfAlg: Database.Statement
  readonly #delete: Database.Statement
  readonly #deletePrivate: Database.Statement
  readonly #heartbeat: Database.Statement
  readonly #purgeInstances: Database.Statement
  readonly #agreedDelay: Database.Statement
  readonly #leave: Database.Statement

  constructor (db: Database.Database) {
    this.#db = db
    this.#list = db.prepare('SELECT * FROM signing_keys ORDER BY seq')
    // One statement: SQLite has one writer at a time, so MAX(seq) + 1 cannot be taken twice.
    this.#insert = db.prepare(`INSERT INTO signing_keys (kid, seq, alg, private_key, public_jwk, created_at, activates_at)
      VALUES (@kid, (SELECT COALESCE(MAX(seq), 0) + 1 FROM signing_keys), @alg, @privateKey, @publicJwk, @createdAt, @activatesAt)`)
    this.#byKid = db.prepare('SELECT * FROM signing_keys WHERE kid = ?')
    this.#anyOfAlg = db.prepare('SELECT 1 FROM signing_keys WHERE alg = ? LIMIT 1')
    this.#delete = db.prepare('DELETE FROM signing_keys WHERE kid = ?')
    this.#deletePrivate = db.prepare('UPDATE signing_keys SET private_key = NULL WHERE kid = ? AND private_key IS NOT NULL')
    this.#heartbeat = db.prepare(`INSERT INTO key_instances (instance, publish_delay, seen_at) VALUES (?, ?, ?)
      ON CONFLICT (instance) DO UPDATE SET publish_delay = excluded.publish_delay, seen_at = excluded.seen_at`)
    this.#purgeInstances = db.prepare('DELETE FROM key_instances WHERE seen_at < ?')
    this.#agreedDelay = db.prepare('SELECT MAX(publish_delay) AS delay FROM key_instances WHERE seen_at >= ?')
    this.#leave = db.prepare('DELETE FROM key_instances WHERE instance = ?')
  }

  async list (): Promise<SigningKey[]> {
    return (this.#list.all() as Array<Record<string, unknown>>).map(toSigningKey)
  }

  async insert (key: NewSigningKey): Promise<SigningKey> {
    return this.#db.transaction(() => {
      this.#insert.run(key)
      return toSigningKey(this.#byKid.get(key.kid) as Record<string, unknown>)
    }).immediate()
  }

  async insertFirstOfAlg (key: NewSigningKey): Promise<boolean> {
    // IMMEDIATE: the write lock is taken before the read, so a second starter reads after the first's insert.
    return this.#db.transaction(() => {
      if (this.#anyOfAlg.get(key.alg) !== undefined) return false
      this.#insert.run(key)
      return true
    }).immediate()
  }

  async delete (kids: string[]): Promise<void> {
    this.#db.transaction(() => { for (const kid of kids) this.#delete.run(kid) })()
  }

  async deletePrivateKeys (kids: string[]): Promise<void> {
    this.#db.transaction(() => { for (const kid of kids) this.#deletePrivate.run(kid) })()
  }

  async heartbeat (instance: string, publishDelay: number, now: number, staleBefore: number): Promise<void> {
    this.#db.transaction(() => {
      this.#heartbeat.run(instance, publishDelay, now)
      this.#purgeInstances.run(staleBefore)
    })()
  }

  async agreedPublishDelay (since: number): Promise<number | undefined> {
    const { delay } = this.#agreedDelay.get(since) as { delay: number | null }
    return delay ?? undefined
  }

  async leave (instance: string): Promise<void> {
    this.#leave.run(instance)
  }
}

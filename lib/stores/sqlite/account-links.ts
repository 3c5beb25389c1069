import type Database from 'better-sqlite3'
import { toAccountLink } from '../rows.js'
import type { AccountLink, AccountLinkPurpose, AccountLinkStore } from '../types.js'

export class SqliteAccountLinkStore implements AccountLinkStore {
  readonly #db: Database.Database
  readonly #insert: Database.Statement
  readonly #voidOlder: Database.Statement
  readonly #find: Database.Statement
  readonly #consume: Database.Statement
  readonly #listPending: Database.Statement
  readonly #pendingForUser: Database.Statement
  readonly #countPending: Database.Statement
  readonly #revoke: Database.Statement
  readonly #purge: Database.Statement

  constructor (db: Database.Database) {
    this.#db = db
    this.#insert = db.prepare(`INSERT INTO account_links (id, token_hash, purpose, user_id, email, scope, data, created_at, expires_at)
      VALUES (@id, @tokenHash, @purpose, @userId, @email, @scope, @data, @createdAt, @expiresAt)`)
    this.#voidOlder = db.prepare('DELETE FROM account_links WHERE purpose = ? AND user_id = ? AND used_at IS NULL')
    this.#find = db.prepare('SELECT * FROM account_links WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?')
    // One UPDATE … RETURNING: SQLite runs one writer at a time, so of two consumers exactly one sees the row unused.
    this.#consume = db.prepare(`UPDATE account_links SET used_at = ?
      WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ? RETURNING *`)
    this.#listPending = db.prepare(`SELECT * FROM account_links WHERE purpose = ? AND used_at IS NULL AND expires_at > ?
      ORDER BY created_at DESC, id LIMIT ?`)
    this.#pendingForUser = db.prepare(`SELECT * FROM account_links WHERE user_id = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?
      ORDER BY created_at DESC, rowid DESC LIMIT 1`)
    this.#countPending = db.prepare('SELECT COUNT(*) AS n FROM account_links WHERE purpose = ? AND used_at IS NULL AND expires_at > ?')
    this.#revoke = db.prepare('DELETE FROM account_links WHERE id = ? AND purpose = ? AND used_at IS NULL')
    this.#purge = db.prepare('DELETE FROM account_links WHERE expires_at <= ?')
  }

  async create (link: Omit<AccountLink, 'usedAt'>, options: { voidOlder?: boolean } = {}): Promise<void> {
    this.#db.transaction(() => {
      if (options.voidOlder === true && link.userId !== null) this.#voidOlder.run(link.purpose, link.userId)
      this.#insert.run({ ...link, data: link.data === null ? null : JSON.stringify(link.data) })
    }).immediate()
  }

  async find (tokenHash: string, purpose: AccountLinkPurpose, now: number): Promise<AccountLink | undefined> {
    const row = this.#find.get(tokenHash, purpose, now) as Record<string, unknown> | undefined
    return row === undefined ? undefined : toAccountLink(row)
  }

  async consume (tokenHash: string, purpose: AccountLinkPurpose, now: number): Promise<AccountLink | undefined> {
    const row = this.#consume.get(now, tokenHash, purpose, now) as Record<string, unknown> | undefined
    return row === undefined ? undefined : toAccountLink(row)
  }

  async listPending (purpose: AccountLinkPurpose, now: number, limit: number): Promise<AccountLink[]> {
    return (this.#listPending.all(purpose, now, limit) as Array<Record<string, unknown>>).map(toAccountLink)
  }

  async pendingForUser (userId: string, purpose: AccountLinkPurpose, now: number): Promise<AccountLink | undefined> {
    const row = this.#pendingForUser.get(userId, purpose, now) as Record<string, unknown> | undefined
    return row === undefined ? undefined : toAccountLink(row)
  }

  async countPending (purpose: AccountLinkPurpose, now: number): Promise<number> {
    return Number((this.#countPending.get(purpose, now) as { n: number }).n)
  }

  async revoke (id: string, purpose: AccountLinkPurpose): Promise<boolean> {
    return this.#revoke.run(id, purpose).changes > 0
  }

  async purgeExpired (now: number): Promise<number> {
    return this.#purge.run(now).changes
  }
}

import type Database from 'better-sqlite3'
import { randomUUID } from 'node:crypto'
import { ConflictError, type ImportedUser, type ImportOutcome, type NewUser, type Page, type User, type UserPatch, type UserStore } from '../types.js'
import type { Clock } from '../../clock.js'
import { CREDENTIAL_VERSION_COLUMN, emailVerifiedColumn, endsSessions, importChanges, timeOrderedId, toUser, userClaimsColumn, userPatchColumns } from '../rows.js'
import { updateRow } from './update.js'
import { isUniqueViolation } from './errors.js'

export class SqliteUserStore implements UserStore {
  readonly #db: Database.Database
  readonly #clock: Clock
  readonly #insert: Database.Statement
  readonly #byId: Database.Statement
  readonly #byUsername: Database.Statement
  readonly #list: Database.Statement
  readonly #delete: Database.Statement
  readonly #count: Database.Statement
  readonly #scopes: Database.Statement
  readonly #insertIfNew: Database.Statement
  readonly #after: Database.Statement
  readonly #first: Database.Statement
  readonly #replaceHash: Database.Statement
  readonly #tombstone: Database.Statement

  constructor (db: Database.Database, clock: Clock) {
    this.#db = db
    this.#clock = clock
    this.#insert = db.prepare(`INSERT INTO users (id, username, full_name, email, email_verified, disabled, scope, password_hash, created_by, claims, created_at, updated_at)
      VALUES (@id, @username, @full_name, @email, @email_verified, @disabled, @scope, @password_hash, @created_by, @claims, @created_at, @updated_at) RETURNING *`)
    this.#byId = db.prepare('SELECT * FROM users WHERE id = ?')
    this.#byUsername = db.prepare('SELECT * FROM users WHERE username = ?')
    this.#list = db.prepare('SELECT * FROM users ORDER BY username LIMIT ? OFFSET ?')
    this.#delete = db.prepare('DELETE FROM users WHERE username = ? RETURNING *')
    this.#tombstone = db.prepare(`INSERT INTO user_tombstones (id, credential_version, deleted_at) VALUES (?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET credential_version = MAX(credential_version, excluded.credential_version), deleted_at = excluded.deleted_at`)
    this.#count = db.prepare('SELECT COUNT(*) AS n FROM users')
    this.#scopes = db.prepare("SELECT DISTINCT scope FROM users WHERE scope <> ''")
    // ON CONFLICT DO NOTHING, not INSERT OR IGNORE: only a taken username or id is passed over, never a NOT NULL violation.
    // A user under the sub of a deleted one starts above its tombstone's credential version (types.ts `delete`).
    this.#insertIfNew = db.prepare(`INSERT INTO users (id, username, full_name, email, email_verified, disabled, scope, password_hash, claims, created_at, updated_at, credential_version)
      VALUES (@id, @username, @full_name, @email, @email_verified, @disabled, @scope, @password_hash, @claims, @created_at, @updated_at,
        COALESCE((SELECT credential_version + 1 FROM user_tombstones WHERE id = @id), 0)) ON CONFLICT DO NOTHING`)
    this.#after = db.prepare('SELECT * FROM users WHERE username > ? ORDER BY username LIMIT ?')
    this.#first = db.prepare('SELECT * FROM users ORDER BY username LIMIT ?')
    this.#replaceHash = db.prepare('UPDATE users SET password_hash = ?, updated_at = ? WHERE username = ? AND password_hash = ?')
  }

  async create (user: NewUser): Promise<User> {
    const now = this.#clock.now()
    try {
      return toUser(this.#insert.get({
        id: randomUUID(),
        username: user.username,
        full_name: user.fullName ?? null,
        email: user.email ?? null,
        email_verified: emailVerifiedColumn(user) ? 1 : 0,
        disabled: user.disabled ? 1 : 0,
        scope: user.scope ?? '',
        password_hash: user.passwordHash,
        created_by: user.createdBy ?? null,
        claims: userClaimsColumn(user.claims),
        created_at: now,
        updated_at: now
      }) as Record<string, unknown>)
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`user ${user.username} already exists`)
      throw err
    }
  }

  async findById (id: string): Promise<User | undefined> {
    const row = this.#byId.get(id) as Record<string, unknown> | undefined
    return row && toUser(row)
  }

  async findByEmail (email: string, limit: number): Promise<User[]> {
    return (this.#db.prepare('SELECT * FROM users WHERE lower(email) = lower(?) ORDER BY username LIMIT ?').all(email, limit) as Array<Record<string, unknown>>).map(toUser)
  }

  async findByUsername (username: string): Promise<User | undefined> {
    const row = this.#byUsername.get(username) as Record<string, unknown> | undefined
    return row && toUser(row)
  }

  async list (page: Page): Promise<User[]> {
    return (this.#list.all(page.limit, page.offset) as Array<Record<string, unknown>>).map(toUser)
  }

  async update (username: string, patch: UserPatch): Promise<User | undefined> {
    const row = updateRow(this.#db, 'users', ['username', username], userPatchColumns(patch), this.#clock.now(),
      endsSessions(patch) ? CREDENTIAL_VERSION_COLUMN : undefined)
    return row && toUser(row)
  }

  async replacePasswordHash (username: string, expected: string, next: string): Promise<boolean> {
    return this.#replaceHash.run(next, this.#clock.now(), username, expected).changes === 1
  }

  async delete (username: string): Promise<User | undefined> {
    // One transaction: the row goes and its tombstone (sub, last credential version) stays, or neither.
    return this.#db.transaction(() => {
      const row = this.#delete.get(username) as Record<string, unknown> | undefined
      if (!row) return undefined
      const user = toUser(row)
      this.#tombstone.run(user.id, user.credentialVersion, this.#clock.now())
      return user
    }).immediate()
  }

  async count (): Promise<number> {
    return (this.#count.get() as { n: number }).n
  }

  async importBatch (users: ImportedUser[], { update }: { update: boolean }): Promise<ImportOutcome[]> {
    const now = this.#clock.now()
    const nowMs = this.#clock.nowMs()
    const batch = this.#db.transaction((): ImportOutcome[] => users.map((user): ImportOutcome => {
      const id = user.id ?? timeOrderedId(nowMs)
      const inserted = this.#insertIfNew.run({
        id,
        username: user.username,
        full_name: user.fullName ?? null,
        email: user.email ?? null,
        email_verified: emailVerifiedColumn(user) ? 1 : 0,
        disabled: user.disabled ? 1 : 0,
        scope: user.scope ?? '',
        password_hash: user.passwordHash,
        claims: userClaimsColumn(user.claims),
        created_at: now,
        updated_at: now
      })
      if (inserted.changes === 1) return { outcome: 'created', id }
      const row = this.#byUsername.get(user.username) as Record<string, unknown> | undefined
      // Not inserted, yet no such username: the id is another user's.
      if (!row) return { outcome: 'id-conflict' }
      const stored = toUser(row)
      if (stored.createdBy !== null) return { outcome: 'created-by-provider', createdBy: stored.createdBy }
      if (user.id !== undefined && user.id !== stored.id) return { outcome: 'id-conflict' }
      const changes = update ? importChanges(stored, user) : undefined
      if (!changes) return { outcome: 'skipped' }
      updateRow(this.#db, 'users', ['username', user.username], userPatchColumns(changes.patch), now,
        changes.revoke ? CREDENTIAL_VERSION_COLUMN : undefined)
      return { outcome: 'updated', id: stored.id, revoke: changes.revoke }
    }))
    // IMMEDIATE: take the write lock first, so a server writing at the same time waits (busy_timeout) instead of failing.
    return batch.immediate()
  }

  async listAfter (after: string | null, limit: number): Promise<User[]> {
    const rows = (after === null ? this.#first.all(limit) : this.#after.all(after, limit)) as Array<Record<string, unknown>>
    return rows.map(toUser)
  }

  async scopeLists (): Promise<string[]> {
    return (this.#scopes.all() as Array<{ scope: string }>).map((r) => r.scope)
  }
}

import type Database from 'better-sqlite3'
import { randomUUID } from 'node:crypto'
import { ConflictError, type NewUser, type Page, type User, type UserPatch, type UserStore } from '../types.js'
import type { Clock } from '../../clock.js'
import { toUser, userPatchColumns } from '../rows.js'
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

  constructor (db: Database.Database, clock: Clock) {
    this.#db = db
    this.#clock = clock
    this.#insert = db.prepare(`INSERT INTO users (id, username, full_name, email, disabled, scope, password_hash, created_at, updated_at)
      VALUES (@id, @username, @full_name, @email, @disabled, @scope, @password_hash, @created_at, @updated_at) RETURNING *`)
    this.#byId = db.prepare('SELECT * FROM users WHERE id = ?')
    this.#byUsername = db.prepare('SELECT * FROM users WHERE username = ?')
    this.#list = db.prepare('SELECT * FROM users ORDER BY username LIMIT ? OFFSET ?')
    this.#delete = db.prepare('DELETE FROM users WHERE username = ? RETURNING *')
    this.#count = db.prepare('SELECT COUNT(*) AS n FROM users')
    this.#scopes = db.prepare("SELECT DISTINCT scope FROM users WHERE scope <> ''")
  }

  async create (user: NewUser): Promise<User> {
    const now = this.#clock.now()
    try {
      return toUser(this.#insert.get({
        id: randomUUID(),
        username: user.username,
        full_name: user.fullName ?? null,
        email: user.email ?? null,
        disabled: user.disabled ? 1 : 0,
        scope: user.scope ?? '',
        password_hash: user.passwordHash,
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

  async findByUsername (username: string): Promise<User | undefined> {
    const row = this.#byUsername.get(username) as Record<string, unknown> | undefined
    return row && toUser(row)
  }

  async list (page: Page): Promise<User[]> {
    return (this.#list.all(page.limit, page.offset) as Array<Record<string, unknown>>).map(toUser)
  }

  async update (username: string, patch: UserPatch): Promise<User | undefined> {
    const row = updateRow(this.#db, 'users', ['username', username], userPatchColumns(patch), this.#clock.now())
    return row && toUser(row)
  }

  async delete (username: string): Promise<User | undefined> {
    const row = this.#delete.get(username) as Record<string, unknown> | undefined
    return row && toUser(row)
  }

  async count (): Promise<number> {
    return (this.#count.get() as { n: number }).n
  }

  async scopeLists (): Promise<string[]> {
    return (this.#scopes.all() as Array<{ scope: string }>).map((r) => r.scope)
  }
}

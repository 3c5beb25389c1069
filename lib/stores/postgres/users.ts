import { randomUUID } from 'node:crypto'
import { ConflictError, type NewUser, type Page, type User, type UserPatch, type UserStore } from '../types.js'
import type { Clock } from '../../clock.js'
import { toUser, userPatchColumns } from '../rows.js'
import { updateRow } from './update.js'
import { onlyRow, pageValues, type Db } from './db.js'
import { isUniqueViolation } from './errors.js'
import { assertNoNul, hasNul } from './nul.js'

export class PostgresUserStore implements UserStore {
  readonly #db: Db
  readonly #clock: Clock

  constructor (db: Db, clock: Clock) {
    this.#db = db
    this.#clock = clock
  }

  async create (user: NewUser): Promise<User> {
    assertNoNul(user, 'user')
    const now = this.#clock.now()
    try {
      const { rows } = await this.#db.query({
        name: 'gh_users_insert',
        text: `INSERT INTO users (id, username, full_name, email, disabled, scope, password_hash, created_at, updated_at)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
        values: [randomUUID(), user.username, user.fullName ?? null, user.email ?? null, user.disabled ?? false,
          user.scope ?? '', user.passwordHash, now, now]
      })
      return toUser(onlyRow(rows))
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`user ${user.username} already exists`)
      throw err
    }
  }

  async findById (id: string): Promise<User | undefined> {
    if (hasNul(id)) return undefined
    const { rows } = await this.#db.query({ name: 'gh_users_by_id', text: 'SELECT * FROM users WHERE id = $1', values: [id] })
    return rows[0] && toUser(rows[0])
  }

  async findByUsername (username: string): Promise<User | undefined> {
    if (hasNul(username)) return undefined
    const { rows } = await this.#db.query({ name: 'gh_users_by_username', text: 'SELECT * FROM users WHERE username = $1', values: [username] })
    return rows[0] && toUser(rows[0])
  }

  async list (page: Page): Promise<User[]> {
    const { rows } = await this.#db.query({
      name: 'gh_users_list',
      text: 'SELECT * FROM users ORDER BY username LIMIT $1 OFFSET $2',
      values: pageValues(page)
    })
    return rows.map(toUser)
  }

  async update (username: string, patch: UserPatch): Promise<User | undefined> {
    if (hasNul(username)) return undefined
    assertNoNul(patch, 'user patch')
    const row = await updateRow(this.#db, 'users', ['username', username], userPatchColumns(patch), this.#clock.now())
    return row && toUser(row)
  }

  async delete (username: string): Promise<User | undefined> {
    if (hasNul(username)) return undefined
    const { rows } = await this.#db.query({ name: 'gh_users_delete', text: 'DELETE FROM users WHERE username = $1 RETURNING *', values: [username] })
    return rows[0] && toUser(rows[0])
  }

  async count (): Promise<number> {
    const { rows } = await this.#db.query({ name: 'gh_users_count', text: 'SELECT COUNT(*) AS n FROM users' })
    return Number(rows[0]?.n ?? 0)
  }

  async scopeLists (): Promise<string[]> {
    const { rows } = await this.#db.query({ name: 'gh_users_scopes', text: "SELECT DISTINCT scope FROM users WHERE scope <> ''" })
    return rows.map((r) => String(r.scope))
  }
}

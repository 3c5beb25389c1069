import { randomUUID } from 'node:crypto'
import { ConflictError, type ImportedUser, type ImportOutcome, type NewUser, type Page, type User, type UserPatch, type UserStore } from '../types.js'
import type { Clock } from '../../clock.js'
import { CREDENTIAL_VERSION_COLUMN, emailVerifiedColumn, endsSessions, importChanges, timeOrderedId, toUser, userClaimsColumn, userPatchColumns } from '../rows.js'
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
        text: `INSERT INTO users (id, username, full_name, email, disabled, scope, password_hash, created_by, created_at, updated_at, claims, email_verified)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *`,
        values: [randomUUID(), user.username, user.fullName ?? null, user.email ?? null, user.disabled ?? false,
          user.scope ?? '', user.passwordHash, user.createdBy ?? null, now, now, userClaimsColumn(user.claims), emailVerifiedColumn(user)]
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

  async findByEmail (email: string, limit: number): Promise<User[]> {
    if (hasNul(email)) return []
    const { rows } = await this.#db.query({ name: 'gh_users_by_email', text: 'SELECT * FROM users WHERE lower(email) = lower($1) ORDER BY username LIMIT $2', values: [email, limit] })
    return rows.map(toUser)
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
    const row = await updateRow(this.#db, 'users', ['username', username], userPatchColumns(patch), this.#clock.now(),
      endsSessions(patch) ? CREDENTIAL_VERSION_COLUMN : undefined)
    return row && toUser(row)
  }

  async replacePasswordHash (username: string, expected: string, next: string): Promise<boolean> {
    if (hasNul(username) || hasNul(expected)) return false
    assertNoNul(next, 'password hash')
    const { rowCount } = await this.#db.query({
      name: 'gh_users_replace_hash',
      text: 'UPDATE users SET password_hash = $1, updated_at = $2 WHERE username = $3 AND password_hash = $4',
      values: [next, this.#clock.now(), username, expected]
    })
    return rowCount === 1
  }

  async delete (username: string): Promise<User | undefined> {
    if (hasNul(username)) return undefined
    // One statement: the row goes and its tombstone (sub, last credential version) stays, or neither.
    const { rows } = await this.#db.query({
      name: 'gh_users_delete_tombstone',
      text: `WITH d AS (DELETE FROM users WHERE username = $1 RETURNING *),
          t AS (INSERT INTO user_tombstones (id, credential_version, deleted_at) SELECT id, credential_version, $2 FROM d
            ON CONFLICT (id) DO UPDATE SET credential_version = GREATEST(user_tombstones.credential_version, excluded.credential_version),
              deleted_at = excluded.deleted_at)
        SELECT * FROM d`,
      values: [username, this.#clock.now()]
    })
    return rows[0] && toUser(rows[0])
  }

  async count (): Promise<number> {
    const { rows } = await this.#db.query({ name: 'gh_users_count', text: 'SELECT COUNT(*) AS n FROM users' })
    return Number(rows[0]?.n ?? 0)
  }

  /**
   * One multi-row INSERT … ON CONFLICT DO NOTHING from arrays (unnest: nine parameters whatever the batch
   * size, no 65,535-parameter ceiling), then one SELECT for the usernames that were not inserted, and an
   * UPDATE per changed user when asked; all in one transaction.
   */
  async importBatch (users: ImportedUser[], { update }: { update: boolean }): Promise<ImportOutcome[]> {
    assertNoNul(users, 'imported user')
    if (users.length === 0) return []
    const now = this.#clock.now()
    const nowMs = this.#clock.nowMs()
    const ids = users.map((u) => u.id ?? timeOrderedId(nowMs))
    return this.#db.transaction(async (tx) => {
      const { rows: inserted } = await tx.query({
        name: 'gh_users_import_tombstones',
        // A user under the sub of a deleted one starts above its tombstone's credential version (types.ts `delete`).
        text: `INSERT INTO users (id, username, full_name, email, disabled, scope, password_hash, created_at, updated_at, credential_version, claims, email_verified)
          SELECT v.id, username, full_name, email, disabled, scope, password_hash, $8::bigint, $8::bigint, COALESCE(t.credential_version + 1, 0), claims, email_verified
          FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::text[], $7::text[], $9::text[], $10::boolean[])
            AS v (id, username, full_name, email, disabled, scope, password_hash, claims, email_verified)
            LEFT JOIN user_tombstones t ON t.id = v.id
          ON CONFLICT DO NOTHING RETURNING username`,
        values: [ids, users.map((u) => u.username), users.map((u) => u.fullName ?? null), users.map((u) => u.email ?? null),
          users.map((u) => u.disabled ?? false), users.map((u) => u.scope ?? ''), users.map((u) => u.passwordHash), now,
          users.map((u) => userClaimsColumn(u.claims)), users.map((u) => emailVerifiedColumn(u))]
      })
      const created = new Set(inserted.map((r) => String(r.username)))
      const rest = users.filter((u) => !created.has(u.username))
      const stored = new Map<string, User>()
      if (rest.length > 0) {
        const { rows } = await tx.query({
          name: update ? 'gh_users_import_lock' : 'gh_users_import_find',
          text: `SELECT * FROM users WHERE username = ANY($1::text[])${update ? ' FOR UPDATE' : ''}`,
          values: [rest.map((u) => u.username)]
        })
        for (const row of rows) stored.set(String(row.username), toUser(row))
      }
      const outcomes: ImportOutcome[] = []
      for (const [i, user] of users.entries()) {
        if (created.has(user.username)) { outcomes.push({ outcome: 'created', id: ids[i]! }); continue }
        const existing = stored.get(user.username)
        // Not inserted, yet no such username: the id is another user's.
        if (existing?.createdBy !== null && existing?.createdBy !== undefined) { outcomes.push({ outcome: 'created-by-provider', createdBy: existing.createdBy }); continue }
        if (!existing || (user.id !== undefined && user.id !== existing.id)) { outcomes.push({ outcome: 'id-conflict' }); continue }
        const changes = update ? importChanges(existing, user) : undefined
        if (!changes) { outcomes.push({ outcome: 'skipped' }); continue }
        await updateRow(tx, 'users', ['username', user.username], userPatchColumns(changes.patch), now,
          changes.revoke ? CREDENTIAL_VERSION_COLUMN : undefined)
        outcomes.push({ outcome: 'updated', id: existing.id, revoke: changes.revoke })
      }
      return outcomes
    })
  }

  async listAfter (after: string | null, limit: number): Promise<User[]> {
    if (after !== null && hasNul(after)) return []
    const { rows } = await this.#db.query({
      name: 'gh_users_after',
      text: 'SELECT * FROM users WHERE $1::text IS NULL OR username > $1 ORDER BY username LIMIT $2',
      values: [after, limit]
    })
    return rows.map(toUser)
  }

  async scopeLists (): Promise<string[]> {
    const { rows } = await this.#db.query({ name: 'gh_users_scopes', text: "SELECT DISTINCT scope FROM users WHERE scope <> ''" })
    return rows.map((r) => String(r.scope))
  }
}

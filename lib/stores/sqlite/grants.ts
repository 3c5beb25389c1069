import type Database from 'better-sqlite3'
import type { Grant, GrantStore, RefreshToken, RevokeOptions, RotateResult } from '../types.js'
import { denyEntry } from '../deny-list.js'
import { requestedClaimsColumn, resourcesColumn, SELECT_TOKEN_WITH_GRANT, toGrant, toRefreshToken, toTokenWithGrant } from '../rows.js'

type Row = Record<string, unknown>

/**
 * Refresh-token families. Every multi-step change runs in one IMMEDIATE transaction: SQLite then
 * serialises writers (across processes too), which is what makes `rotate` single-winner.
 */
export class SqliteGrantStore implements GrantStore {
  readonly #db: Database.Database
  readonly #insertGrant: Database.Statement
  readonly #insertToken: Database.Statement
  readonly #findGrant: Database.Statement
  readonly #findToken: Database.Statement
  readonly #findTokenWithGrant: Database.Statement
  readonly #consume: Database.Statement
  readonly #revokeGrant: Database.Statement
  readonly #deny: Database.Statement
  readonly #live: Database.Statement
  readonly #liveForUserAndClient: Database.Statement
  readonly #purge: Database.Statement

  constructor (db: Database.Database) {
    this.#db = db
    // Only while the user still holds the credential version the sign-in read (users.credential_version).
    this.#insertGrant = db.prepare(`INSERT INTO grants (id, client_id, user_id, scope, credential_version, created_at, expires_at, claims, resources, dpop_jkt)
      SELECT ?, ?, u.id, ?, u.credential_version, ?, ?, ?, ?, ? FROM users u WHERE u.id = ? AND u.credential_version = ? AND u.disabled = 0`)
    this.#insertToken = db.prepare('INSERT INTO refresh_tokens (hash, grant_id, scope, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)')
    this.#findGrant = db.prepare('SELECT * FROM grants WHERE id = ?')
    this.#findToken = db.prepare('SELECT * FROM refresh_tokens WHERE hash = ?')
    this.#findTokenWithGrant = db.prepare(`${SELECT_TOKEN_WITH_GRANT}?`)
    this.#consume = db.prepare('UPDATE refresh_tokens SET consumed_at = ? WHERE hash = ? AND consumed_at IS NULL')
    this.#revokeGrant = db.prepare('UPDATE grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING *')
    // created_at by SQLite's own clock (see RevocationStore).
    this.#deny = db.prepare(`INSERT INTO revocations (id, created_at, expires_at) VALUES (?, unixepoch(), ?)
      ON CONFLICT (id) DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)`)
    this.#live = db.prepare('SELECT id FROM grants WHERE revoked_at IS NULL AND (user_id = ? OR client_id = ?)')
    this.#liveForUserAndClient = db.prepare('SELECT id FROM grants WHERE revoked_at IS NULL AND user_id = ? AND client_id = ?')
    this.#purge = db.prepare('DELETE FROM grants WHERE expires_at < ?')
  }

  async create (grant: Omit<Grant, 'revokedAt'>, first: RefreshToken): Promise<boolean> {
    return this.#db.transaction(() => {
      const inserted = this.#insertGrant.run(grant.id, grant.clientId, grant.scope, grant.createdAt, grant.expiresAt, requestedClaimsColumn(grant.claims), resourcesColumn(grant.resources), grant.dpopJkt ?? null, grant.userId, grant.credentialVersion)
      if (inserted.changes !== 1) return false
      this.#insertToken.run(first.hash, first.grantId, first.scope, first.issuedAt, first.expiresAt)
      return true
    }).immediate()
  }

  async findGrant (id: string): Promise<Grant | undefined> {
    const row = this.#findGrant.get(id) as Row | undefined
    return row && toGrant(row)
  }

  async findToken (hash: string): Promise<{ token: RefreshToken, grant: Grant } | undefined> {
    const row = this.#findTokenWithGrant.get(hash) as Row | undefined
    return row && toTokenWithGrant(row)
  }

  async rotate (hash: string, next: RefreshToken, revoke: RevokeOptions): Promise<RotateResult> {
    return this.#db.transaction((): RotateResult => {
      const tokenRow = this.#findToken.get(hash) as Row | undefined
      if (!tokenRow) return { outcome: 'unknown' }
      const previous = toRefreshToken(tokenRow)
      const grant = toGrant(this.#findGrant.get(previous.grantId) as Row)
      if (grant.revokedAt !== null || previous.consumedAt !== null) {
        this.#revoke(grant.id, revoke)
        return { outcome: 'reused', grant }
      }
      if (previous.expiresAt <= revoke.now || grant.expiresAt <= revoke.now) return { outcome: 'expired' }
      this.#consume.run(revoke.now, hash)
      this.#insertToken.run(next.hash, grant.id, next.scope, next.issuedAt, next.expiresAt)
      return { outcome: 'rotated', grant, previous }
    }).immediate()
  }

  async revoke (grantId: string, revoke: RevokeOptions): Promise<Grant | undefined> {
    return this.#db.transaction(() => this.#revoke(grantId, revoke)).immediate()
  }

  async revokeForUser (userId: string, revoke: RevokeOptions, clientId?: string): Promise<string[]> {
    if (clientId !== undefined) return this.#revokeIds(this.#liveForUserAndClient, [userId, clientId], revoke)
    return this.#revokeWhere(userId, null, revoke)
  }

  async revokeForClient (clientId: string, revoke: RevokeOptions): Promise<string[]> {
    return this.#revokeWhere(null, clientId, revoke)
  }

  async purgeExpired (now: number): Promise<number> {
    return this.#purge.run(now).changes
  }

  #revokeWhere (userId: string | null, clientId: string | null, revoke: RevokeOptions): string[] {
    return this.#revokeIds(this.#live, [userId, clientId], revoke)
  }

  #revokeIds (select: Database.Statement, params: unknown[], revoke: RevokeOptions): string[] {
    return this.#db.transaction(() => {
      const ids = (select.all(...params) as Array<{ id: string }>).map((r) => r.id)
      for (const id of ids) this.#revoke(id, revoke)
      return ids
    }).immediate()
  }

  /** Marks the grant revoked (idempotent) and puts its access tokens on the deny-list. Call inside a transaction. */
  #revoke (grantId: string, { now, denyUntil }: RevokeOptions): Grant | undefined {
    const row = (this.#revokeGrant.get(now, grantId) ?? this.#findGrant.get(grantId)) as Row | undefined
    if (!row) return undefined
    this.#deny.run(denyEntry.grant(grantId), denyUntil)
    return toGrant(row)
  }
}

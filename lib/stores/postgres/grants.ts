import { GRANT_ENTRY_PREFIX } from '../deny-list.js'
import type { Grant, GrantStore, RefreshToken, RevokeOptions, RotateResult } from '../types.js'
import { requestedClaimsColumn, resourcesColumn, SELECT_TOKEN_WITH_GRANT, toGrant, toRefreshToken, toTokenWithGrant } from '../rows.js'
import type { Db, Queryable } from './db.js'
import { assertNoNul, hasNul } from './nul.js'
import { DB_NOW } from './revocations.js'

const insertToken = 'INSERT INTO refresh_tokens (hash, grant_id, scope, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)'
/** Same upsert as the deny-list's: a second revocation never shortens the entry. $3 is the grant entries' prefix. */
const deny = `INSERT INTO revocations (id, created_at, expires_at) SELECT $3::text || id, ${DB_NOW}, $2 FROM unnest($1::text[]) AS u (id) ORDER BY id
  ON CONFLICT (id) DO UPDATE SET expires_at = GREATEST(revocations.expires_at, excluded.expires_at)`

/**
 * The common case of a rotation in one statement, one round trip instead of the six of the transaction in
 * `rotate`: lock the family's grant row (grant first, as everywhere), spend the token when it and its grant are
 * live and it is unspent, insert the next token, and return the spent token with its grant. No row back means
 * one of those was not so (unknown, spent, revoked, expired), or a concurrent rotation spent the token first
 * (READ COMMITTED re-checks `consumed_at IS NULL` on the row the winner committed): the transaction sorts it out.
 */
const rotateAtOnce = `WITH g AS (
    SELECT * FROM grants WHERE id = (SELECT grant_id FROM refresh_tokens WHERE hash = $1) AND revoked_at IS NULL AND expires_at > $2 FOR UPDATE
  ), spent AS (
    UPDATE refresh_tokens t SET consumed_at = $2 FROM g
    WHERE t.hash = $1 AND t.grant_id = g.id AND t.consumed_at IS NULL AND t.expires_at > $2
    RETURNING t.hash, t.grant_id, t.scope, t.issued_at, t.expires_at, NULL::bigint AS consumed_at, g.client_id, g.user_id, g.scope AS grant_scope, g.claims AS grant_claims, g.resources AS grant_resources, g.dpop_jkt AS grant_dpop_jkt,
      g.credential_version, g.created_at AS grant_created_at, g.expires_at AS grant_expires_at, g.revoked_at AS grant_revoked_at
  ), next AS (
    INSERT INTO refresh_tokens (hash, grant_id, scope, issued_at, expires_at) SELECT $3, grant_id, $4, $5, $6 FROM spent
  )
  SELECT * FROM spent`

/**
 * Refresh-token families. Every multi-step change runs in one transaction (READ COMMITTED).
 * Locks are always taken grant row first, then its token rows, then deny-list rows — the order
 * purgeExpired's cascade uses too — so concurrent callers queue instead of deadlocking. The grant
 * row lock serialises everything that happens to one family, which is what makes `rotate` single-winner
 * across processes: a loser waits, then reads the token its winner consumed.
 */
export class PostgresGrantStore implements GrantStore {
  readonly #db: Db

  constructor (db: Db) {
    this.#db = db
  }

  async create (grant: Omit<Grant, 'revokedAt'>, first: RefreshToken): Promise<boolean> {
    assertNoNul([grant, first], 'grant')
    if (hasNul(grant.userId)) return false
    // One statement (atomic on its own, one round trip): the grant and its first token, or neither. FOR SHARE on the
    // user row: a password change or disable (UPDATE users) waits for this statement, or this one waits for it and
    // then finds the new credential version (READ COMMITTED re-reads the row) and inserts nothing.
    const inserted = await this.#db.query({
      name: 'gh_grants_insert_with_token_v3',
      text: `WITH g AS (
          INSERT INTO grants (id, client_id, user_id, scope, credential_version, created_at, expires_at, claims, resources, dpop_jkt)
          SELECT $1, $2, u.id, $3, u.credential_version, $4, $5, $12, $13, $14
          FROM (SELECT id, credential_version FROM users WHERE id = $6 AND credential_version = $7 AND NOT disabled FOR SHARE) u
          RETURNING id
        )
        INSERT INTO refresh_tokens (hash, grant_id, scope, issued_at, expires_at) SELECT $8, g.id, $9, $10, $11 FROM g`,
      values: [grant.id, grant.clientId, grant.scope, grant.createdAt, grant.expiresAt, grant.userId, grant.credentialVersion,
        first.hash, first.scope, first.issuedAt, first.expiresAt, requestedClaimsColumn(grant.claims), resourcesColumn(grant.resources), grant.dpopJkt ?? null]
    })
    return inserted.rowCount === 1
  }

  async findGrant (id: string): Promise<Grant | undefined> {
    if (hasNul(id)) return undefined
    const { rows } = await this.#db.query({ name: 'gh_grants_find', text: 'SELECT * FROM grants WHERE id = $1', values: [id] })
    return rows[0] && toGrant(rows[0])
  }

  async findToken (hash: string): Promise<{ token: RefreshToken, grant: Grant } | undefined> {
    if (hasNul(hash)) return undefined
    // One statement, so the token and its grant come from the same snapshot.
    const { rows } = await this.#db.query({ name: 'gh_tokens_find', text: `${SELECT_TOKEN_WITH_GRANT}$1`, values: [hash] })
    return rows[0] && toTokenWithGrant(rows[0])
  }

  async rotate (hash: string, next: RefreshToken, revoke: RevokeOptions): Promise<RotateResult> {
    if (hasNul(hash)) return { outcome: 'unknown' }
    assertNoNul(next, 'refresh token')
    const { rows } = await this.#db.query({
      name: 'gh_rotate_at_once',
      text: rotateAtOnce,
      values: [hash, revoke.now, next.hash, next.scope, next.issuedAt, next.expiresAt]
    })
    if (rows[0]) {
      const { token: previous, grant } = toTokenWithGrant(rows[0])
      return { outcome: 'rotated', grant, previous }
    }
    return this.#db.transaction(async (tx): Promise<RotateResult> => {
      // The family lock first (see the class comment); the token is read only once it is held, so it is current.
      const grantRow = (await tx.query({
        name: 'gh_rotate_lock_grant',
        text: 'SELECT * FROM grants WHERE id = (SELECT grant_id FROM refresh_tokens WHERE hash = $1) FOR UPDATE',
        values: [hash]
      })).rows[0]
      if (!grantRow) return { outcome: 'unknown' }
      const tokenRow = (await tx.query({
        name: 'gh_rotate_lock_token',
        text: 'SELECT * FROM refresh_tokens WHERE hash = $1 FOR UPDATE',
        values: [hash]
      })).rows[0]
      if (!tokenRow) return { outcome: 'unknown' }
      const grant = toGrant(grantRow)
      const previous = toRefreshToken(tokenRow)
      if (grant.revokedAt !== null || previous.consumedAt !== null) {
        await this.#revoke(tx, grant.id, revoke)
        return { outcome: 'reused', grant }
      }
      if (previous.expiresAt <= revoke.now || grant.expiresAt <= revoke.now) return { outcome: 'expired' }
      // Guarded by `consumed_at IS NULL` as well as by the lock: the row count, not the earlier read, decides.
      const consumed = await tx.query({
        name: 'gh_rotate_consume',
        text: 'UPDATE refresh_tokens SET consumed_at = $1 WHERE hash = $2 AND consumed_at IS NULL',
        values: [revoke.now, hash]
      })
      if (consumed.rowCount !== 1) {
        await this.#revoke(tx, grant.id, revoke)
        return { outcome: 'reused', grant }
      }
      await tx.query({ name: 'gh_tokens_insert', text: insertToken, values: [next.hash, grant.id, next.scope, next.issuedAt, next.expiresAt] })
      return { outcome: 'rotated', grant, previous }
    })
  }

  async revoke (grantId: string, revoke: RevokeOptions): Promise<Grant | undefined> {
    if (hasNul(grantId)) return undefined
    return this.#db.transaction((tx) => this.#revoke(tx, grantId, revoke))
  }

  async revokeForUser (userId: string, revoke: RevokeOptions, clientId?: string): Promise<string[]> {
    if (hasNul(userId) || (clientId !== undefined && hasNul(clientId))) return []
    if (clientId !== undefined) return this.#revokeWhere('gh_grants_live_for_user_client', 'user_id = $1 AND client_id = $2', [userId, clientId], revoke)
    return this.#revokeWhere('gh_grants_live_for_user', 'user_id = $1', [userId], revoke)
  }

  async revokeForClient (clientId: string, revoke: RevokeOptions): Promise<string[]> {
    if (hasNul(clientId)) return []
    return this.#revokeWhere('gh_grants_live_for_client', 'client_id = $1', [clientId], revoke)
  }

  async purgeExpired (now: number): Promise<number> {
    const result = await this.#db.query({ name: 'gh_grants_purge', text: 'DELETE FROM grants WHERE expires_at < $1', values: [now] })
    return result.rowCount ?? 0
  }

  async #revokeWhere (name: string, where: string, values: string[], revoke: RevokeOptions): Promise<string[]> {
    return this.#db.transaction(async (tx) => {
      // Locked in id order, so two overlapping bulk revocations cannot deadlock. A grant revoked meanwhile
      // by someone else is re-checked after its lock is released and drops out: it is not counted twice.
      const { rows } = await tx.query({
        name,
        text: `SELECT id FROM grants WHERE ${where} AND revoked_at IS NULL ORDER BY id FOR UPDATE`,
        values
      })
      const ids = rows.map((r) => String(r.id))
      if (ids.length === 0) return ids
      await tx.query({ name: 'gh_grants_revoke_many', text: 'UPDATE grants SET revoked_at = $2 WHERE id = ANY($1::text[])', values: [ids, revoke.now] })
      await tx.query({ name: 'gh_grants_deny', text: deny, values: [ids, revoke.denyUntil, GRANT_ENTRY_PREFIX] })
      return ids
    })
  }

  /** Marks the grant revoked (idempotent) and puts its access tokens on the deny-list. Call inside a transaction. */
  async #revoke (tx: Queryable, grantId: string, { now, denyUntil }: RevokeOptions): Promise<Grant | undefined> {
    const revoked = await tx.query({
      name: 'gh_grants_revoke',
      text: 'UPDATE grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING *',
      values: [now, grantId]
    })
    const row = revoked.rows[0] ??
      (await tx.query({ name: 'gh_grants_find', text: 'SELECT * FROM grants WHERE id = $1', values: [grantId] })).rows[0]
    if (!row) return undefined
    await tx.query({ name: 'gh_grants_deny', text: deny, values: [[grantId], denyUntil, GRANT_ENTRY_PREFIX] })
    return toGrant(row)
  }
}

import { requestedClaimsColumn, resourcesColumn } from '../rows.js'
import { BACKCHANNEL_LOGOUT_KIND, type AuthorizationCode, type AuthorizationCodeStore, type Consent, type ConsentStore, type IssuedFromCode, type RedeemResult, type Session, type SessionStore } from '../types.js'
import { codeChallengeColumn, scopeSet, toAuthorizationCode, toConsent, toSession } from '../browser-rows.js'
import { onlyRow, type Db } from './db.js'
import { assertNoNul, hasNul } from './nul.js'

/**
 * Ending the sessions `where` selects (SessionStore's contract) as one statement, so one transaction: the sessions
 * are deleted, their clients forgotten, and a logout message queued in the outbox (due at once) for each of those
 * clients that has a back-channel logout URI. The count of ended sessions is the statement's one row.
 */
const endSessions = (where: string): string => `WITH gone AS (DELETE FROM sessions WHERE ${where} RETURNING id_hash, user_id, sid, seq),
  linked AS (DELETE FROM session_clients sc USING gone WHERE sc.session_hash = gone.id_hash RETURNING sc.session_hash, sc.client_id),
  queued AS (INSERT INTO outbox (id, kind, payload, attempts, next_attempt_at, created_at)
    SELECT gen_random_uuid()::text, '${BACKCHANNEL_LOGOUT_KIND}',
      jsonb_build_object('clientId', l.client_id, 'uri', c.backchannel_logout_uri, 'sub', g.user_id, 'sid', g.sid),
      0, 0, extract(epoch from now())::bigint FROM linked l JOIN gone g ON g.id_hash = l.session_hash
    JOIN clients c ON c.id = l.client_id WHERE g.sid IS NOT NULL AND c.backchannel_logout_uri IS NOT NULL ORDER BY g.seq, l.client_id)
  SELECT COUNT(*)::int AS n FROM gone`

const ended = (rows: Array<Record<string, unknown>>): number => Number(rows[0]?.n ?? 0)

export class PostgresSessionStore implements SessionStore {
  readonly #db: Db
  constructor (db: Db) { this.#db = db }

  async create (s: Session): Promise<boolean> {
    assertNoNul(s, 'session')
    // One statement, as a grant's (grants.ts): FOR SHARE on the user row, so a password change or a disable either
    // waits for this insert (and then ends the session with the others) or is seen by it (nothing is inserted).
    const { rowCount } = await this.#db.query({
      name: 'gh_sessions_insert_ua',
      text: `INSERT INTO sessions (id_hash, user_id, auth_time, created_at, expires_at, credential_version, provider, amr, sid, user_agent)
        SELECT $1, u.id, $2, $3, $4, u.credential_version, $5, $6::jsonb, $9, $10
        FROM (SELECT id, credential_version FROM users WHERE id = $7 AND credential_version = $8 AND NOT disabled FOR SHARE) u`,
      values: [s.idHash, s.authTime, s.createdAt, s.expiresAt, s.provider, JSON.stringify(s.amr), s.userId, s.credentialVersion, s.sid ?? null, s.userAgent ?? null]
    })
    return rowCount === 1
  }

  async find (idHash: string, now: number): Promise<Session | undefined> {
    if (hasNul(idHash)) return undefined
    const { rows } = await this.#db.query({ name: 'gh_sessions_find', text: 'SELECT * FROM sessions WHERE id_hash = $1 AND expires_at > $2', values: [idHash, now] })
    return rows[0] && toSession(rows[0])
  }

  async delete (idHash: string): Promise<boolean> {
    if (hasNul(idHash)) return false
    const { rows } = await this.#db.query({ name: 'gh_sessions_end', text: endSessions('id_hash = $1'), values: [idHash] })
    return ended(rows) > 0
  }

  async extend (idHash: string, expiresAt: number, now: number): Promise<boolean> {
    if (hasNul(idHash)) return false
    const { rowCount } = await this.#db.query({
      name: 'gh_sessions_extend',
      text: 'UPDATE sessions SET expires_at = $1 WHERE id_hash = $2 AND expires_at > $3',
      values: [expiresAt, idHash, now]
    })
    return rowCount === 1
  }

  async listForUser (userId: string, now: number): Promise<Session[]> {
    if (hasNul(userId)) return []
    const { rows } = await this.#db.query({
      name: 'gh_sessions_list',
      text: 'SELECT * FROM sessions WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at DESC, id_hash',
      values: [userId, now]
    })
    return rows.map(toSession)
  }

  async deleteForUser (userId: string): Promise<number> {
    if (hasNul(userId)) return 0
    const { rows } = await this.#db.query({ name: 'gh_sessions_end_user', text: endSessions('user_id = $1'), values: [userId] })
    return ended(rows)
  }

  async endOldestForUser (userId: string, keep: number): Promise<number> {
    if (hasNul(userId)) return 0
    // seq breaks ties between sessions created in the same second (an identity: it grows with each insert).
    const { rows } = await this.#db.query({
      name: 'gh_sessions_end_oldest_queued',
      text: endSessions(`user_id = $1 AND seq NOT IN
        (SELECT seq FROM sessions WHERE user_id = $1 ORDER BY created_at DESC, seq DESC LIMIT $2)`),
      values: [userId, keep]
    })
    return ended(rows)
  }

  async purgeExpired (now: number): Promise<number> {
    const { rows } = await this.#db.query({ name: 'gh_sessions_purge_queued', text: endSessions('expires_at <= $1'), values: [now] })
    return ended(rows)
  }

  async addClient (idHash: string, clientId: string, max: number): Promise<boolean> {
    if (hasNul([idHash, clientId])) return false
    // Two inserts at once may both see max - 1 rows: the bound can be passed by the few requests in flight, never more.
    const { rowCount } = await this.#db.query({
      name: 'gh_session_clients_add',
      text: `INSERT INTO session_clients (session_hash, client_id) SELECT $1, $2
        WHERE (SELECT COUNT(*) FROM session_clients WHERE session_hash = $1) < $3 ON CONFLICT DO NOTHING`,
      values: [idHash, clientId, max]
    })
    return rowCount === 1
  }

  async clients (idHash: string): Promise<string[]> {
    if (hasNul(idHash)) return []
    const { rows } = await this.#db.query({ name: 'gh_session_clients', text: 'SELECT client_id FROM session_clients WHERE session_hash = $1 ORDER BY client_id', values: [idHash] })
    return rows.map((r) => String(r.client_id))
  }
}

export class PostgresConsentStore implements ConsentStore {
  readonly #db: Db
  constructor (db: Db) { this.#db = db }

  async find (userId: string, clientId: string): Promise<Consent | undefined> {
    if (hasNul([userId, clientId])) return undefined
    const { rows } = await this.#db.query({ name: 'gh_consents_find', text: 'SELECT * FROM consents WHERE user_id = $1 AND client_id = $2', values: [userId, clientId] })
    return rows[0] && toConsent(rows[0])
  }

  async grant (userId: string, clientId: string, scopes: string[], now: number): Promise<Consent> {
    assertNoNul([userId, clientId, scopes], 'consent')
    // The union with an earlier consent is computed under the row's lock (ON CONFLICT DO UPDATE), so two
    // grants at once both count; sorted bytewise like scopeSet.
    const { rows } = await this.#db.query({
      name: 'gh_consents_grant',
      text: `INSERT INTO consents (user_id, client_id, scope, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
        ON CONFLICT (user_id, client_id) DO UPDATE SET updated_at = excluded.updated_at,
          scope = (SELECT COALESCE(string_agg(DISTINCT s COLLATE "C", ' ' ORDER BY s COLLATE "C"), '')
                   FROM unnest(string_to_array(consents.scope || ' ' || excluded.scope, ' ')) AS u (s) WHERE s <> '')
        RETURNING *`,
      values: [userId, clientId, scopeSet(scopes), now]
    })
    return toConsent(onlyRow(rows))
  }

  async listForUser (userId: string): Promise<Consent[]> {
    if (hasNul(userId)) return []
    const { rows } = await this.#db.query({ name: 'gh_consents_list', text: 'SELECT * FROM consents WHERE user_id = $1 ORDER BY client_id', values: [userId] })
    return rows.map(toConsent)
  }

  async revoke (userId: string, clientId?: string): Promise<number> {
    if (hasNul([userId, clientId ?? ''])) return 0
    const { rowCount } = clientId === undefined
      ? await this.#db.query({ name: 'gh_consents_revoke_all', text: 'DELETE FROM consents WHERE user_id = $1', values: [userId] })
      : await this.#db.query({ name: 'gh_consents_revoke', text: 'DELETE FROM consents WHERE user_id = $1 AND client_id = $2', values: [userId, clientId] })
    return rowCount ?? 0
  }
}

/**
 * Redemption is one UPDATE guarded by `redeemed_at IS NULL`: under READ COMMITTED a concurrent redeemer
 * waits for the winner's row lock, then re-checks the condition and updates nothing, so exactly one wins.
 */
export class PostgresAuthorizationCodeStore implements AuthorizationCodeStore {
  readonly #db: Db
  constructor (db: Db) { this.#db = db }

  async create (c: AuthorizationCode): Promise<void> {
    assertNoNul(c, 'authorization code')
    await this.#db.query({
      name: 'gh_codes_insert_v8',
      text: `INSERT INTO authorization_codes (hash, client_id, user_id, redirect_uri, code_challenge, nonce, scope, auth_time, session_hash, created_at, expires_at,
        credential_version, claims, sid, amr, resources, dpop_jkt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
      values: [c.hash, c.clientId, c.userId, c.redirectUri, codeChallengeColumn(c.codeChallenge), c.nonce, c.scope, c.authTime, c.sessionHash, c.createdAt, c.expiresAt, c.credentialVersion, requestedClaimsColumn(c.claims), c.sid ?? null,
        JSON.stringify(c.amr ?? []), resourcesColumn(c.resources), c.dpopJkt ?? null]
    })
  }

  async find (hash: string): Promise<AuthorizationCode | undefined> {
    if (hasNul(hash)) return undefined
    const { rows } = await this.#db.query({ name: 'gh_codes_find', text: 'SELECT * FROM authorization_codes WHERE hash = $1', values: [hash] })
    return rows[0] && toAuthorizationCode(rows[0])
  }

  async redeem (hash: string, now: number, issued: IssuedFromCode): Promise<RedeemResult> {
    if (hasNul(hash)) return { outcome: 'unknown' }
    assertNoNul(issued, 'issued tokens')
    const { rows } = await this.#db.query({
      name: 'gh_codes_redeem',
      text: 'UPDATE authorization_codes SET redeemed_at = $1, issued = $3 WHERE hash = $2 AND redeemed_at IS NULL RETURNING *',
      values: [now, hash, JSON.stringify(issued)]
    })
    if (rows[0]) return { outcome: 'redeemed', code: toAuthorizationCode(rows[0]) }
    const found = await this.find(hash)
    return found ? { outcome: 'replayed', code: found } : { outcome: 'unknown' }
  }

  async endOldestForSession (sessionHash: string, keep: number): Promise<number> {
    if (hasNul(sessionHash)) return 0
    // Issue order: creation time, then seq (an identity: it grows with each insert) within one second.
    const { rowCount } = await this.#db.query({
      name: 'gh_codes_end_oldest',
      text: `DELETE FROM authorization_codes WHERE session_hash = $1 AND redeemed_at IS NULL AND seq NOT IN
        (SELECT seq FROM authorization_codes WHERE session_hash = $1 AND redeemed_at IS NULL ORDER BY created_at DESC, seq DESC LIMIT $2)`,
      values: [sessionHash, keep]
    })
    return rowCount ?? 0
  }

  async purgeExpired (now: number, keepRedeemedFor = 0): Promise<number> {
    const { rowCount } = await this.#db.query({
      name: 'gh_codes_purge',
      text: 'DELETE FROM authorization_codes WHERE expires_at <= $1 AND (redeemed_at IS NULL OR expires_at <= $2)',
      values: [now, now - keepRedeemedFor]
    })
    return rowCount ?? 0
  }
}

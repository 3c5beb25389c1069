import type Database from 'better-sqlite3'
import { requestedClaimsColumn, resourcesColumn } from '../rows.js'
import { BACKCHANNEL_LOGOUT_KIND, type AuthorizationCode, type AuthorizationCodeStore, type Consent, type ConsentStore, type IssuedFromCode, type RedeemResult, type Session, type SessionStore } from '../types.js'
import { codeChallengeColumn, scopeSet, toAuthorizationCode, toConsent, toSession } from '../browser-rows.js'

type Row = Record<string, unknown>

/**
 * Ending the sessions `where` selects (a condition on `sessions`, its columns named `sessions.…`): one IMMEDIATE
 * transaction queues a logout message in the outbox for each of their clients with a back-channel logout URI (due
 * at once: next_attempt_at 0), forgets their clients, and deletes them (SessionStore's contract). Returns how many
 * sessions ended.
 */
function sessionEnder (db: Database.Database, where: string): (...params: unknown[]) => number {
  const queue = db.prepare(`INSERT INTO outbox (id, kind, payload, attempts, next_attempt_at, created_at)
    SELECT lower(hex(randomblob(16))), '${BACKCHANNEL_LOGOUT_KIND}',
      json_object('clientId', sc.client_id, 'uri', c.backchannel_logout_uri, 'sub', sessions.user_id, 'sid', sessions.sid),
      0, 0, CAST(strftime('%s', 'now') AS INTEGER) FROM sessions
    JOIN session_clients sc ON sc.session_hash = sessions.id_hash JOIN clients c ON c.id = sc.client_id
    WHERE sessions.sid IS NOT NULL AND c.backchannel_logout_uri IS NOT NULL AND ${where} ORDER BY sessions.rowid, sc.client_id`)
  const forget = db.prepare(`DELETE FROM session_clients WHERE session_hash IN (SELECT sessions.id_hash FROM sessions WHERE ${where})`)
  const remove = db.prepare(`DELETE FROM sessions WHERE ${where}`)
  return db.transaction((...params: unknown[]) => {
    queue.run(...params)
    forget.run(...params)
    return remove.run(...params).changes
  }).immediate
}

export class SqliteSessionStore implements SessionStore {
  readonly #insert: Database.Statement
  readonly #find: Database.Statement
  readonly #delete: (...params: unknown[]) => number
  readonly #extend: Database.Statement
  readonly #listForUser: Database.Statement
  readonly #deleteForUser: (...params: unknown[]) => number
  readonly #endOldest: (...params: unknown[]) => number
  readonly #purge: (...params: unknown[]) => number
  readonly #addClient: Database.Statement
  readonly #clients: Database.Statement

  constructor (db: Database.Database) {
    // One statement: the row is written only while the user is enabled and at the session's credential version.
    this.#insert = db.prepare(`INSERT INTO sessions (id_hash, user_id, auth_time, created_at, expires_at, credential_version, provider, amr, sid, user_agent)
      SELECT ?, u.id, ?, ?, ?, u.credential_version, ?, ?, ?, ? FROM users u WHERE u.id = ? AND u.credential_version = ? AND u.disabled = 0`)
    this.#find = db.prepare('SELECT * FROM sessions WHERE id_hash = ? AND expires_at > ?')
    this.#delete = sessionEnder(db, 'sessions.id_hash = ?')
    this.#extend = db.prepare('UPDATE sessions SET expires_at = ? WHERE id_hash = ? AND expires_at > ?')
    this.#listForUser = db.prepare('SELECT * FROM sessions WHERE user_id = ? AND expires_at > ? ORDER BY created_at DESC, id_hash')
    this.#deleteForUser = sessionEnder(db, 'sessions.user_id = ?')
    // The rowid breaks ties between sessions created in the same second (it grows with each insert).
    this.#endOldest = sessionEnder(db, `sessions.user_id = ? AND sessions.rowid NOT IN
      (SELECT newest.rowid FROM sessions newest WHERE newest.user_id = ? ORDER BY newest.created_at DESC, newest.rowid DESC LIMIT ?)`)
    this.#purge = sessionEnder(db, 'sessions.expires_at <= ?')
    this.#addClient = db.prepare(`INSERT INTO session_clients (session_hash, client_id)
      SELECT ?, ? WHERE (SELECT COUNT(*) FROM session_clients WHERE session_hash = ?) < ? ON CONFLICT DO NOTHING`)
    this.#clients = db.prepare('SELECT client_id FROM session_clients WHERE session_hash = ? ORDER BY client_id')
  }

  async create (s: Session): Promise<boolean> {
    return this.#insert.run(s.idHash, s.authTime, s.createdAt, s.expiresAt, s.provider, JSON.stringify(s.amr), s.sid ?? null, s.userAgent ?? null, s.userId, s.credentialVersion).changes === 1
  }

  async find (idHash: string, now: number): Promise<Session | undefined> {
    const row = this.#find.get(idHash, now) as Row | undefined
    return row && toSession(row)
  }

  async delete (idHash: string): Promise<boolean> { return this.#delete(idHash) > 0 }
  async extend (idHash: string, expiresAt: number, now: number): Promise<boolean> { return this.#extend.run(expiresAt, idHash, now).changes === 1 }
  async listForUser (userId: string, now: number): Promise<Session[]> { return (this.#listForUser.all(userId, now) as Row[]).map(toSession) }
  async deleteForUser (userId: string): Promise<number> { return this.#deleteForUser(userId) }
  async endOldestForUser (userId: string, keep: number): Promise<number> { return this.#endOldest(userId, userId, keep) }
  async purgeExpired (now: number): Promise<number> { return this.#purge(now) }
  async addClient (idHash: string, clientId: string, max: number): Promise<boolean> { return this.#addClient.run(idHash, clientId, idHash, max).changes === 1 }
  async clients (idHash: string): Promise<string[]> { return (this.#clients.all(idHash) as Row[]).map((r) => String(r.client_id)) }
}

export class SqliteConsentStore implements ConsentStore {
  readonly #db: Database.Database
  readonly #find: Database.Statement
  readonly #upsert: Database.Statement
  readonly #list: Database.Statement
  readonly #revokeOne: Database.Statement
  readonly #revokeAll: Database.Statement

  constructor (db: Database.Database) {
    this.#db = db
    this.#find = db.prepare('SELECT * FROM consents WHERE user_id = ? AND client_id = ?')
    this.#upsert = db.prepare(`INSERT INTO consents (user_id, client_id, scope, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, updated_at = excluded.updated_at RETURNING *`)
    this.#list = db.prepare('SELECT * FROM consents WHERE user_id = ? ORDER BY client_id')
    this.#revokeOne = db.prepare('DELETE FROM consents WHERE user_id = ? AND client_id = ?')
    this.#revokeAll = db.prepare('DELETE FROM consents WHERE user_id = ?')
  }

  async find (userId: string, clientId: string): Promise<Consent | undefined> {
    const row = this.#find.get(userId, clientId) as Row | undefined
    return row && toConsent(row)
  }

  async grant (userId: string, clientId: string, scopes: string[], now: number): Promise<Consent> {
    // One IMMEDIATE transaction: two grants at once both end up in the union.
    return this.#db.transaction(() => {
      const existing = this.#find.get(userId, clientId) as Row | undefined
      const scope = scopeSet([...(existing ? String(existing.scope).split(' ') : []), ...scopes])
      return toConsent(this.#upsert.get(userId, clientId, scope, now, now) as Row)
    }).immediate()
  }

  async listForUser (userId: string): Promise<Consent[]> { return (this.#list.all(userId) as Row[]).map(toConsent) }

  async revoke (userId: string, clientId?: string): Promise<number> {
    return clientId === undefined ? this.#revokeAll.run(userId).changes : this.#revokeOne.run(userId, clientId).changes
  }
}

/** Redemption is one UPDATE guarded by `redeemed_at IS NULL`: SQLite serialises writers, so one caller wins. */
export class SqliteAuthorizationCodeStore implements AuthorizationCodeStore {
  readonly #insert: Database.Statement
  readonly #find: Database.Statement
  readonly #redeem: Database.Statement
  readonly #endOldest: Database.Statement
  readonly #purge: Database.Statement

  constructor (db: Database.Database) {
    this.#insert = db.prepare(`INSERT INTO authorization_codes (hash, client_id, user_id, redirect_uri, code_challenge, nonce, scope, auth_time,
      session_hash, created_at, expires_at, credential_version, claims, sid, amr, resources, dpop_jkt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    this.#find = db.prepare('SELECT * FROM authorization_codes WHERE hash = ?')
    this.#redeem = db.prepare('UPDATE authorization_codes SET redeemed_at = ?, issued = ? WHERE hash = ? AND redeemed_at IS NULL RETURNING *')
    // Issue order: creation time, then rowid (it grows with each insert) for codes issued in the same second.
    this.#endOldest = db.prepare(`DELETE FROM authorization_codes WHERE session_hash = ? AND redeemed_at IS NULL AND rowid NOT IN
      (SELECT rowid FROM authorization_codes WHERE session_hash = ? AND redeemed_at IS NULL ORDER BY created_at DESC, rowid DESC LIMIT ?)`)
    this.#purge = db.prepare('DELETE FROM authorization_codes WHERE expires_at <= ? AND (redeemed_at IS NULL OR expires_at <= ?)')
  }

  async create (c: AuthorizationCode): Promise<void> {
    this.#insert.run(c.hash, c.clientId, c.userId, c.redirectUri, codeChallengeColumn(c.codeChallenge), c.nonce, c.scope, c.authTime, c.sessionHash, c.createdAt, c.expiresAt, c.credentialVersion, requestedClaimsColumn(c.claims), c.sid ?? null, JSON.stringify(c.amr ?? []), resourcesColumn(c.resources), c.dpopJkt ?? null)
  }

  async find (hash: string): Promise<AuthorizationCode | undefined> {
    const row = this.#find.get(hash) as Row | undefined
    return row && toAuthorizationCode(row)
  }

  async redeem (hash: string, now: number, issued: IssuedFromCode): Promise<RedeemResult> {
    const won = this.#redeem.get(now, JSON.stringify(issued), hash) as Row | undefined
    if (won) return { outcome: 'redeemed', code: toAuthorizationCode(won) }
    const row = this.#find.get(hash) as Row | undefined
    return row ? { outcome: 'replayed', code: toAuthorizationCode(row) } : { outcome: 'unknown' }
  }

  async endOldestForSession (sessionHash: string, keep: number): Promise<number> { return this.#endOldest.run(sessionHash, sessionHash, keep).changes }
  async purgeExpired (now: number, keepRedeemedFor = 0): Promise<number> { return this.#purge.run(now, now - keepRedeemedFor).changes }
}

import type Database from 'better-sqlite3'
import { toPasskeyChallenge, type Row } from '../rows.js'
import type { PasskeyChallenge, PasskeyChallengeStore } from '../types.js'

/** Consumption is one DELETE … RETURNING guarded by the binding and the expiry: SQLite serialises writers, so one caller wins. */
export class SqlitePasskeyChallengeStore implements PasskeyChallengeStore {
  readonly #insert: Database.Statement
  readonly #consume: Database.Statement
  readonly #purge: Database.Statement

  constructor (db: Database.Database) {
    this.#insert = db.prepare(`INSERT INTO passkey_challenges (id_hash, binding_hash, ceremony, user_id, created_at, expires_at)
      VALUES (@idHash, @bindingHash, @ceremony, @userId, @createdAt, @expiresAt)`)
    this.#consume = db.prepare('DELETE FROM passkey_challenges WHERE id_hash = ? AND binding_hash = ? AND expires_at > ? RETURNING *')
    this.#purge = db.prepare('DELETE FROM passkey_challenges WHERE expires_at <= ?')
  }

  async create (challenge: PasskeyChallenge): Promise<void> {
    this.#insert.run(challenge)
  }

  async consume (idHash: string, bindingHash: string, now: number): Promise<PasskeyChallenge | undefined> {
    const row = this.#consume.get(idHash, bindingHash, now) as Row | undefined
    return row && toPasskeyChallenge(row)
  }

  async purgeExpired (now: number): Promise<number> { return this.#purge.run(now).changes }
}

import type Database from 'better-sqlite3'
import { toUserFactor } from '../rows.js'
import { ConflictError, TooManyFactorsError, type NewUserFactor, type UserFactor, type UserFactorStore } from '../types.js'
import { isUniqueViolation } from './errors.js'

type Row = Record<string, unknown>

export class SqliteUserFactorStore implements UserFactorStore {
  readonly #db: Database.Database
  readonly #count: Database.Statement
  readonly #insert: Database.Statement
  readonly #list: Database.Statement
  readonly #get: Database.Statement
  readonly #byCredential: Database.Statement
  readonly #countConfirmed: Database.Statement
  readonly #useStep: Database.Statement
  readonly #confirmStep: Database.Statement
  readonly #usePasskey: Database.Statement
  readonly #remove: Database.Statement
  readonly #removeAll: Database.Statement
  readonly #removeCodes: Database.Statement
  readonly #purge: Database.Statement
  readonly #insertCode: Database.Statement
  readonly #useCode: Database.Statement
  readonly #codesLeft: Database.Statement

  constructor (db: Database.Database) {
    this.#db = db
    this.#count = db.prepare('SELECT COUNT(*) AS n FROM user_factors WHERE user_id = ?')
    this.#insert = db.prepare(`INSERT INTO user_factors (id, user_id, kind, name, secret, credential_id, public_key, counter, data, created_at, confirmed_at)
      VALUES (@id, @userId, @kind, @name, @secret, @credentialId, @publicKey, @counter, @data, @createdAt, @confirmedAt)`)
    this.#list = db.prepare('SELECT * FROM user_factors WHERE user_id = ? ORDER BY created_at, rowid')
    this.#get = db.prepare('SELECT * FROM user_factors WHERE user_id = ? AND id = ?')
    this.#byCredential = db.prepare('SELECT * FROM user_factors WHERE credential_id = ? AND kind = \'passkey\' AND confirmed_at IS NOT NULL')
    this.#countConfirmed = db.prepare('SELECT COUNT(*) AS n FROM user_factors WHERE user_id = ? AND confirmed_at IS NOT NULL')
    // One UPDATE each: SQLite runs one writer at a time, so of two requests with the same step exactly one matches.
    this.#useStep = db.prepare(`UPDATE user_factors SET last_step = @step, last_used_at = @now
      WHERE user_id = @userId AND id = @id AND kind = 'totp' AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < @step)`)
    this.#confirmStep = db.prepare(`UPDATE user_factors SET last_step = @step, last_used_at = @now, confirmed_at = COALESCE(confirmed_at, @now)
      WHERE user_id = @userId AND id = @id AND kind = 'totp' AND (last_step IS NULL OR last_step < @step)`)
    this.#usePasskey = db.prepare(`UPDATE user_factors SET counter = @counter, last_used_at = @now
      WHERE id = @id AND kind = 'passkey' AND confirmed_at IS NOT NULL AND (counter < @counter OR (counter = 0 AND @counter = 0))`)
    this.#remove = db.prepare('DELETE FROM user_factors WHERE user_id = ? AND id = ?')
    this.#removeAll = db.prepare('DELETE FROM user_factors WHERE user_id = ?')
    this.#removeCodes = db.prepare('DELETE FROM recovery_codes WHERE user_id = ?')
    this.#purge = db.prepare('DELETE FROM user_factors WHERE confirmed_at IS NULL AND created_at < ?')
    this.#insertCode = db.prepare('INSERT INTO recovery_codes (user_id, digest, created_at) VALUES (?, ?, ?)')
    this.#useCode = db.prepare('UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND digest = ? AND used_at IS NULL')
    this.#codesLeft = db.prepare('SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = ? AND used_at IS NULL')
  }

  async create (factor: NewUserFactor, maxPerUser: number): Promise<void> {
    try {
      this.#db.transaction(() => {
        if ((this.#count.get(factor.userId) as { n: number }).n >= maxPerUser) throw new TooManyFactorsError(`at most ${maxPerUser} factors per user`)
        this.#insert.run({ ...factor, data: factor.data === null ? null : JSON.stringify(factor.data) })
      }).immediate()
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError('this credential is registered already')
      throw err
    }
  }

  async list (userId: string): Promise<UserFactor[]> {
    return (this.#list.all(userId) as Row[]).map(toUserFactor)
  }

  async get (userId: string, id: string): Promise<UserFactor | undefined> {
    const row = this.#get.get(userId, id) as Row | undefined
    return row === undefined ? undefined : toUserFactor(row)
  }

  async findByCredentialId (credentialId: string): Promise<UserFactor | undefined> {
    const row = this.#byCredential.get(credentialId) as Row | undefined
    return row === undefined ? undefined : toUserFactor(row)
  }

  async countConfirmed (userId: string): Promise<number> {
    return (this.#countConfirmed.get(userId) as { n: number }).n
  }

  async useStep (userId: string, id: string, step: number, now: number, confirm = false): Promise<boolean> {
    return (confirm ? this.#confirmStep : this.#useStep).run({ userId, id, step, now }).changes === 1
  }

  async usePasskey (id: string, counter: number, now: number): Promise<boolean> {
    return this.#usePasskey.run({ id, counter, now }).changes === 1
  }

  async remove (userId: string, id: string): Promise<boolean> {
    return this.#remove.run(userId, id).changes === 1
  }

  async removeAll (userId: string): Promise<number> {
    return this.#db.transaction(() => {
      this.#removeCodes.run(userId)
      return this.#removeAll.run(userId).changes
    }).immediate()
  }

  async purgeUnconfirmed (before: number): Promise<number> {
    return this.#purge.run(before).changes
  }

  async replaceRecoveryCodes (userId: string, digests: string[], now: number): Promise<void> {
    this.#db.transaction(() => {
      this.#removeCodes.run(userId)
      for (const digest of digests) this.#insertCode.run(userId, digest, now)
    }).immediate()
  }

  async useRecoveryCode (userId: string, digest: string, now: number): Promise<boolean> {
    return this.#useCode.run(now, userId, digest).changes === 1
  }

  async recoveryCodesLeft (userId: string): Promise<number> {
    return (this.#codesLeft.get(userId) as { n: number }).n
  }
}

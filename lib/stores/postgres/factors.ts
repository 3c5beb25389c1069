import { toUserFactor } from '../rows.js'
import { ConflictError, TooManyFactorsError, type NewUserFactor, type UserFactor, type UserFactorStore } from '../types.js'
import type { Db } from './db.js'
import { isUniqueViolation } from './errors.js'
import { assertNoNul, hasNul } from './nul.js'

export class PostgresUserFactorStore implements UserFactorStore {
  readonly #db: Db
  constructor (db: Db) { this.#db = db }

  async create (factor: NewUserFactor, maxPerUser: number): Promise<void> {
    assertNoNul(factor, 'second factor')
    try {
      await this.#db.transaction(async (tx) => {
        // The user's row locked first: two enrolments at once count one after the other, so the bound holds.
        await tx.query({ name: 'gh_factors_lock_user', text: 'SELECT id FROM users WHERE id = $1 FOR UPDATE', values: [factor.userId] })
        const { rows } = await tx.query({ name: 'gh_factors_count', text: 'SELECT COUNT(*)::int AS n FROM user_factors WHERE user_id = $1', values: [factor.userId] })
        if (Number(rows[0]?.n ?? 0) >= maxPerUser) throw new TooManyFactorsError(`at most ${maxPerUser} factors per user`)
        await tx.query({
          name: 'gh_factors_insert',
          text: `INSERT INTO user_factors (id, user_id, kind, name, secret, credential_id, public_key, counter, data, created_at, confirmed_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11)`,
          values: [factor.id, factor.userId, factor.kind, factor.name, factor.secret, factor.credentialId, factor.publicKey, factor.counter,
            factor.data === null ? null : JSON.stringify(factor.data), factor.createdAt, factor.confirmedAt]
        })
      })
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError('this credential is registered already')
      throw err
    }
  }

  async list (userId: string): Promise<UserFactor[]> {
    if (hasNul(userId)) return []
    const { rows } = await this.#db.query({ name: 'gh_factors_list', text: 'SELECT * FROM user_factors WHERE user_id = $1 ORDER BY created_at, id', values: [userId] })
    return rows.map(toUserFactor)
  }

  async get (userId: string, id: string): Promise<UserFactor | undefined> {
    if (hasNul([userId, id])) return undefined
    const { rows } = await this.#db.query({ name: 'gh_factors_get', text: 'SELECT * FROM user_factors WHERE user_id = $1 AND id = $2', values: [userId, id] })
    return rows[0] === undefined ? undefined : toUserFactor(rows[0])
  }

  async findByCredentialId (credentialId: string): Promise<UserFactor | undefined> {
    if (hasNul(credentialId)) return undefined
    const { rows } = await this.#db.query({
      name: 'gh_factors_by_credential',
      text: 'SELECT * FROM user_factors WHERE credential_id = $1 AND kind = \'passkey\' AND confirmed_at IS NOT NULL',
      values: [credentialId]
    })
    return rows[0] === undefined ? undefined : toUserFactor(rows[0])
  }

  async countConfirmed (userId: string): Promise<number> {
    if (hasNul(userId)) return 0
    const { rows } = await this.#db.query({
      name: 'gh_factors_count_confirmed',
      text: 'SELECT COUNT(*)::int AS n FROM user_factors WHERE user_id = $1 AND confirmed_at IS NOT NULL',
      values: [userId]
    })
    return Number(rows[0]?.n ?? 0)
  }

  async useStep (userId: string, id: string, step: number, now: number, confirm = false): Promise<boolean> {
    if (hasNul([userId, id])) return false
    // One UPDATE: under READ COMMITTED the second of two at once re-checks last_step after the first commits.
    const { rowCount } = await this.#db.query(confirm
      ? {
          name: 'gh_factors_confirm_step',
          text: `UPDATE user_factors SET last_step = $3, last_used_at = $4, confirmed_at = COALESCE(confirmed_at, $4)
            WHERE user_id = $1 AND id = $2 AND kind = 'totp' AND (last_step IS NULL OR last_step < $3)`,
          values: [userId, id, step, now]
        }
      : {
          name: 'gh_factors_use_step',
          text: `UPDATE user_factors SET last_step = $3, last_used_at = $4
            WHERE user_id = $1 AND id = $2 AND kind = 'totp' AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < $3)`,
          values: [userId, id, step, now]
        })
    return rowCount === 1
  }

  async usePasskey (id: string, counter: number, now: number): Promise<boolean> {
    if (hasNul(id)) return false
    const { rowCount } = await this.#db.query({
      name: 'gh_factors_use_passkey',
      text: `UPDATE user_factors SET counter = $2, last_used_at = $3
        WHERE id = $1 AND kind = 'passkey' AND confirmed_at IS NOT NULL AND (counter < $2 OR (counter = 0 AND $2 = 0))`,
      values: [id, counter, now]
    })
    return rowCount === 1
  }

  async remove (userId: string, id: string): Promise<boolean> {
    if (hasNul([userId, id])) return false
    const { rowCount } = await this.#db.query({ name: 'gh_factors_remove', text: 'DELETE FROM user_factors WHERE user_id = $1 AND id = $2', values: [userId, id] })
    return rowCount === 1
  }

  async removeAll (userId: string): Promise<number> {
    if (hasNul(userId)) return 0
    return await this.#db.transaction(async (tx) => {
      await tx.query({ name: 'gh_recovery_codes_remove', text: 'DELETE FROM recovery_codes WHERE user_id = $1', values: [userId] })
      const { rowCount } = await tx.query({ name: 'gh_factors_remove_all', text: 'DELETE FROM user_factors WHERE user_id = $1', values: [userId] })
      return rowCount ?? 0
    })
  }

  async purgeUnconfirmed (before: number): Promise<number> {
    const { rowCount } = await this.#db.query({
      name: 'gh_factors_purge',
      text: 'DELETE FROM user_factors WHERE confirmed_at IS NULL AND created_at < $1',
      values: [before]
    })
    return rowCount ?? 0
  }

  async replaceRecoveryCodes (userId: string, digests: string[], now: number): Promise<void> {
    assertNoNul([userId, digests], 'recovery codes')
    await this.#db.transaction(async (tx) => {
      await tx.query({ name: 'gh_recovery_codes_remove', text: 'DELETE FROM recovery_codes WHERE user_id = $1', values: [userId] })
      await tx.query({
        name: 'gh_recovery_codes_insert',
        text: 'INSERT INTO recovery_codes (user_id, digest, created_at) SELECT $1, d, $3 FROM unnest($2::text[]) AS d',
        values: [userId, digests, now]
      })
    })
  }

  async useRecoveryCode (userId: string, digest: string, now: number): Promise<boolean> {
    if (hasNul([userId, digest])) return false
    const { rowCount } = await this.#db.query({
      name: 'gh_recovery_codes_use',
      text: 'UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND digest = $2 AND used_at IS NULL',
      values: [userId, digest, now]
    })
    return rowCount === 1
  }

  async recoveryCodesLeft (userId: string): Promise<number> {
    if (hasNul(userId)) return 0
    const { rows } = await this.#db.query({
      name: 'gh_recovery_codes_left',
      text: 'SELECT COUNT(*)::int AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL',
      values: [userId]
    })
    return Number(rows[0]?.n ?? 0)
  }
}

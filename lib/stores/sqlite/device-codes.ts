import type Database from 'better-sqlite3'
import { toDeviceCode, type Row } from '../rows.js'
import { ConflictError, type DeviceApproval, type DeviceCode, type DeviceCodeStore, type DevicePoll } from '../types.js'
import { isUniqueViolation } from './errors.js'

/**
 * Every change of state is one conditional UPDATE … RETURNING: SQLite serialises writers, so of two requests
 * deciding, polling or redeeming at once each sees the other's write.
 */
export class SqliteDeviceCodeStore implements DeviceCodeStore {
  readonly #insert: Database.Statement
  readonly #find: Database.Statement
  readonly #findPending: Database.Statement
  readonly #pollOnTime: Database.Statement
  readonly #pollTooSoon: Database.Statement
  readonly #approve: Database.Statement
  readonly #deny: Database.Statement
  readonly #redeem: Database.Statement
  readonly #purge: Database.Statement

  constructor (db: Database.Database) {
    this.#insert = db.prepare(`INSERT INTO device_codes (hash, user_code, client_id, scope, resources, status, poll_interval, last_poll_at, created_at, expires_at)
      VALUES (@hash, @userCode, @clientId, @scope, @resources, @status, @interval, @lastPollAt, @createdAt, @expiresAt)`)
    this.#find = db.prepare('SELECT * FROM device_codes WHERE hash = ?')
    this.#findPending = db.prepare("SELECT * FROM device_codes WHERE user_code = ? AND status = 'pending' AND expires_at > ?")
    // On time: the first poll, or at least `interval` after the last. Otherwise the interval grows (RFC 8628 §3.5).
    this.#pollOnTime = db.prepare('UPDATE device_codes SET last_poll_at = @now WHERE hash = @hash AND (last_poll_at IS NULL OR @now - last_poll_at >= poll_interval) RETURNING *')
    this.#pollTooSoon = db.prepare('UPDATE device_codes SET last_poll_at = @now, poll_interval = poll_interval + @step WHERE hash = @hash RETURNING *')
    this.#approve = db.prepare(`UPDATE device_codes SET status = 'approved', user_id = @userId, granted_scope = @scope, auth_time = @authTime, amr = @amr,
      sid = @sid, credential_version = @credentialVersion WHERE user_code = @userCode AND status = 'pending' AND expires_at > @now`)
    this.#deny = db.prepare("UPDATE device_codes SET status = 'denied' WHERE user_code = ? AND status = 'pending' AND expires_at > ?")
    this.#redeem = db.prepare("UPDATE device_codes SET status = 'used' WHERE hash = ? AND status = 'approved' AND expires_at > ? RETURNING *")
    this.#purge = db.prepare('DELETE FROM device_codes WHERE expires_at <= ?')
  }

  async create (code: DeviceCode): Promise<void> {
    try {
      this.#insert.run({ ...code, resources: JSON.stringify(code.resources) })
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError('this device or user code is taken')
      throw err
    }
  }

  async find (hash: string): Promise<DeviceCode | undefined> {
    const row = this.#find.get(hash) as Row | undefined
    return row && toDeviceCode(row)
  }

  async findPending (userCode: string, now: number): Promise<DeviceCode | undefined> {
    const row = this.#findPending.get(userCode, now) as Row | undefined
    return row && toDeviceCode(row)
  }

  async poll (hash: string, now: number, slowDownSeconds: number): Promise<DevicePoll | undefined> {
    const onTime = this.#pollOnTime.get({ hash, now }) as Row | undefined
    if (onTime) return { code: toDeviceCode(onTime), tooSoon: false }
    const tooSoon = this.#pollTooSoon.get({ hash, now, step: slowDownSeconds }) as Row | undefined
    return tooSoon && { code: toDeviceCode(tooSoon), tooSoon: true }
  }

  async decide (userCode: string, now: number, decision: { approval: DeviceApproval } | 'denied'): Promise<boolean> {
    if (decision === 'denied') return this.#deny.run(userCode, now).changes === 1
    const { approval } = decision
    return this.#approve.run({ userCode, now, ...approval, amr: JSON.stringify(approval.amr) }).changes === 1
  }

  async redeem (hash: string, now: number): Promise<DeviceCode | undefined> {
    const row = this.#redeem.get(hash, now) as Row | undefined
    return row && toDeviceCode(row)
  }

  async purgeExpired (now: number): Promise<number> { return this.#purge.run(now).changes }
}

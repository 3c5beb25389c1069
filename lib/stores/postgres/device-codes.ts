import { toDeviceCode } from '../rows.js'
import { ConflictError, type DeviceApproval, type DeviceCode, type DeviceCodeStore, type DevicePoll } from '../types.js'
import type { Db } from './db.js'
import { isUniqueViolation } from './errors.js'
import { assertNoNul, hasNul } from './nul.js'

/**
 * Every change of state is one conditional UPDATE … RETURNING: under READ COMMITTED a concurrent writer waits for
 * the row lock, then re-checks the condition on the new row, so of two redemptions exactly one finds it approved.
 */
export class PostgresDeviceCodeStore implements DeviceCodeStore {
  readonly #db: Db
  constructor (db: Db) { this.#db = db }

  async create (c: DeviceCode): Promise<void> {
    assertNoNul(c, 'device code')
    try {
      await this.#db.query({
        name: 'gh_device_codes_insert',
        text: `INSERT INTO device_codes (hash, user_code, client_id, scope, resources, status, poll_interval, last_poll_at, created_at, expires_at)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        values: [c.hash, c.userCode, c.clientId, c.scope, JSON.stringify(c.resources), c.status, c.interval, c.lastPollAt, c.createdAt, c.expiresAt]
      })
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError('this device or user code is taken')
      throw err
    }
  }

  async find (hash: string): Promise<DeviceCode | undefined> {
    if (hasNul(hash)) return undefined
    const { rows } = await this.#db.query({ name: 'gh_device_codes_find', text: 'SELECT * FROM device_codes WHERE hash = $1', values: [hash] })
    return rows[0] && toDeviceCode(rows[0])
  }

  async findPending (userCode: string, now: number): Promise<DeviceCode | undefined> {
    if (hasNul(userCode)) return undefined
    const { rows } = await this.#db.query({
      name: 'gh_device_codes_find_pending',
      text: "SELECT * FROM device_codes WHERE user_code = $1 AND status = 'pending' AND expires_at > $2",
      values: [userCode, now]
    })
    return rows[0] && toDeviceCode(rows[0])
  }

  async poll (hash: string, now: number, slowDownSeconds: number): Promise<DevicePoll | undefined> {
    if (hasNul(hash)) return undefined
    // On time: the first poll, or at least `interval` after the last. Otherwise the interval grows (RFC 8628 §3.5).
    const onTime = await this.#db.query({
      name: 'gh_device_codes_poll_on_time',
      text: 'UPDATE device_codes SET last_poll_at = $2 WHERE hash = $1 AND (last_poll_at IS NULL OR $2 - last_poll_at >= poll_interval) RETURNING *',
      values: [hash, now]
    })
    if (onTime.rows[0]) return { code: toDeviceCode(onTime.rows[0]), tooSoon: false }
    const tooSoon = await this.#db.query({
      name: 'gh_device_codes_poll_too_soon',
      text: 'UPDATE device_codes SET last_poll_at = $2, poll_interval = poll_interval + $3 WHERE hash = $1 RETURNING *',
      values: [hash, now, slowDownSeconds]
    })
    return tooSoon.rows[0] && { code: toDeviceCode(tooSoon.rows[0]), tooSoon: true }
  }

  async decide (userCode: string, now: number, decision: { approval: DeviceApproval } | 'denied'): Promise<boolean> {
    if (hasNul(userCode)) return false
    if (decision === 'denied') {
      const { rowCount } = await this.#db.query({
        name: 'gh_device_codes_deny',
        text: "UPDATE device_codes SET status = 'denied' WHERE user_code = $1 AND status = 'pending' AND expires_at > $2",
        values: [userCode, now]
      })
      return rowCount === 1
    }
    const a = decision.approval
    assertNoNul(a, 'device approval')
    const { rowCount } = await this.#db.query({
      name: 'gh_device_codes_approve',
      text: `UPDATE device_codes SET status = 'approved', user_id = $3, granted_scope = $4, auth_time = $5, amr = $6, sid = $7, credential_version = $8
        WHERE user_code = $1 AND status = 'pending' AND expires_at > $2`,
      values: [userCode, now, a.userId, a.scope, a.authTime, JSON.stringify(a.amr), a.sid, a.credentialVersion]
    })
    return rowCount === 1
  }

  async redeem (hash: string, now: number): Promise<DeviceCode | undefined> {
    if (hasNul(hash)) return undefined
    const { rows } = await this.#db.query({
      name: 'gh_device_codes_redeem',
      text: "UPDATE device_codes SET status = 'used' WHERE hash = $1 AND status = 'approved' AND expires_at > $2 RETURNING *",
      values: [hash, now]
    })
    return rows[0] && toDeviceCode(rows[0])
  }

  async purgeExpired (now: number): Promise<number> {
    const { rowCount } = await this.#db.query({ name: 'gh_device_codes_purge', text: 'DELETE FROM device_codes WHERE expires_at <= $1', values: [now] })
    return rowCount ?? 0
  }
}

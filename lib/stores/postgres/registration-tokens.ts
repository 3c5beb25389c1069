import { toRegistrationToken } from '../rows.js'
import type { RegistrationToken, RegistrationTokenStore } from '../types.js'
import { onlyRow, type Db } from './db.js'
import { hasNul } from './nul.js'

const USABLE = '(expires_at IS NULL OR expires_at > $2) AND (max_uses IS NULL OR uses < max_uses)'

/**
 * A use is one UPDATE whose WHERE is the whole check: under READ COMMITTED a concurrent use waits for the row
 * lock, then re-checks the condition on the updated row, so `max_uses` is never exceeded.
 */
export class PostgresRegistrationTokenStore implements RegistrationTokenStore {
  readonly #db: Db
  constructor (db: Db) { this.#db = db }

  async create (t: Omit<RegistrationToken, 'uses' | 'createdAt'>, now: number): Promise<RegistrationToken> {
    const { rows } = await this.#db.query({
      name: 'gh_registration_tokens_insert',
      text: 'INSERT INTO registration_tokens (id, digest, expires_at, max_uses, uses, created_at) VALUES ($1, $2, $3, $4, 0, $5) RETURNING *',
      values: [t.id, t.digest, t.expiresAt, t.maxUses, now]
    })
    return toRegistrationToken(onlyRow(rows))
  }

  async list (): Promise<RegistrationToken[]> {
    const { rows } = await this.#db.query({ name: 'gh_registration_tokens_list', text: 'SELECT * FROM registration_tokens ORDER BY created_at, id' })
    return rows.map(toRegistrationToken)
  }

  async delete (id: string): Promise<RegistrationToken | undefined> {
    if (hasNul(id)) return undefined
    const { rows } = await this.#db.query({ name: 'gh_registration_tokens_delete', text: 'DELETE FROM registration_tokens WHERE id = $1 RETURNING *', values: [id] })
    return rows[0] && toRegistrationToken(rows[0])
  }

  async findUsable (digest: string, now: number): Promise<RegistrationToken | undefined> {
    if (hasNul(digest)) return undefined
    const { rows } = await this.#db.query({
      name: 'gh_registration_tokens_find_usable',
      text: `SELECT * FROM registration_tokens WHERE digest = $1 AND ${USABLE}`,
      values: [digest, now]
    })
    return rows[0] && toRegistrationToken(rows[0])
  }

  async use (digest: string, now: number): Promise<boolean> {
    if (hasNul(digest)) return false
    const { rowCount } = await this.#db.query({
      name: 'gh_registration_tokens_use',
      text: `UPDATE registration_tokens SET uses = uses + 1 WHERE digest = $1 AND ${USABLE}`,
      values: [digest, now]
    })
    return rowCount === 1
  }
}

import { toAccountLink } from '../rows.js'
import type { AccountLink, AccountLinkPurpose, AccountLinkStore } from '../types.js'
import type { Db } from './db.js'
import { assertNoNul, hasNul } from './nul.js'

export class PostgresAccountLinkStore implements AccountLinkStore {
  readonly #db: Db
  constructor (db: Db) { this.#db = db }

  async create (link: Omit<AccountLink, 'usedAt'>, options: { voidOlder?: boolean } = {}): Promise<void> {
    assertNoNul(link, 'account link')
    await this.#db.transaction(async (tx) => {
      if (options.voidOlder === true && link.userId !== null) {
        await tx.query({
          name: 'gh_account_links_void',
          text: 'DELETE FROM account_links WHERE purpose = $1 AND user_id = $2 AND used_at IS NULL',
          values: [link.purpose, link.userId]
        })
      }
      await tx.query({
        name: 'gh_account_links_insert',
        text: `INSERT INTO account_links (id, token_hash, purpose, user_id, email, scope, data, created_at, expires_at)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        values: [link.id, link.tokenHash, link.purpose, link.userId, link.email, link.scope,
          link.data === null ? null : JSON.stringify(link.data), link.createdAt, link.expiresAt]
      })
    })
  }

  async find (tokenHash: string, purpose: AccountLinkPurpose, now: number): Promise<AccountLink | undefined> {
    if (hasNul(tokenHash)) return undefined
    const { rows } = await this.#db.query({
      name: 'gh_account_links_find',
      text: 'SELECT * FROM account_links WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3',
      values: [tokenHash, purpose, now]
    })
    return rows[0] === undefined ? undefined : toAccountLink(rows[0])
  }

  async consume (tokenHash: string, purpose: AccountLinkPurpose, now: number): Promise<AccountLink | undefined> {
    if (hasNul(tokenHash)) return undefined
    // One UPDATE: a concurrent consumer waits on the row lock, then re-checks used_at (READ COMMITTED) and misses.
    const { rows } = await this.#db.query({
      name: 'gh_account_links_consume',
      text: `UPDATE account_links SET used_at = $4
        WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 RETURNING *`,
      values: [tokenHash, purpose, now, now]
    })
    return rows[0] === undefined ? undefined : toAccountLink(rows[0])
  }

  async listPending (purpose: AccountLinkPurpose, now: number, limit: number): Promise<AccountLink[]> {
    const { rows } = await this.#db.query({
      name: 'gh_account_links_pending',
      text: `SELECT * FROM account_links WHERE purpose = $1 AND used_at IS NULL AND expires_at > $2
        ORDER BY created_at DESC, id LIMIT $3`,
      values: [purpose, now, limit]
    })
    return rows.map(toAccountLink)
  }

  async pendingForUser (userId: string, purpose: AccountLinkPurpose, now: number): Promise<AccountLink | undefined> {
    if (hasNul(userId)) return undefined
    const { rows } = await this.#db.query({
      name: 'gh_account_links_pending_user',
      text: `SELECT * FROM account_links WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3
        ORDER BY created_at DESC, id DESC LIMIT 1`,
      values: [userId, purpose, now]
    })
    return rows[0] === undefined ? undefined : toAccountLink(rows[0])
  }

  async countPending (purpose: AccountLinkPurpose, now: number): Promise<number> {
    const { rows } = await this.#db.query({
      name: 'gh_account_links_count_pending',
      text: 'SELECT COUNT(*) AS n FROM account_links WHERE purpose = $1 AND used_at IS NULL AND expires_at > $2',
      values: [purpose, now]
    })
    return Number(rows[0]?.n ?? 0)
  }

  async revoke (id: string, purpose: AccountLinkPurpose): Promise<boolean> {
    if (hasNul(id)) return false
    const { rowCount } = await this.#db.query({
      name: 'gh_account_links_revoke',
      text: 'DELETE FROM account_links WHERE id = $1 AND purpose = $2 AND used_at IS NULL',
      values: [id, purpose]
    })
    return (rowCount ?? 0) > 0
  }

  async purgeExpired (now: number): Promise<number> {
    const { rowCount } = await this.#db.query({
      name: 'gh_account_links_purge',
      text: 'DELETE FROM account_links WHERE expires_at <= $1',
      values: [now]
    })
    return rowCount ?? 0
  }
}

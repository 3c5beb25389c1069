import { toPushedRequest } from '../rows.js'
import type { PushedRequest, PushedRequestStore } from '../types.js'
import type { Db } from './db.js'
import { assertNoNul, hasNul } from './nul.js'

/**
 * Every change of state is one conditional UPDATE … RETURNING: under READ COMMITTED a concurrent writer waits for
 * the row lock, then re-checks the condition on the new row, so of two answers ending one sign-in exactly one spends it.
 */
export class PostgresPushedRequestStore implements PushedRequestStore {
  readonly #db: Db
  constructor (db: Db) { this.#db = db }

  async create (r: PushedRequest): Promise<void> {
    assertNoNul(r, 'pushed authorization request')
    await this.#db.query({
      name: 'gh_pushed_requests_insert',
      text: `INSERT INTO pushed_requests (hash, client_id, parameters, state, created_at, started_at, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      values: [r.hash, r.clientId, JSON.stringify(r.parameters), r.state, r.createdAt, r.startedAt, r.expiresAt]
    })
  }

  async start (hash: string, clientId: string, now: number, until: number): Promise<PushedRequest | undefined> {
    if (hasNul(hash) || hasNul(clientId)) return undefined
    const started = await this.#db.query({
      name: 'gh_pushed_requests_start',
      text: `UPDATE pushed_requests SET state = 'started', started_at = $3, expires_at = $4
        WHERE hash = $1 AND client_id = $2 AND state = 'unused' AND expires_at > $3 RETURNING *`,
      values: [hash, clientId, now, until]
    })
    if (started.rows[0]) return toPushedRequest(started.rows[0])
    const { rows } = await this.#db.query({
      name: 'gh_pushed_requests_find_started',
      text: "SELECT * FROM pushed_requests WHERE hash = $1 AND client_id = $2 AND state = 'started' AND expires_at > $3",
      values: [hash, clientId, now]
    })
    return rows[0] && toPushedRequest(rows[0])
  }

  async consume (hash: string, now: number): Promise<boolean> {
    if (hasNul(hash)) return false
    const { rowCount } = await this.#db.query({
      name: 'gh_pushed_requests_consume',
      text: "UPDATE pushed_requests SET state = 'used' WHERE hash = $1 AND state = 'started' AND expires_at > $2",
      values: [hash, now]
    })
    return rowCount === 1
  }

  async purgeExpired (now: number): Promise<number> {
    const { rowCount } = await this.#db.query({ name: 'gh_pushed_requests_purge', text: 'DELETE FROM pushed_requests WHERE expires_at <= $1', values: [now] })
    return rowCount ?? 0
  }
}

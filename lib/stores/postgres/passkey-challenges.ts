import { toPasskeyChallenge } from '../rows.js'
import type { PasskeyChallenge, PasskeyChallengeStore } from '../types.js'
import type { Db } from './db.js'
import { assertNoNul, hasNul } from './nul.js'

/**
 * Consumption is one DELETE … RETURNING guarded by the binding and the expiry: under READ COMMITTED a concurrent
 * consumer waits for the winner's row lock, then finds the row gone, so exactly one gets it.
 */
export class PostgresPasskeyChallengeStore implements PasskeyChallengeStore {
  readonly #db: Db
  constructor (db: Db) { this.#db = db }

  async create (c: PasskeyChallenge): Promise<void> {
    assertNoNul(c, 'passkey challenge')
    await this.#db.query({
      name: 'gh_passkey_challenges_insert',
      text: 'INSERT INTO passkey_challenges (id_hash, binding_hash, ceremony, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)',
      values: [c.idHash, c.bindingHash, c.ceremony, c.userId, c.createdAt, c.expiresAt]
    })
  }

  async consume (idHash: string, bindingHash: string, now: number): Promise<PasskeyChallenge | undefined> {
    if (hasNul([idHash, bindingHash])) return undefined
    const { rows } = await this.#db.query({
      name: 'gh_passkey_challenges_consume',
      text: 'DELETE FROM passkey_challenges WHERE id_hash = $1 AND binding_hash = $2 AND expires_at > $3 RETURNING *',
      values: [idHash, bindingHash, now]
    })
    return rows[0] && toPasskeyChallenge(rows[0])
  }

  async purgeExpired (now: number): Promise<number> {
    const { rowCount } = await this.#db.query({ name: 'gh_passkey_challenges_purge', text: 'DELETE FROM passkey_challenges WHERE expires_at <= $1', values: [now] })
    return rowCount ?? 0
  }
}

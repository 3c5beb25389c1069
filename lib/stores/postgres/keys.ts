import type { KeyStore, NewSigningKey, SigningKey } from '../types.js'
import { toSigningKey } from '../rows.js'
import { onlyRow, type Db } from './db.js'
import { assertNoNul, hasNul } from './nul.js'

// The sequence comes from the column's default (a PostgreSQL sequence): concurrent rotations get distinct,
// increasing numbers.
const insert = `INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at, activates_at)
  VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`
const values = (key: NewSigningKey): unknown[] => [key.kid, key.alg, key.privateKey, key.publicJwk, key.createdAt, key.activatesAt]
const withoutNul = (kids: string[]): string[] => kids.filter((kid) => !hasNul(kid))

export class PostgresKeyStore implements KeyStore {
  readonly #db: Db

  constructor (db: Db) {
    this.#db = db
  }

  async list (): Promise<SigningKey[]> {
    const { rows } = await this.#db.query({ name: 'gh_keys_list', text: 'SELECT * FROM signing_keys ORDER BY seq' })
    return rows.map(toSigningKey)
  }

  async insert (key: NewSigningKey): Promise<SigningKey> {
    assertNoNul(key, 'signing key')
    const { rows } = await this.#db.query({ name: 'gh_keys_insert', text: insert, values: values(key) })
    return toSigningKey(onlyRow(rows))
  }

  async insertFirstOfAlg (key: NewSigningKey): Promise<boolean> {
    assertNoNul(key, 'signing key')
    return this.#db.transaction(async (tx) => {
      // Under READ COMMITTED two starters would both see an empty table; this lock mode conflicts with
      // itself and with writers (not with readers), so the second waits and then sees the first's key of
      // that algorithm.
      // It is per table, hence per schema, unlike an advisory lock.
      await tx.query('LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE')
      const { rows } = await tx.query({ name: 'gh_keys_any_of_alg', text: 'SELECT 1 FROM signing_keys WHERE alg = $1 LIMIT 1', values: [key.alg] })
      if (rows.length > 0) return false
      await tx.query({ name: 'gh_keys_insert', text: insert, values: values(key) })
      return true
    })
  }

  async delete (kids: string[]): Promise<void> {
    const ids = withoutNul(kids)
    if (ids.length === 0) return
    await this.#db.query({ name: 'gh_keys_delete', text: 'DELETE FROM signing_keys WHERE kid = ANY($1::text[])', values: [ids] })
  }

  async deletePrivateKeys (kids: string[]): Promise<void> {
    const ids = withoutNul(kids)
    if (ids.length === 0) return
    await this.#db.query({
      name: 'gh_keys_delete_private',
      text: 'UPDATE signing_keys SET private_key = NULL WHERE kid = ANY($1::text[]) AND private_key IS NOT NULL',
      values: [ids]
    })
  }

  async heartbeat (instance: string, publishDelay: number, now: number, staleBefore: number): Promise<void> {
    assertNoNul(instance, 'instance')
    await this.#db.transaction(async (tx) => {
      await tx.query({
        name: 'gh_keys_heartbeat',
        text: `INSERT INTO key_instances (instance, publish_delay, seen_at) VALUES ($1, $2, $3)
          ON CONFLICT (instance) DO UPDATE SET publish_delay = EXCLUDED.publish_delay, seen_at = EXCLUDED.seen_at`,
        values: [instance, publishDelay, now]
      })
      await tx.query({ name: 'gh_keys_purge_instances', text: 'DELETE FROM key_instances WHERE seen_at < $1', values: [staleBefore] })
    })
  }

  async agreedPublishDelay (since: number): Promise<number | undefined> {
    const { rows } = await this.#db.query({ name: 'gh_keys_agreed_delay', text: 'SELECT MAX(publish_delay) AS delay FROM key_instances WHERE seen_at >= $1', values: [since] })
    const delay = rows[0]?.delay
    return delay === null || delay === undefined ? undefined : Number(delay)
  }

  async leave (instance: string): Promise<void> {
    if (hasNul(instance)) return
    await this.#db.query({ name: 'gh_keys_leave', text: 'DELETE FROM key_instances WHERE instance = $1', values: [instance] })
  }
}

import type { KeyStore, SigningKey } from '../types.js'
import { toSigningKey } from '../rows.js'
import type { Db } from './db.js'
import { assertNoNul, hasNul } from './nul.js'

const insert = `INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at, activates_at)
  VALUES ($1, $2, $3, $4, $5, $6)`
const values = (key: SigningKey): unknown[] => [key.kid, key.alg, key.privateKey, key.publicJwk, key.createdAt, key.activatesAt]

export class PostgresKeyStore implements KeyStore {
  readonly #db: Db

  constructor (db: Db) {
    this.#db = db
  }

  async list (): Promise<SigningKey[]> {
    const { rows } = await this.#db.query({ name: 'gh_keys_list', text: 'SELECT * FROM signing_keys ORDER BY activates_at, created_at' })
    return rows.map(toSigningKey)
  }

  async insert (key: SigningKey): Promise<void> {
    assertNoNul(key, 'signing key')
    await this.#db.query({ name: 'gh_keys_insert', text: insert, values: values(key) })
  }

  async insertIfEmpty (key: SigningKey): Promise<boolean> {
    assertNoNul(key, 'signing key')
    return this.#db.transaction(async (tx) => {
      // Under READ COMMITTED two starters would both see an empty table; this lock mode conflicts with
      // itself and with writers (not with readers), so the second waits and then sees the first's key.
      // It is per table, hence per schema, unlike an advisory lock.
      await tx.query('LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE')
      const { rows } = await tx.query({ name: 'gh_keys_any', text: 'SELECT 1 FROM signing_keys LIMIT 1' })
      if (rows.length > 0) return false
      await tx.query({ name: 'gh_keys_insert', text: insert, values: values(key) })
      return true
    })
  }

  async delete (kid: string): Promise<void> {
    if (hasNul(kid)) return
    await this.#db.query({ name: 'gh_keys_delete', text: 'DELETE FROM signing_keys WHERE kid = $1', values: [kid] })
  }
}

import type { Clock } from '../../clock.js'
import { providerPatchColumns, toIdentity, toProvider, toUpstreamTransaction } from '../rows.js'
import {
  ConflictError, type Identity, type IdentityStore, type NewProvider, type ProviderPatch, type ProviderStore,
  type UpstreamProvider, type UpstreamTransaction, type UpstreamTransactionStore
} from '../types.js'
import { onlyRow, type Db } from './db.js'
import { isUniqueViolation } from './errors.js'
import { assertNoNul, hasNul } from './nul.js'
import { updateRow } from './update.js'

export class PostgresProviderStore implements ProviderStore {
  readonly #db: Db
  readonly #clock: Clock
  constructor (db: Db, clock: Clock) { this.#db = db; this.#clock = clock }

  async create (p: NewProvider): Promise<UpstreamProvider> {
    assertNoNul(p, 'provider')
    const now = this.#clock.now()
    try {
      const { rows } = await this.#db.query({
        name: 'gh_providers_insert',
        text: `INSERT INTO upstream_providers (name, issuer, client_id, client_secret, scope, display_name, link_by_email, create_users,
          authorization_endpoint, token_endpoint, userinfo_endpoint, claims, created_at, updated_at, link_linked_accounts)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14) RETURNING *`,
        values: [p.name, p.issuer, p.clientId, p.clientSecret, p.scope, p.displayName, p.linkByEmail, p.createUsers,
          p.authorizationEndpoint, p.tokenEndpoint, p.userinfoEndpoint, JSON.stringify(p.claims), now, p.linkLinkedAccounts]
      })
      return toProvider(onlyRow(rows))
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`provider ${p.name} already exists`)
      throw err
    }
  }

  async find (name: string): Promise<UpstreamProvider | undefined> {
    if (hasNul(name)) return undefined
    const { rows } = await this.#db.query({ name: 'gh_providers_find', text: 'SELECT * FROM upstream_providers WHERE name = $1', values: [name] })
    return rows[0] && toProvider(rows[0])
  }

  async list (): Promise<UpstreamProvider[]> {
    const { rows } = await this.#db.query({ name: 'gh_providers_list', text: 'SELECT * FROM upstream_providers ORDER BY name' })
    return rows.map(toProvider)
  }

  async update (name: string, patch: ProviderPatch): Promise<UpstreamProvider | undefined> {
    if (hasNul(name)) return undefined
    assertNoNul(patch, 'provider patch')
    const row = await updateRow(this.#db, 'upstream_providers', ['name', name], providerPatchColumns(patch), this.#clock.now())
    return row && toProvider(row)
  }

  async delete (name: string): Promise<UpstreamProvider | undefined> {
    if (hasNul(name)) return undefined
    const { rows } = await this.#db.query({ name: 'gh_providers_delete', text: 'DELETE FROM upstream_providers WHERE name = $1 RETURNING *', values: [name] })
    return rows[0] && toProvider(rows[0])
  }
}

export class PostgresIdentityStore implements IdentityStore {
  readonly #db: Db
  constructor (db: Db) { this.#db = db }

  async find (provider: string, issuer: string, subject: string): Promise<Identity | undefined> {
    if (hasNul([provider, issuer, subject])) return undefined
    const { rows } = await this.#db.query({
      name: 'gh_identities_find',
      text: 'SELECT * FROM upstream_identities WHERE provider = $1 AND issuer = $2 AND subject = $3',
      values: [provider, issuer, subject]
    })
    return rows[0] && toIdentity(rows[0])
  }

  async link (i: Identity): Promise<Identity> {
    assertNoNul(i, 'identity')
    try {
      const { rows } = await this.#db.query({
        name: 'gh_identities_insert',
        text: 'INSERT INTO upstream_identities (provider, issuer, subject, user_id, email, linked_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *',
        values: [i.provider, i.issuer, i.subject, i.userId, i.email, i.linkedAt]
      })
      return toIdentity(onlyRow(rows))
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`this ${i.provider} account is already linked`)
      throw err
    }
  }

  async touch (provider: string, issuer: string, subject: string, email: string | null): Promise<void> {
    if (hasNul([provider, issuer, subject, email ?? ''])) return
    await this.#db.query({
      name: 'gh_identities_touch',
      text: 'UPDATE upstream_identities SET email = $1 WHERE provider = $2 AND issuer = $3 AND subject = $4',
      values: [email, provider, issuer, subject]
    })
  }

  async listForUser (userId: string): Promise<Identity[]> {
    if (hasNul(userId)) return []
    const { rows } = await this.#db.query({
      name: 'gh_identities_list',
      text: 'SELECT * FROM upstream_identities WHERE user_id = $1 ORDER BY provider, linked_at',
      values: [userId]
    })
    return rows.map(toIdentity)
  }

  async unlink (userId: string, provider: string): Promise<number> {
    if (hasNul([userId, provider])) return 0
    const { rowCount } = await this.#db.query({
      name: 'gh_identities_unlink',
      text: 'DELETE FROM upstream_identities WHERE user_id = $1 AND provider = $2',
      values: [userId, provider]
    })
    return rowCount ?? 0
  }
}

/**
 * Consumption is one DELETE … RETURNING guarded by the binding and the expiry: under READ COMMITTED a
 * concurrent consumer waits for the winner's row lock, then finds the row gone, so exactly one gets it.
 */
export class PostgresUpstreamTransactionStore implements UpstreamTransactionStore {
  readonly #db: Db
  constructor (db: Db) { this.#db = db }

  async create (t: UpstreamTransaction): Promise<void> {
    assertNoNul(t, 'upstream transaction')
    await this.#db.query({
      name: 'gh_upstream_tx_insert',
      text: `INSERT INTO upstream_transactions (id_hash, binding_hash, provider, nonce, code_verifier, return_to, created_at, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      values: [t.idHash, t.bindingHash, t.provider, t.nonce, t.codeVerifier, t.returnTo, t.createdAt, t.expiresAt]
    })
  }

  async consume (idHash: string, bindingHash: string, now: number): Promise<UpstreamTransaction | undefined> {
    if (hasNul([idHash, bindingHash])) return undefined
    const { rows } = await this.#db.query({
      name: 'gh_upstream_tx_consume',
      text: 'DELETE FROM upstream_transactions WHERE id_hash = $1 AND binding_hash = $2 AND expires_at > $3 RETURNING *',
      values: [idHash, bindingHash, now]
    })
    return rows[0] && toUpstreamTransaction(rows[0])
  }

  async purgeExpired (now: number): Promise<number> {
    const { rowCount } = await this.#db.query({ name: 'gh_upstream_tx_purge', text: 'DELETE FROM upstream_transactions WHERE expires_at <= $1', values: [now] })
    return rowCount ?? 0
  }
}

import type Database from 'better-sqlite3'
import type { Clock } from '../../clock.js'
import { providerPatchColumns, toIdentity, toProvider, toUpstreamTransaction, type Row } from '../rows.js'
import {
  ConflictError, type Identity, type IdentityStore, type NewProvider, type ProviderPatch, type ProviderStore,
  type UpstreamProvider, type UpstreamTransaction, type UpstreamTransactionStore
} from '../types.js'
import { isUniqueViolation } from './errors.js'
import { updateRow } from './update.js'

export class SqliteProviderStore implements ProviderStore {
  readonly #db: Database.Database
  readonly #clock: Clock
  readonly #insert: Database.Statement
  readonly #find: Database.Statement
  readonly #list: Database.Statement
  readonly #delete: Database.Statement

  constructor (db: Database.Database, clock: Clock) {
    this.#db = db
    this.#clock = clock
    this.#insert = db.prepare(`INSERT INTO upstream_providers (name, issuer, client_id, client_secret, scope, display_name, link_by_email, create_users,
      authorization_endpoint, token_endpoint, userinfo_endpoint, claims, created_at, updated_at, link_linked_accounts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`)
    this.#find = db.prepare('SELECT * FROM upstream_providers WHERE name = ?')
    this.#list = db.prepare('SELECT * FROM upstream_providers ORDER BY name')
    this.#delete = db.prepare('DELETE FROM upstream_providers WHERE name = ? RETURNING *')
  }

  async create (p: NewProvider): Promise<UpstreamProvider> {
    const now = this.#clock.now()
    try {
      return toProvider(this.#insert.get(p.name, p.issuer, p.clientId, p.clientSecret, p.scope, p.displayName, p.linkByEmail ? 1 : 0, p.createUsers ? 1 : 0,
        p.authorizationEndpoint, p.tokenEndpoint, p.userinfoEndpoint, JSON.stringify(p.claims), now, now, p.linkLinkedAccounts ? 1 : 0) as Row)
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`provider ${p.name} already exists`)
      throw err
    }
  }

  async find (name: string): Promise<UpstreamProvider | undefined> {
    const row = this.#find.get(name) as Row | undefined
    return row && toProvider(row)
  }

  async list (): Promise<UpstreamProvider[]> { return (this.#list.all() as Row[]).map(toProvider) }

  async update (name: string, patch: ProviderPatch): Promise<UpstreamProvider | undefined> {
    const row = updateRow(this.#db, 'upstream_providers', ['name', name], providerPatchColumns(patch), this.#clock.now())
    return row && toProvider(row)
  }

  async delete (name: string): Promise<UpstreamProvider | undefined> {
    const row = this.#delete.get(name) as Row | undefined
    return row && toProvider(row)
  }
}

export class SqliteIdentityStore implements IdentityStore {
  readonly #insert: Database.Statement
  readonly #find: Database.Statement
  readonly #touch: Database.Statement
  readonly #list: Database.Statement
  readonly #unlink: Database.Statement

  constructor (db: Database.Database) {
    this.#insert = db.prepare('INSERT INTO upstream_identities (provider, issuer, subject, user_id, email, linked_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *')
    this.#find = db.prepare('SELECT * FROM upstream_identities WHERE provider = ? AND issuer = ? AND subject = ?')
    this.#touch = db.prepare('UPDATE upstream_identities SET email = ? WHERE provider = ? AND issuer = ? AND subject = ?')
    this.#list = db.prepare('SELECT * FROM upstream_identities WHERE user_id = ? ORDER BY provider, linked_at')
    this.#unlink = db.prepare('DELETE FROM upstream_identities WHERE user_id = ? AND provider = ?')
  }

  async find (provider: string, issuer: string, subject: string): Promise<Identity | undefined> {
    const row = this.#find.get(provider, issuer, subject) as Row | undefined
    return row && toIdentity(row)
  }

  async link (i: Identity): Promise<Identity> {
    try {
      return toIdentity(this.#insert.get(i.provider, i.issuer, i.subject, i.userId, i.email, i.linkedAt) as Row)
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`this ${i.provider} account is already linked`)
      throw err
    }
  }

  async touch (provider: string, issuer: string, subject: string, email: string | null): Promise<void> {
    this.#touch.run(email, provider, issuer, subject)
  }

  async listForUser (userId: string): Promise<Identity[]> { return (this.#list.all(userId) as Row[]).map(toIdentity) }
  async unlink (userId: string, provider: string): Promise<number> { return this.#unlink.run(userId, provider).changes }
}

/** Consumption is one DELETE … RETURNING guarded by the binding and the expiry: SQLite serialises writers, so one caller wins. */
export class SqliteUpstreamTransactionStore implements UpstreamTransactionStore {
  readonly #insert: Database.Statement
  readonly #consume: Database.Statement
  readonly #purge: Database.Statement

  constructor (db: Database.Database) {
    this.#insert = db.prepare(`INSERT INTO upstream_transactions (id_hash, binding_hash, provider, nonce, code_verifier, return_to, created_at, expires_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
    this.#consume = db.prepare('DELETE FROM upstream_transactions WHERE id_hash = ? AND binding_hash = ? AND expires_at > ? RETURNING *')
    this.#purge = db.prepare('DELETE FROM upstream_transactions WHERE expires_at <= ?')
  }

  async create (t: UpstreamTransaction): Promise<void> {
    this.#insert.run(t.idHash, t.bindingHash, t.provider, t.nonce, t.codeVerifier, t.returnTo, t.createdAt, t.expiresAt)
  }

  async consume (idHash: string, bindingHash: string, now: number): Promise<UpstreamTransaction | undefined> {
    const row = this.#consume.get(idHash, bindingHash, now) as Row | undefined
    return row && toUpstreamTransaction(row)
  }

  async purgeExpired (now: number): Promise<number> { return this.#purge.run(now).changes }
}

import { randomUUID } from 'node:crypto'
import type Database from 'better-sqlite3'
import { ConflictError, type Client, type ClientPatch, type ClientStore, type NewClient, type Page } from '../types.js'
import type { Clock } from '../../clock.js'
import { clientPatchColumns, registrationColumn, toClient } from '../rows.js'
import { updateRow } from './update.js'
import { isUniqueViolation } from './errors.js'

type Row = Record<string, unknown>

export class SqliteClientStore implements ClientStore {
  readonly #db: Database.Database
  readonly #clock: Clock
  readonly #insert: Database.Statement
  readonly #find: Database.Statement
  readonly #list: Database.Statement
  readonly #delete: Database.Statement
  readonly #scopes: Database.Statement
  readonly #publicRedirects: Database.Statement
  readonly #markUsed: Database.Statement
  readonly #purgeUnused: Database.Statement

  constructor (db: Database.Database, clock: Clock) {
    this.#db = db
    this.#clock = clock
    this.#insert = db.prepare(`INSERT INTO clients (id, secret_hash, is_public, grant_types, scope, redirect_uris, generation, created_at, updated_at,
      post_logout_redirect_uris, skip_consent, providers, pkce, id_token_alg, userinfo_alg, backchannel_logout_uri, require_mfa, password_grant_skips_mfa,
      registration, client_name, client_uri, logo_uri, registration_metadata, registration_token_hash, registered_by, exchange_sources, exchange_targets, metadata_document,
      require_par, dpop_bound_access_tokens, jwks, jwks_uri, token_endpoint_auth_method)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`)
    this.#find = db.prepare('SELECT * FROM clients WHERE id = ?')
    this.#list = db.prepare('SELECT * FROM clients ORDER BY id LIMIT ? OFFSET ?')
    this.#delete = db.prepare('DELETE FROM clients WHERE id = ? RETURNING *')
    this.#scopes = db.prepare("SELECT DISTINCT scope FROM clients WHERE scope IS NOT NULL AND scope <> '' AND registration IS NULL AND metadata_document = 0")
    this.#publicRedirects = db.prepare('SELECT DISTINCT j.value AS uri FROM clients, json_each(clients.redirect_uris) AS j WHERE clients.is_public = 1')
    this.#markUsed = db.prepare('UPDATE clients SET first_used_at = ? WHERE id = ? AND first_used_at IS NULL')
    this.#purgeUnused = db.prepare("DELETE FROM clients WHERE (registration = 'open' OR metadata_document = 1) AND first_used_at IS NULL AND created_at < ?")
  }

  async create (c: NewClient): Promise<Client> {
    const now = this.#clock.now()
    try {
      return toClient(this.#insert.get(c.id, c.secretHash, c.isPublic ? 1 : 0, JSON.stringify(c.grantTypes), c.scope,
        JSON.stringify(c.redirectUris), randomUUID(), now, now, JSON.stringify(c.postLogoutRedirectUris ?? []), c.skipConsent ? 1 : 0,
        c.providers == null ? null : JSON.stringify(c.providers), c.pkce ?? 'required', c.idTokenAlg ?? null, c.userinfoAlg ?? null,
        c.backchannelLogoutUri ?? null, c.requireMfa ? 1 : 0, c.passwordGrantSkipsMfa ? 1 : 0, registrationColumn(c), c.clientName ?? null,
        c.clientUri ?? null, c.logoUri ?? null, JSON.stringify(c.registrationMetadata ?? {}), c.registrationTokenHash ?? null, c.registeredBy ?? null,
        JSON.stringify(c.exchangeSources ?? []), JSON.stringify(c.exchangeTargets ?? []), c.registration === 'cimd' ? 1 : 0,
        c.requirePar ? 1 : 0, c.dpopBoundAccessTokens ? 1 : 0,
        c.jwks == null ? null : JSON.stringify(c.jwks), c.jwksUri ?? null, c.tokenEndpointAuthMethod ?? null) as Row)
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`client ${c.id} already exists`)
      throw err
    }
  }

  async find (id: string): Promise<Client | undefined> {
    const row = this.#find.get(id) as Row | undefined
    return row && toClient(row)
  }

  async list (page: Page): Promise<Client[]> {
    return (this.#list.all(page.limit, page.offset) as Row[]).map(toClient)
  }

  async update (id: string, patch: ClientPatch): Promise<Client | undefined> {
    const row = updateRow(this.#db, 'clients', ['id', id], clientPatchColumns(patch), this.#clock.now())
    return row && toClient(row)
  }

  async delete (id: string): Promise<Client | undefined> {
    const row = this.#delete.get(id) as Row | undefined
    return row && toClient(row)
  }

  async publicRedirectUris (): Promise<string[]> {
    return (this.#publicRedirects.all() as Array<{ uri: string }>).map((r) => r.uri)
  }

  async markUsed (id: string, now: number): Promise<void> {
    this.#markUsed.run(now, id)
  }

  async purgeUnusedRegistrations (createdBefore: number): Promise<number> {
    return this.#purgeUnused.run(createdBefore).changes
  }

  async scopeLists (): Promise<string[]> {
    return (this.#scopes.all() as Array<{ scope: string }>).map((r) => r.scope)
  }
}

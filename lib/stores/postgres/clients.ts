import { randomUUID } from 'node:crypto'
import { ConflictError, type Client, type ClientPatch, type ClientStore, type NewClient, type Page } from '../types.js'
import type { Clock } from '../../clock.js'
import { clientPatchColumns, registrationColumn, toClient } from '../rows.js'
import { updateRow } from './update.js'
import { onlyRow, pageValues, type Db } from './db.js'
import { isUniqueViolation } from './errors.js'
import { assertNoNul, hasNul } from './nul.js'

export class PostgresClientStore implements ClientStore {
  readonly #db: Db
  readonly #clock: Clock

  constructor (db: Db, clock: Clock) {
    this.#db = db
    this.#clock = clock
  }

  async create (c: NewClient): Promise<Client> {
    assertNoNul(c, 'client')
    const now = this.#clock.now()
    try {
      const { rows } = await this.#db.query({
        name: 'gh_clients_insert_v12',
        text: `INSERT INTO clients (id, secret_hash, is_public, grant_types, scope, redirect_uris, generation, created_at, updated_at, post_logout_redirect_uris, skip_consent, providers,
            pkce, id_token_alg, userinfo_alg, backchannel_logout_uri, require_mfa, password_grant_skips_mfa,
            registration, client_name, client_uri, logo_uri, registration_metadata, registration_token_hash, registered_by, exchange_sources, exchange_targets, metadata_document,
            require_par, dpop_bound_access_tokens, jwks, jwks_uri, token_endpoint_auth_method)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33) RETURNING *`,
        values: [c.id, c.secretHash, c.isPublic, JSON.stringify(c.grantTypes), c.scope, JSON.stringify(c.redirectUris), randomUUID(), now, now,
          JSON.stringify(c.postLogoutRedirectUris ?? []), c.skipConsent ?? false, c.providers == null ? null : JSON.stringify(c.providers),
          c.pkce ?? 'required', c.idTokenAlg ?? null, c.userinfoAlg ?? null, c.backchannelLogoutUri ?? null,
          c.requireMfa ?? false, c.passwordGrantSkipsMfa ?? false, registrationColumn(c), c.clientName ?? null, c.clientUri ?? null,
          c.logoUri ?? null, JSON.stringify(c.registrationMetadata ?? {}), c.registrationTokenHash ?? null, c.registeredBy ?? null,
          JSON.stringify(c.exchangeSources ?? []), JSON.stringify(c.exchangeTargets ?? []), c.registration === 'cimd',
          c.requirePar ?? false, c.dpopBoundAccessTokens ?? false,
          c.jwks == null ? null : JSON.stringify(c.jwks), c.jwksUri ?? null, c.tokenEndpointAuthMethod ?? null]
      })
      return toClient(onlyRow(rows))
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`client ${c.id} already exists`)
      throw err
    }
  }

  async find (id: string): Promise<Client | undefined> {
    if (hasNul(id)) return undefined
    const { rows } = await this.#db.query({ name: 'gh_clients_find', text: 'SELECT * FROM clients WHERE id = $1', values: [id] })
    return rows[0] && toClient(rows[0])
  }

  async list (page: Page): Promise<Client[]> {
    const { rows } = await this.#db.query({
      name: 'gh_clients_list',
      text: 'SELECT * FROM clients ORDER BY id LIMIT $1 OFFSET $2',
      values: pageValues(page)
    })
    return rows.map(toClient)
  }

  async update (id: string, patch: ClientPatch): Promise<Client | undefined> {
    if (hasNul(id)) return undefined
    // Checked before clientPatchColumns: JSON.stringify turns a NUL into the escape `\u0000`, which jsonb refuses too.
    assertNoNul(patch, 'client patch')
    const row = await updateRow(this.#db, 'clients', ['id', id], clientPatchColumns(patch), this.#clock.now())
    return row && toClient(row)
  }

  async delete (id: string): Promise<Client | undefined> {
    if (hasNul(id)) return undefined
    const { rows } = await this.#db.query({ name: 'gh_clients_delete', text: 'DELETE FROM clients WHERE id = $1 RETURNING *', values: [id] })
    return rows[0] && toClient(rows[0])
  }

  async publicRedirectUris (): Promise<string[]> {
    const { rows } = await this.#db.query({
      name: 'gh_clients_public_redirects',
      text: 'SELECT DISTINCT jsonb_array_elements_text(redirect_uris) AS uri FROM clients WHERE is_public'
    })
    return rows.map((r) => String(r.uri))
  }

  async markUsed (id: string, now: number): Promise<void> {
    if (hasNul(id)) return
    await this.#db.query({ name: 'gh_clients_mark_used', text: 'UPDATE clients SET first_used_at = $1 WHERE id = $2 AND first_used_at IS NULL', values: [now, id] })
  }

  async purgeUnusedRegistrations (createdBefore: number): Promise<number> {
    const { rowCount } = await this.#db.query({
      name: 'gh_clients_purge_unused_v2',
      text: "DELETE FROM clients WHERE (registration = 'open' OR metadata_document) AND first_used_at IS NULL AND created_at < $1",
      values: [createdBefore]
    })
    return rowCount ?? 0
  }

  async scopeLists (): Promise<string[]> {
    const { rows } = await this.#db.query({ name: 'gh_clients_scopes_v3', text: "SELECT DISTINCT scope FROM clients WHERE scope IS NOT NULL AND scope <> '' AND registration IS NULL AND NOT metadata_document" })
    return rows.map((r) => String(r.scope))
  }
}

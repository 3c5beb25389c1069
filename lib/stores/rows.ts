import { randomUUID } from 'node:crypto'
import type { SigningAlg } from '../../schemas/vocabulary.js'
import type { AccountLink, FactorKind, UserFactor, AccountLinkPurpose, Client, OutboxMessage, ClientPatch, NewClient, GrantType, Grant, Identity, ImportedUser, ProviderClaims, ProviderPatch, RefreshToken, RequestedClaims, RegistrationToken, Resource, SigningKey, UpstreamProvider, UpstreamTransaction, PasskeyChallenge, PasskeyCeremony, User, UserClaims, UserPatch, DeviceCode, DeviceCodeStatus, PushedParameters, PushedRequest, PushedRequestState, TokenEndpointAuthMethod, StoredSecurityEvent } from './types.js'

/**
 * Row ⇄ entity mapping shared by both backends: the column names are the same, and the few type
 * differences (SQLite 0/1 vs boolean, JSON text vs jsonb, bigint strings) are absorbed here.
 */
export type Row = Record<string, unknown>

export const num = (v: unknown): number => typeof v === 'number' ? v : Number(v)
export const numOrNull = (v: unknown): number | null => v === null || v === undefined ? null : num(v)
export const strOrNull = (v: unknown): string | null => v === null || v === undefined ? null : String(v)
/** A JSON column: text on SQLite, already parsed by pg on PostgreSQL (json, jsonb). */
export const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T
/** A nullable JSON column: `fallback` for NULL. */
export const jsonOr = <T>(v: unknown, fallback: T): T => v === null || v === undefined ? fallback : json<T>(v)
const list = <T>(v: unknown): T[] => json<T[]>(v)

export const toUser = (r: Row): User => ({
  id: String(r.id),
  username: String(r.username),
  fullName: strOrNull(r.full_name),
  email: strOrNull(r.email),
  emailVerified: Boolean(r.email_verified),
  disabled: Boolean(r.disabled),
  scope: String(r.scope ?? ''),
  passwordHash: strOrNull(r.password_hash),
  credentialVersion: num(r.credential_version ?? 0),
  createdBy: strOrNull(r.created_by),
  claims: withoutEmailVerified(jsonOr<UserClaims>(r.claims, {})),
  createdAt: num(r.created_at),
  updatedAt: num(r.updated_at)
})

export const toClient = (r: Row): Client => ({
  id: String(r.id),
  secretHash: strOrNull(r.secret_hash),
  isPublic: Boolean(r.is_public),
  grantTypes: list<GrantType>(r.grant_types),
  scope: strOrNull(r.scope),
  redirectUris: list<string>(r.redirect_uris),
  generation: strOrNull(r.generation),
  postLogoutRedirectUris: r.post_logout_redirect_uris === undefined ? [] : list<string>(r.post_logout_redirect_uris),
  skipConsent: Boolean(r.skip_consent),
  providers: r.providers === null || r.providers === undefined ? null : list<string>(r.providers),
  pkce: r.pkce === 'optional' && !r.is_public ? 'optional' : 'required',
  idTokenAlg: strOrNull(r.id_token_alg) as SigningAlg | null,
  userinfoAlg: strOrNull(r.userinfo_alg) as SigningAlg | null,
  backchannelLogoutUri: strOrNull(r.backchannel_logout_uri),
  requireMfa: Boolean(r.require_mfa),
  passwordGrantSkipsMfa: Boolean(r.password_grant_skips_mfa),
  requirePar: Boolean(r.require_par),
  registration: r.metadata_document === true || r.metadata_document === 1 ? 'cimd' : r.registration === 'open' || r.registration === 'token' ? r.registration : null,
  clientName: strOrNull(r.client_name),
  clientUri: strOrNull(r.client_uri),
  logoUri: strOrNull(r.logo_uri),
  registrationMetadata: jsonOr<Record<string, unknown>>(r.registration_metadata, {}),
  registrationTokenHash: strOrNull(r.registration_token_hash),
  registeredBy: strOrNull(r.registered_by),
  firstUsedAt: numOrNull(r.first_used_at),
  exchangeSources: r.exchange_sources === undefined || r.exchange_sources === null ? [] : list<string>(r.exchange_sources),
  exchangeTargets: r.exchange_targets === undefined || r.exchange_targets === null ? [] : list<string>(r.exchange_targets),
  dpopBoundAccessTokens: Boolean(r.dpop_bound_access_tokens),
  jwks: r.jwks === undefined || r.jwks === null ? null : jsonOr<{ keys: Array<Record<string, unknown>> } | null>(r.jwks, null),
  jwksUri: strOrNull(r.jwks_uri),
  tokenEndpointAuthMethod: strOrNull(r.token_endpoint_auth_method) as TokenEndpointAuthMethod | null,
  createdAt: num(r.created_at),
  updatedAt: num(r.updated_at)
})

export const toRegistrationToken = (r: Row): RegistrationToken => ({
  id: String(r.id),
  digest: String(r.digest),
  expiresAt: numOrNull(r.expires_at),
  maxUses: numOrNull(r.max_uses),
  uses: num(r.uses),
  createdAt: num(r.created_at)
})

export const toGrant = (r: Row): Grant => ({
  id: String(r.id),
  clientId: String(r.client_id),
  userId: String(r.user_id),
  scope: String(r.scope),
  claims: requestedClaimsOf(r.claims),
  credentialVersion: num(r.credential_version ?? 0),
  resources: resourcesOf(r.resources),
  dpopJkt: strOrNull(r.dpop_jkt),
  createdAt: num(r.created_at),
  expiresAt: num(r.expires_at),
  revokedAt: numOrNull(r.revoked_at)
})

/** The `resources` column of grants and authorization codes: space-separated URIs (RFC 8707 §2: a URI has no space), '' for none. */
export const resourcesOf = (v: unknown): string[] => typeof v === 'string' && v !== '' ? v.split(' ') : []
export const resourcesColumn = (resources: readonly string[] | undefined): string => (resources ?? []).join(' ')

export const toResource = (r: Row): Resource => ({
  uri: String(r.uri),
  name: strOrNull(r.name),
  scope: String(r.scope ?? ''),
  createdAt: num(r.created_at)
})

/** The `claims` column of grants and authorization codes (JSON text): null when the request had no `claims` parameter. */
export const requestedClaimsOf = (v: unknown): RequestedClaims | null => jsonOr<RequestedClaims | null>(v, null)
export const requestedClaimsColumn = (claims: RequestedClaims | null | undefined): string | null =>
  claims === null || claims === undefined ? null : JSON.stringify(claims)
/** The users.claims column (JSON text), without `email_verified`: that is the email_verified column's. */
export const userClaimsColumn = (claims: UserClaims | undefined): string => JSON.stringify(withoutEmailVerified(claims ?? {}))
function withoutEmailVerified (claims: UserClaims): UserClaims {
  if (!('email_verified' in claims)) return claims
  const { email_verified: _, ...rest } = claims
  return rest
}
/** The users.email_verified column of a new user: said outright, or inside the claims an administrator or an import gave. */
export const emailVerifiedColumn = (user: { emailVerified?: boolean, claims?: UserClaims }): boolean =>
  user.emailVerified ?? user.claims?.email_verified === true

export const toRefreshToken = (r: Row): RefreshToken => ({
  hash: String(r.hash),
  grantId: String(r.grant_id),
  scope: String(r.scope),
  issuedAt: num(r.issued_at),
  expiresAt: num(r.expires_at),
  consumedAt: numOrNull(r.consumed_at)
})

export const toSigningKey = (r: Row): SigningKey => ({
  kid: String(r.kid),
  seq: num(r.seq),
  alg: String(r.alg) as SigningKey['alg'],
  privateKey: strOrNull(r.private_key),
  publicJwk: String(r.public_jwk),
  createdAt: num(r.created_at),
  activatesAt: num(r.activates_at)
})

/**
 * A refresh token with its grant in one statement (one snapshot), shared by both backends; append the
 * placeholder for the hash (`?` or `$1`).
 */
export const SELECT_TOKEN_WITH_GRANT = `SELECT t.*, g.client_id, g.user_id, g.scope AS grant_scope, g.claims AS grant_claims, g.resources AS grant_resources, g.dpop_jkt AS grant_dpop_jkt, g.credential_version, g.created_at AS grant_created_at,
    g.expires_at AS grant_expires_at, g.revoked_at AS grant_revoked_at
  FROM refresh_tokens t JOIN grants g ON g.id = t.grant_id WHERE t.hash = `

export const toTokenWithGrant = (r: Row): { token: RefreshToken, grant: Grant } => ({
  token: toRefreshToken(r),
  grant: toGrant({
    id: r.grant_id,
    client_id: r.client_id,
    user_id: r.user_id,
    scope: r.grant_scope,
    claims: r.grant_claims,
    resources: r.grant_resources,
    dpop_jkt: r.grant_dpop_jkt,
    credential_version: r.credential_version,
    created_at: r.grant_created_at,
    expires_at: r.grant_expires_at,
    revoked_at: r.grant_revoked_at
  })
})

/**
 * Whether a user patch must end the user's sessions: a new password, or disabling (re-enabling must not bring
 * them back). The one home of that rule: the stores bump `credential_version` in the same UPDATE (so a sign-in
 * read before it cannot create a grant after it), and the services revoke the grants already made.
 */
export function endsSessions (patch: UserPatch): boolean {
  return patch.passwordHash !== undefined || patch.disabled === true
}

/** The column that counts those changes; both backends' UPDATE increments it when `endsSessions`. */
export const CREDENTIAL_VERSION_COLUMN = 'credential_version'

/** The column values for a user patch, in a fixed order; both backends build their UPDATE from this. */
export function userPatchColumns (patch: UserPatch): Array<[string, unknown]> {
  const columns: Array<[string, unknown]> = []
  if (patch.fullName !== undefined) columns.push(['full_name', patch.fullName])
  if (patch.email !== undefined) columns.push(['email', patch.email])
  if (patch.scope !== undefined) columns.push(['scope', patch.scope])
  if (patch.disabled !== undefined) columns.push(['disabled', patch.disabled])
  if (patch.passwordHash !== undefined) columns.push(['password_hash', patch.passwordHash])
  if (patch.claims !== undefined) columns.push(['claims', userClaimsColumn(patch.claims)])
  if (patch.emailVerified !== undefined || patch.claims !== undefined) columns.push(['email_verified', emailVerifiedColumn(patch)])
  return columns
}

/**
 * The registration column of a new client: `open`, `token` or NULL. A document client (`cimd`) is NULL there and
 * marked by the metadata_document flag instead (the column's CHECK predates it: see the migrations).
 */
export const registrationColumn = (c: NewClient): 'open' | 'token' | null =>
  c.registration === 'open' || c.registration === 'token' ? c.registration : null

export function clientPatchColumns (patch: ClientPatch): Array<[string, unknown]> {
  const columns: Array<[string, unknown]> = []
  if (patch.grantTypes !== undefined) columns.push(['grant_types', JSON.stringify(patch.grantTypes)])
  if (patch.scope !== undefined) columns.push(['scope', patch.scope])
  if (patch.redirectUris !== undefined) columns.push(['redirect_uris', JSON.stringify(patch.redirectUris)])
  if (patch.secretHash !== undefined) columns.push(['secret_hash', patch.secretHash])
  if (patch.postLogoutRedirectUris !== undefined) columns.push(['post_logout_redirect_uris', JSON.stringify(patch.postLogoutRedirectUris)])
  if (patch.skipConsent !== undefined) columns.push(['skip_consent', patch.skipConsent])
  if (patch.providers !== undefined) columns.push(['providers', patch.providers === null ? null : JSON.stringify(patch.providers)])
  if (patch.pkce !== undefined) columns.push(['pkce', patch.pkce])
  if (patch.idTokenAlg !== undefined) columns.push(['id_token_alg', patch.idTokenAlg])
  if (patch.userinfoAlg !== undefined) columns.push(['userinfo_alg', patch.userinfoAlg])
  if (patch.backchannelLogoutUri !== undefined) columns.push(['backchannel_logout_uri', patch.backchannelLogoutUri])
  if (patch.requireMfa !== undefined) columns.push(['require_mfa', patch.requireMfa])
  if (patch.passwordGrantSkipsMfa !== undefined) columns.push(['password_grant_skips_mfa', patch.passwordGrantSkipsMfa])
  if (patch.requirePar !== undefined) columns.push(['require_par', patch.requirePar])
  if (patch.clientName !== undefined) columns.push(['client_name', patch.clientName])
  if (patch.clientUri !== undefined) columns.push(['client_uri', patch.clientUri])
  if (patch.logoUri !== undefined) columns.push(['logo_uri', patch.logoUri])
  if (patch.registrationMetadata !== undefined) columns.push(['registration_metadata', JSON.stringify(patch.registrationMetadata)])
  if (patch.registrationTokenHash !== undefined) columns.push(['registration_token_hash', patch.registrationTokenHash])
  if (patch.exchangeSources !== undefined) columns.push(['exchange_sources', JSON.stringify(patch.exchangeSources)])
  if (patch.exchangeTargets !== undefined) columns.push(['exchange_targets', JSON.stringify(patch.exchangeTargets)])
  if (patch.dpopBoundAccessTokens !== undefined) columns.push(['dpop_bound_access_tokens', patch.dpopBoundAccessTokens])
  if (patch.jwks !== undefined) columns.push(['jwks', patch.jwks === null ? null : JSON.stringify(patch.jwks)])
  if (patch.jwksUri !== undefined) columns.push(['jwks_uri', patch.jwksUri])
  if (patch.tokenEndpointAuthMethod !== undefined) columns.push(['token_endpoint_auth_method', patch.tokenEndpointAuthMethod])
  return columns
}

export const toProvider = (r: Row): UpstreamProvider => ({
  name: String(r.name),
  issuer: String(r.issuer),
  clientId: String(r.client_id),
  clientSecret: String(r.client_secret),
  scope: String(r.scope),
  displayName: String(r.display_name),
  linkByEmail: Boolean(r.link_by_email),
  linkLinkedAccounts: Boolean(r.link_linked_accounts),
  createUsers: Boolean(r.create_users),
  authorizationEndpoint: strOrNull(r.authorization_endpoint),
  tokenEndpoint: strOrNull(r.token_endpoint),
  userinfoEndpoint: strOrNull(r.userinfo_endpoint),
  claims: json<ProviderClaims>(r.claims),
  createdAt: num(r.created_at),
  updatedAt: num(r.updated_at)
})

/** The column values of a provider patch (both backends build their UPDATE from this; booleans as the backend wants them). */
export function providerPatchColumns (patch: ProviderPatch): Array<[string, unknown]> {
  const columns: Array<[string, unknown]> = []
  const set = (column: string, value: unknown) => { if (value !== undefined) columns.push([column, value]) }
  set('issuer', patch.issuer)
  set('client_id', patch.clientId)
  set('client_secret', patch.clientSecret)
  set('scope', patch.scope)
  set('display_name', patch.displayName)
  set('link_by_email', patch.linkByEmail)
  set('link_linked_accounts', patch.linkLinkedAccounts)
  set('create_users', patch.createUsers)
  set('authorization_endpoint', patch.authorizationEndpoint)
  set('token_endpoint', patch.tokenEndpoint)
  set('userinfo_endpoint', patch.userinfoEndpoint)
  set('claims', patch.claims === undefined ? undefined : JSON.stringify(patch.claims))
  return columns
}

export const toIdentity = (r: Row): Identity => ({
  provider: String(r.provider),
  issuer: String(r.issuer),
  subject: String(r.subject),
  userId: String(r.user_id),
  email: strOrNull(r.email),
  linkedAt: num(r.linked_at)
})

export const toPasskeyChallenge = (r: Row): PasskeyChallenge => ({
  idHash: String(r.id_hash),
  bindingHash: String(r.binding_hash),
  ceremony: String(r.ceremony) as PasskeyCeremony,
  userId: strOrNull(r.user_id),
  createdAt: num(r.created_at),
  expiresAt: num(r.expires_at)
})

export const toUpstreamTransaction = (r: Row): UpstreamTransaction => ({
  idHash: String(r.id_hash),
  bindingHash: String(r.binding_hash),
  provider: String(r.provider),
  nonce: String(r.nonce),
  codeVerifier: String(r.code_verifier),
  returnTo: strOrNull(r.return_to),
  createdAt: num(r.created_at),
  expiresAt: num(r.expires_at)
})

/**
 * What importing `incoming` over the stored user changes (both backends' `importBatch` with `update`):
 * the fields it names that differ, and whether that must end the user's sessions (a new password, or
 * disabled), as the admin API's update does. Undefined when nothing differs.
 */
export function importChanges (stored: User, incoming: ImportedUser): { patch: UserPatch, revoke: boolean } | undefined {
  const patch: UserPatch = {}
  if (incoming.passwordHash !== stored.passwordHash) patch.passwordHash = incoming.passwordHash
  if (incoming.fullName !== undefined && incoming.fullName !== stored.fullName) patch.fullName = incoming.fullName
  if (incoming.email !== undefined && incoming.email !== stored.email) patch.email = incoming.email
  if (incoming.scope !== undefined && incoming.scope !== stored.scope) patch.scope = incoming.scope
  if (incoming.disabled !== undefined && incoming.disabled !== stored.disabled) patch.disabled = incoming.disabled
  if (incoming.claims !== undefined && userClaimsColumn(incoming.claims) !== userClaimsColumn(stored.claims)) patch.claims = incoming.claims
  // The imported claims say whether the address is verified; without them a changed address is not, an unchanged one stays.
  const verified = incoming.claims !== undefined ? emailVerifiedColumn(incoming) : (patch.email !== undefined ? false : stored.emailVerified)
  if (verified !== stored.emailVerified) patch.emailVerified = verified
  if (Object.keys(patch).length === 0) return undefined
  return { patch, revoke: endsSessions(patch) }
}

/**
 * A time-ordered UUID (version 7, RFC 9562 §5.7: 48 bits of unix milliseconds, then random bits) for users
 * an import creates. Random (v4) ids land on random pages of the primary-key index, and with a million users
 * each batch's commit rewrote most of that index (measured on SQLite: twice the CPU at 300,000 users, and
 * growing); v7 ids of one batch share their prefix and append to its last pages. A `sub` is no secret, and
 * it tells no more than the creation time the row holds anyway.
 */
export function timeOrderedId (nowMs: number): string {
  const time = Math.floor(nowMs).toString(16).padStart(12, '0').slice(-12)
  // randomUUID's "xxxxxxxx-xxxx-4xxx-yxxx-…": keep its random tail (and variant bits) after the version digit.
  return `${time.slice(0, 8)}-${time.slice(8)}-7${randomUUID().slice(15)}`
}

export const toAccountLink = (r: Row): AccountLink => ({
  id: String(r.id),
  tokenHash: String(r.token_hash),
  purpose: String(r.purpose) as AccountLinkPurpose,
  userId: strOrNull(r.user_id),
  email: strOrNull(r.email),
  scope: strOrNull(r.scope),
  data: jsonOr<Record<string, unknown> | null>(r.data, null),
  createdAt: num(r.created_at),
  expiresAt: num(r.expires_at),
  usedAt: numOrNull(r.used_at)
})

/** An outbox row (its payload JSON: text on SQLite, jsonb on PostgreSQL). */
export const toOutboxMessage = (r: Row): OutboxMessage => ({
  id: String(r.id),
  kind: String(r.kind),
  payload: json<unknown>(r.payload),
  attempts: num(r.attempts),
  createdAt: num(r.created_at),
  lastError: strOrNull(r.last_error)
})

/** A user_factors row (data JSON: text on SQLite, jsonb on PostgreSQL). */
export const toUserFactor = (r: Row): UserFactor => ({
  id: String(r.id),
  userId: String(r.user_id),
  kind: String(r.kind) as FactorKind,
  name: String(r.name),
  secret: strOrNull(r.secret),
  credentialId: strOrNull(r.credential_id),
  publicKey: strOrNull(r.public_key),
  counter: num(r.counter ?? 0),
  data: jsonOr<Record<string, unknown> | null>(r.data, null),
  lastStep: numOrNull(r.last_step),
  createdAt: num(r.created_at),
  confirmedAt: numOrNull(r.confirmed_at),
  lastUsedAt: numOrNull(r.last_used_at)
})

export const toDeviceCode = (r: Row): DeviceCode => ({
  hash: String(r.hash),
  userCode: String(r.user_code),
  clientId: String(r.client_id),
  scope: String(r.scope),
  resources: jsonOr<string[]>(r.resources, []),
  status: String(r.status) as DeviceCodeStatus,
  approval: r.user_id === null || r.user_id === undefined
    ? null
    : {
        userId: String(r.user_id),
        scope: String(r.granted_scope ?? ''),
        authTime: num(r.auth_time),
        amr: jsonOr<string[]>(r.amr, []),
        sid: strOrNull(r.sid),
        credentialVersion: num(r.credential_version)
      },
  interval: num(r.poll_interval),
  lastPollAt: numOrNull(r.last_poll_at),
  createdAt: num(r.created_at),
  expiresAt: num(r.expires_at)
})

export const toPushedRequest = (r: Row): PushedRequest => ({
  hash: String(r.hash),
  clientId: String(r.client_id),
  parameters: json<PushedParameters>(r.parameters),
  state: String(r.state) as PushedRequestState,
  createdAt: num(r.created_at),
  startedAt: numOrNull(r.started_at),
  expiresAt: num(r.expires_at)
})

/** A stored row as the store's callers see it (details parsed back). */
export function toStoredSecurityEvent (row: Record<string, unknown>): StoredSecurityEvent {
  const text = (v: unknown): string | null => v === null || v === undefined ? null : String(v)
  return {
    id: Number(row.id),
    at: Number(row.at),
    type: String(row.type),
    user: text(row.user),
    clientId: text(row.client_id),
    actor: text(row.actor),
    target: text(row.target),
    ip: text(row.ip),
    details: (typeof row.details === 'string' ? JSON.parse(row.details) : row.details ?? {}) as Record<string, unknown>
  }
}

import type { Client, GrantType, Grant, RefreshToken, SigningKey, User } from './types.js'

/**
 * Row ⇄ entity mapping shared by both backends: the column names are the same, and the few type
 * differences (SQLite 0/1 vs boolean, JSON text vs jsonb, bigint strings) are absorbed here.
 */
type Row = Record<string, unknown>

const num = (v: unknown): number => typeof v === 'number' ? v : Number(v)
const numOrNull = (v: unknown): number | null => v === null || v === undefined ? null : num(v)
const strOrNull = (v: unknown): string | null => v === null || v === undefined ? null : String(v)
const list = <T>(v: unknown): T[] => (typeof v === 'string' ? JSON.parse(v) : v) as T[]

export const toUser = (r: Row): User => ({
  id: String(r.id),
  username: String(r.username),
  fullName: strOrNull(r.full_name),
  email: strOrNull(r.email),
  disabled: Boolean(r.disabled),
  scope: String(r.scope ?? ''),
  passwordHash: strOrNull(r.password_hash),
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
  createdAt: num(r.created_at),
  updatedAt: num(r.updated_at)
})

export const toGrant = (r: Row): Grant => ({
  id: String(r.id),
  clientId: String(r.client_id),
  userId: String(r.user_id),
  scope: String(r.scope),
  createdAt: num(r.created_at),
  expiresAt: num(r.expires_at),
  revokedAt: numOrNull(r.revoked_at)
})

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
export const SELECT_TOKEN_WITH_GRANT = `SELECT t.*, g.client_id, g.user_id, g.scope AS grant_scope, g.created_at AS grant_created_at,
    g.expires_at AS grant_expires_at, g.revoked_at AS grant_revoked_at
  FROM refresh_tokens t JOIN grants g ON g.id = t.grant_id WHERE t.hash = `

export const toTokenWithGrant = (r: Row): { token: RefreshToken, grant: Grant } => ({
  token: toRefreshToken(r),
  grant: toGrant({
    id: r.grant_id,
    client_id: r.client_id,
    user_id: r.user_id,
    scope: r.grant_scope,
    created_at: r.grant_created_at,
    expires_at: r.grant_expires_at,
    revoked_at: r.grant_revoked_at
  })
})

/** The column values for a user patch, in a fixed order; both backends build their UPDATE from this. */
export function userPatchColumns (patch: Partial<Pick<User, 'fullName' | 'email' | 'scope' | 'disabled' | 'passwordHash'>>): Array<[string, unknown]> {
  const columns: Array<[string, unknown]> = []
  if (patch.fullName !== undefined) columns.push(['full_name', patch.fullName])
  if (patch.email !== undefined) columns.push(['email', patch.email])
  if (patch.scope !== undefined) columns.push(['scope', patch.scope])
  if (patch.disabled !== undefined) columns.push(['disabled', patch.disabled])
  if (patch.passwordHash !== undefined) columns.push(['password_hash', patch.passwordHash])
  return columns
}

export function clientPatchColumns (patch: Partial<Pick<Client, 'grantTypes' | 'scope' | 'redirectUris' | 'secretHash'>>): Array<[string, unknown]> {
  const columns: Array<[string, unknown]> = []
  if (patch.grantTypes !== undefined) columns.push(['grant_types', JSON.stringify(patch.grantTypes)])
  if (patch.scope !== undefined) columns.push(['scope', patch.scope])
  if (patch.redirectUris !== undefined) columns.push(['redirect_uris', JSON.stringify(patch.redirectUris)])
  if (patch.secretHash !== undefined) columns.push(['secret_hash', patch.secretHash])
  return columns
}

import type { Clock } from '../clock.js'
import type { Storage } from '../stores/types.js'
import type { AccessTokens } from './access-tokens.js'
import { lookUpToken } from './token-lookup.js'
import { tokenStanding } from './token-standing.js'

/** RFC 7662 §2.2: what an inactive token is answered with, and nothing else. */
export const INACTIVE = Object.freeze({ active: false as const })

export interface Introspection {
  active: boolean
  scope?: string
  client_id?: string
  username?: string
  token_type?: string
  exp?: number
  iat?: number
  sub?: string
  aud?: string
  iss?: string
  jti?: string
}

export interface IntrospectionDeps {
  storage: Storage
  accessTokens: AccessTokens
  clock: Clock
  issuer: string
}

/**
 * RFC 7662 for resource servers: any access token whose signature, claims and standing hold is active (for
 * any caller); a refresh token only for the client it was issued to, while it is unspent, unexpired, its
 * family unrevoked and its user enabled. Everything else is INACTIVE.
 */
export async function introspect (token: string, hint: string | undefined, callerId: string, deps: IntrospectionDeps): Promise<Introspection> {
  const { storage } = deps
  const found = await lookUpToken(token, hint, deps.accessTokens, storage)

  if (found?.kind === 'access_token') {
    const standing = await tokenStanding(found.claims, storage)
    if (!standing) return INACTIVE
    const { iss, sub, aud, exp, iat, jti, client_id: clientId, scope } = found.claims
    return { active: true, scope, client_id: clientId, username: standing.user?.username, token_type: 'Bearer', exp, iat, sub, aud, iss, jti }
  }
  if (found?.kind === 'refresh_token') {
    const { token: refresh, grant } = found
    const now = deps.clock.now()
    const live = refresh.consumedAt === null && grant.revokedAt === null && refresh.expiresAt > now && grant.expiresAt > now
    if (!live || grant.clientId !== callerId) return INACTIVE
    const user = await storage.users.findById(grant.userId)
    if (!user || user.disabled) return INACTIVE
    return { active: true, scope: grant.scope || undefined, client_id: grant.clientId, username: user.username, token_type: 'refresh_token', exp: refresh.expiresAt, iat: refresh.issuedAt, sub: user.id, iss: deps.issuer }
  }
  return INACTIVE
}

import { digest } from '../credentials/digest.js'
import type { Grant, RefreshToken, Storage } from '../stores/types.js'
import type { AccessTokenClaims } from './access-token-rules.js'
import { InvalidAccessToken, type AccessTokens } from './access-tokens.js'

export type PresentedToken =
  | { kind: 'access_token', claims: AccessTokenClaims }
  | { kind: 'refresh_token', token: RefreshToken, grant: Grant }
  | undefined

const JWS_COMPACT = /^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{2,}$/

/**
 * Is `token` a well-formed compact JWS (RFC 7515 §7.1: three base64url parts, a JSON object header naming
 * an `alg`), whatever its signature, key or claims? Such a token cannot be a refresh token (those are 43
 * base64url characters, no dots), and one that does not verify is a real token gone stale (expired, its key
 * dropped) or a forgery, never a guess that could hit: a signature cannot be guessed.
 */
export function isWellFormedJws (token: string): boolean {
  if (!JWS_COMPACT.test(token)) return false
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8'))
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && typeof (parsed as { alg?: unknown }).alg === 'string'
  } catch {
    return false
  }
}

/**
 * Identifies a token presented to /revoke or /introspect. The hint only decides which kind is tried
 * first (RFC 7009 §2.1: the server must still find a token the hint mislabels).
 */
export async function lookUpToken (token: string, hint: string | undefined, accessTokens: AccessTokens, storage: Storage): Promise<PresentedToken> {
  const asAccess = (): PresentedToken => {
    try {
      return { kind: 'access_token', claims: accessTokens.verifyAnyAudience(token) }
    } catch (err) {
      if (err instanceof InvalidAccessToken) return undefined
      throw err
    }
  }
  const asRefresh = async (): Promise<PresentedToken> => {
    // A JWS is never a refresh token: no database lookup for it (nor for floods of forged ones).
    if (token.includes('.')) return undefined
    const found = await storage.grants.findToken(digest(token))
    return found && { kind: 'refresh_token', ...found }
  }
  if (hint === 'refresh_token') return (await asRefresh()) ?? asAccess()
  return asAccess() ?? await asRefresh()
}

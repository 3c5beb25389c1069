import type { Grant, RefreshToken, Storage } from '../stores/types.js'
import { InvalidAccessToken, type AccessTokenClaims, type AccessTokens } from './access-tokens.js'
import { hashRefreshToken } from './refresh-tokens.js'

export type PresentedToken =
  | { kind: 'access_token', claims: AccessTokenClaims }
  | { kind: 'refresh_token', token: RefreshToken, grant: Grant }
  | undefined

/**
 * Identifies a token presented to /revoke or /introspect. The hint only decides which kind is tried
 * first (RFC 7009 §2.1: the server must still find a token the hint mislabels).
 */
export async function lookUpToken (token: string, hint: string | undefined, accessTokens: AccessTokens, storage: Storage): Promise<PresentedToken> {
  const asAccess = (): PresentedToken => {
    try {
      return { kind: 'access_token', claims: accessTokens.verify(token) }
    } catch (err) {
      if (err instanceof InvalidAccessToken) return undefined
      throw err
    }
  }
  const asRefresh = async (): Promise<PresentedToken> => {
    const found = await storage.grants.findToken(hashRefreshToken(token))
    return found && { kind: 'refresh_token', ...found }
  }
  if (hint === 'refresh_token') return (await asRefresh()) ?? asAccess()
  return asAccess() ?? await asRefresh()
}

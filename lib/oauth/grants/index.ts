import { invalidRequest, unsupportedGrantType } from '../../errors.js'
import type { TokenRequestBody } from '../../../schemas/token.js'
import type { GrantHandler } from './types.js'
import { passwordGrant } from './password.js'
import { clientCredentialsGrant } from './client-credentials.js'
import { refreshTokenGrant } from './refresh-token.js'
import { authorizationCodeGrant } from './authorization-code.js'

/** Grant types this server implements, by `grant_type`. Discovery metadata lists exactly these. */
export const grantHandlers: ReadonlyMap<string, GrantHandler> = new Map(
  [passwordGrant, clientCredentialsGrant, refreshTokenGrant, authorizationCodeGrant].map((g) => [g.grantType, g])
)

/**
 * The grant a token request asks for (RFC 6749 §5.2: missing is invalid_request, unknown is
 * unsupported_grant_type). The FastAPI tutorial's clients post only username and password (its
 * OAuth2PasswordRequestForm makes grant_type optional); Gatehouse serves them the same way.
 */
export function selectGrant (body: TokenRequestBody): GrantHandler {
  const grantType = body.grant_type ?? (body.username !== undefined && body.password !== undefined ? 'password' : undefined)
  if (grantType === undefined) throw invalidRequest('missing parameter: grant_type')
  const grant = grantHandlers.get(grantType)
  if (!grant) throw unsupportedGrantType(`unsupported grant_type: ${grantType.slice(0, 64)}`)
  return grant
}

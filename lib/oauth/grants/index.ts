import type { GrantHandler } from './types.js'
import { passwordGrant } from './password.js'
import { clientCredentialsGrant } from './client-credentials.js'
import { refreshTokenGrant } from './refresh-token.js'

/** Grant types this server implements, by `grant_type`. Discovery metadata lists exactly these. */
export const grantHandlers: ReadonlyMap<string, GrantHandler> = new Map(
  [passwordGrant, clientCredentialsGrant, refreshTokenGrant].map((g) => [g.grantType, g])
)

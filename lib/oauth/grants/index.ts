import { invalidRequest, unauthorizedClient, unsupportedGrantType } from '../../errors.js'
import type { TokenRequestBody } from '../../../schemas/token.js'
import type { GrantType } from '../../stores/types.js'
import type { TokenReply } from '../token-issuer.js'
import type { Grant, GrantDeps, GrantRequest, TokenParameter } from './types.js'
import { passwordGrant } from './password.js'
import { clientCredentialsGrant } from './client-credentials.js'
import { refreshTokenGrant } from './refresh-token.js'
import { authorizationCodeGrant } from './authorization-code.js'
import { deviceCodeGrant } from './device-code.js'
import { tokenExchangeGrant } from './token-exchange.js'

const GRANTS: readonly Grant[] = [passwordGrant, clientCredentialsGrant, refreshTokenGrant, authorizationCodeGrant, deviceCodeGrant, tokenExchangeGrant]

/** Grant types this server implements, by `grant_type`. Discovery metadata lists exactly these. */
export const GRANT_TYPES: readonly GrantType[] = GRANTS.map((g) => g.grantType)

/** A grant as the token endpoint uses it: built with its dependencies, its parameters checked before it runs. */
export interface BuiltGrant {
  grantType: GrantType
  allowsAnonymous: boolean
  handle (request: GrantRequest): Promise<TokenReply>
}

export interface Grants {
  /**
   * The grant a token request asks for (RFC 6749 §5.2: missing is invalid_request, unknown is
   * unsupported_grant_type). The FastAPI tutorial's clients post only username and password (its
   * OAuth2PasswordRequestForm makes grant_type optional); Gatehouse serves them the same way.
   */
  select (body: TokenRequestBody): BuiltGrant
}

/** Builds every grant once (at startup) with what it needs; a request then brings only itself. */
export function createGrants (deps: GrantDeps): Grants {
  const grants = new Map(GRANTS.map((grant) => [grant.grantType as string, build(grant, deps)]))
  return {
    select (body) {
      const grantType = body.grant_type ?? (body.username !== undefined && body.password !== undefined ? 'password' : undefined)
      if (grantType === undefined) throw invalidRequest('missing parameter: grant_type')
      const grant = grants.get(grantType)
      if (!grant) throw unsupportedGrantType(`unsupported grant_type: ${grantType.slice(0, 64)}`)
      return grant
    }
  }
}

/** The grant bound to its dependencies: a grant this server refuses (`disabled`) refuses, else its parameters are checked, then it runs. */
function build (grant: Grant, deps: GrantDeps): BuiltGrant {
  const { grantType, allowsAnonymous, parameters } = grant
  const refusal = grant.disabled?.(deps.config)
  if (refusal !== undefined) return { grantType, allowsAnonymous, handle: async () => { throw unauthorizedClient(refusal) } }
  return {
    grantType,
    allowsAnonymous,
    handle (request) {
      for (const name of parameters) {
        if (request.body[name] === undefined) return Promise.reject(invalidRequest(`missing parameter: ${name}`))
      }
      return grant.handle(request as GrantRequest<TokenParameter>, deps)
    }
  }
}

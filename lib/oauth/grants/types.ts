import type { FastifyBaseLogger } from 'fastify'
import type { Clock } from '../../clock.js'
import type { Config } from '../../config.js'
import type { SecurityEvents } from '../../ops/events.js'
import type { PasswordHasher } from '../../credentials/passwords.js'
import type { Throttle } from '../../limits/throttle.js'
import type { Client, GrantType, Storage } from '../../stores/types.js'
import type { TokenRequestBody } from '../../../schemas/token.js'
import type { AccessTokens } from '../access-tokens.js'
import type { TokenIssuer, TokenReply } from '../token-issuer.js'

/** What every grant may use, given once when the grants are built (lib/oauth/grants/index.ts `createGrants`). */
export interface GrantDeps {
  storage: Storage
  passwords: PasswordHasher
  issuer: TokenIssuer
  /** The access-token verifier: token exchange verifies the tokens it is given (lib/oauth/token-exchange.ts). */
  accessTokens: AccessTokens
  throttle: Throttle
  /** Security events (refresh and code reuse, failed and throttled sign-ins): logged on the request's log and counted. */
  events: SecurityEvents
  clock: Clock
  config: Config
}

/** A token request parameter a grant may require. */
export type TokenParameter = Exclude<keyof TokenRequestBody, 'grant_type'>

/** One token request, as the grant sees it: its `parameters` are there (checked before `handle`). */
export interface GrantRequest<P extends TokenParameter = never> {
  body: TokenRequestBody & { [K in P]: string }
  /** The authenticated client (or the built-in default client), allowed to use this grant. */
  client: Client
  /** The caller's address (`request.ip`: the socket's, or behind TRUST_PROXY the forwarded one), for logs and events. */
  clientIp: string
  /** The same address as per-address limits count it (`request.addressKey`: an IPv6 address by its network). */
  addressKey: string
  /** RFC 9449: the thumbprint of the key of the request's DPoP proof (checked by the route); undefined without one. */
  dpopJkt?: string
  log: FastifyBaseLogger
}

/** One grant type (RFC 6749 §4, §6): the token endpoint picks it by `grant_type` and hands over (node-oidc-provider's shape). */
export interface Grant<P extends TokenParameter = TokenParameter> {
  grantType: GrantType
  /** May the request come without any client authentication (then as the built-in default client)? */
  allowsAnonymous: boolean
  /** The parameters the grant requires, in the order they are checked: a missing one is invalid_request (§5.2). */
  parameters: readonly P[]
  /**
   * Why this server refuses the grant for every client (unauthorized_client, §5.2), decided once from the
   * configuration; undefined when it serves it. The grant type stays known (not unsupported_grant_type).
   */
  disabled?: (config: Config) => string | undefined
  handle (request: GrantRequest<P>, deps: GrantDeps): Promise<TokenReply>
}

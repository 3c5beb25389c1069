import type { FastifyBaseLogger } from 'fastify'
import type { Config } from '../../config.js'
import type { SecurityEvents } from '../../ops/events.js'
import type { PasswordHasher } from '../../credentials/passwords.js'
import type { Throttle } from '../../limits/throttle.js'
import type { Client, GrantType, Storage } from '../../stores/types.js'
import type { TokenRequestBody } from '../../../schemas/token.js'
import type { TokenIssuer, TokenReply } from '../token-issuer.js'

export interface GrantContext {
  body: TokenRequestBody
  /** The authenticated client (or the built-in default client). */
  client: Client
  storage: Storage
  passwords: PasswordHasher
  issuer: TokenIssuer
  config: Config
  throttle: Throttle
  /** The caller's address (the socket's; proxies are not trusted). */
  clientIp: string
  log: FastifyBaseLogger
  /** Security events (refresh reuse, failed and throttled sign-ins): logged on `log` and counted. */
  events: SecurityEvents
}

/** One grant type: the token route looks it up by `grant_type` and hands over (node-oidc-provider's shape). */
export interface GrantHandler {
  grantType: GrantType
  /** May the request come without any client authentication (then as the built-in default client)? */
  allowsAnonymous: boolean
  handle (ctx: GrantContext): Promise<TokenReply>
}

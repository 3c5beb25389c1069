import { randomUUID } from 'node:crypto'
import type { Config } from '../config.js'
import type { Grant, Storage } from '../stores/types.js'
import { CLOCK_LEEWAY_SECONDS, type AccessTokens } from './access-tokens.js'
import { generateRefreshToken } from './refresh-tokens.js'

export interface TokenReply {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  scope?: string
  refresh_token?: string
}

export interface IssueOptions {
  /** The token's subject: a user id, or the client id for client_credentials. */
  sub: string
  clientId: string
  scope: string
  /** Start a refresh-token family (a grant) for this user. */
  refreshFor?: { userId: string }
}

/** Issues token replies (RFC 6749 §5.1) and refresh-token families; every grant ends here. */
export class TokenIssuer {
  readonly #storage: Storage
  readonly #accessTokens: AccessTokens
  readonly #config: Config
  readonly #now: () => number

  constructor (deps: { storage: Storage, accessTokens: AccessTokens, config: Config, now: () => number }) {
    this.#storage = deps.storage
    this.#accessTokens = deps.accessTokens
    this.#config = deps.config
    this.#now = deps.now
  }

  /** Until when a grant's access tokens must be refused once it is revoked. */
  revokeOptions (): { now: number, denyUntil: number } {
    const now = this.#now()
    return { now, denyUntil: now + this.#config.accessTokenTtl + CLOCK_LEEWAY_SECONDS }
  }

  async issue (options: IssueOptions): Promise<TokenReply> {
    const now = this.#now()
    let refreshToken: string | undefined
    let grantId: string | undefined
    if (options.refreshFor) {
      const grant: Omit<Grant, 'revokedAt'> = {
        id: randomUUID(),
        clientId: options.clientId,
        userId: options.refreshFor.userId,
        scope: options.scope,
        createdAt: now,
        expiresAt: now + this.#config.refreshTokenMaxLifetime
      }
      const { token, hash } = generateRefreshToken()
      await this.#storage.grants.create(grant, { hash, grantId: grant.id, scope: grant.scope, issuedAt: now, expiresAt: Math.min(now + this.#config.refreshTokenTtl, grant.expiresAt), consumedAt: null })
      refreshToken = token
      grantId = grant.id
    }
    return this.#reply(options, now, grantId, refreshToken)
  }

  /** The reply for a rotated grant: a new access token in the same family, and the next refresh token. */
  replyForRefresh (grant: Grant, scope: string, refreshToken: string): TokenReply {
    return this.#reply({ sub: grant.userId, clientId: grant.clientId, scope }, this.#now(), grant.id, refreshToken)
  }

  #reply (options: IssueOptions, now: number, grantId: string | undefined, refreshToken: string | undefined): TokenReply {
    const { token } = this.#accessTokens.issue({ sub: options.sub, clientId: options.clientId, scope: options.scope, grantId }, now)
    const reply: TokenReply = { access_token: token, token_type: 'Bearer', expires_in: this.#accessTokens.ttl }
    if (options.scope) reply.scope = options.scope
    if (refreshToken) reply.refresh_token = refreshToken
    return reply
  }

  /** The lifetime of a rotated-in refresh token: sliding, but never past the family's absolute end. */
  nextRefreshExpiry (grant: Grant): number {
    return Math.min(this.#now() + this.#config.refreshTokenTtl, grant.expiresAt)
  }
}

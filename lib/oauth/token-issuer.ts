import type { Clock } from '../clock.js'
import type { AccessTokens } from './access-tokens.js'
import type { RefreshTokens } from './refresh-tokens.js'

export interface TokenReply {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  scope?: string
  refresh_token?: string
  /** OpenID Connect Core §3.1.3.3, when the scope has `openid`. */
  id_token?: string
}

export interface IssueOptions {
  /** The token's subject: a user id, or the client id for client_credentials. */
  sub: string
  clientId: string
  scope: string
  /** Start a refresh-token family (a grant) for this user; `grantId` when the caller chose it beforehand. */
  refreshFor?: { userId: string, grantId?: string }
  /** The access token's jti, when the caller chose it beforehand (an authorization code records it first). */
  jti?: string
}

/** How far ahead `ready()` makes sure the keys can be trusted: the time a grant takes between the two. */
const SIGNING_HEADROOM_SECONDS = 1

/** Issues token replies (RFC 6749 §5.1); every grant ends here. */
export class TokenIssuer {
  readonly #accessTokens: AccessTokens
  readonly #refreshTokens: RefreshTokens
  readonly #clock: Clock

  constructor (deps: { accessTokens: AccessTokens, refreshTokens: RefreshTokens, clock: Clock }) {
    this.#accessTokens = deps.accessTokens
    this.#refreshTokens = deps.refreshTokens
    this.#clock = deps.clock
  }

  get refreshTokens (): RefreshTokens { return this.#refreshTokens }

  /** The access tokens' lifetime (ID tokens share it). */
  get ttl (): number { return this.#accessTokens.ttl }

  now (): number { return this.#clock.now() }

  /** Signs an OpenID Connect ID token (claims from lib/oauth/id-token.ts) with the key signing now. */
  signIdToken (claims: Record<string, unknown>): Promise<string> {
    return this.#accessTokens.signIdToken(claims, this.#clock.now())
  }

  /**
   * Call before a grant changes anything (a refresh token spent, a family started): resolves once the
   * signing keys can be trusted for the next moment (they are reloaded if not), or rejects with
   * StoreUnavailableError, so a request never spends a refresh token and then fails to sign.
   */
  ready (): Promise<void> | undefined {
    return this.#accessTokens.ready(this.#clock.now() + SIGNING_HEADROOM_SECONDS)
  }

  async issue (options: IssueOptions): Promise<TokenReply> {
    const family = options.refreshFor
      ? await this.#refreshTokens.start({ clientId: options.clientId, userId: options.refreshFor.userId, scope: options.scope }, options.refreshFor.grantId)
      : undefined
    return this.reply(options, family?.grantId, family?.token)
  }

  /** An access token (in the family `grantId`, when given) and the reply around it. */
  async reply (options: Omit<IssueOptions, 'refreshFor'>, grantId: string | undefined, refreshToken: string | undefined): Promise<TokenReply> {
    const { token } = await this.#accessTokens.issue({ sub: options.sub, clientId: options.clientId, scope: options.scope, grantId, jti: options.jti }, this.#clock.now())
    const reply: TokenReply = { access_token: token, token_type: 'Bearer', expires_in: this.#accessTokens.ttl }
    if (options.scope) reply.scope = options.scope
    if (refreshToken) reply.refresh_token = refreshToken
    return reply
  }
}

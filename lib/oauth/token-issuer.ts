import type { Clock } from '../clock.js'
import { invalidGrant } from '../errors.js'
import type { Client, User } from '../stores/types.js'
import type { AccessTokens } from './access-tokens.js'
import type { RefreshTokens } from './refresh-tokens.js'
import { BAD_CREDENTIALS } from './sign-in.js'

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
  /**
   * The user the token acts for, as the grant read it (its credential version included: a token issued from a
   * read older than a password change or a disable is refused); absent: the client's own token (client_credentials).
   */
  user?: Pick<User, 'id' | 'credentialVersion'>
  client: Pick<Client, 'id' | 'generation'>
  scope: string
  /** Start a refresh-token family (a grant) for the user. */
  refresh?: boolean
  /** The refresh family's grant id, when the caller chose it beforehand (an authorization code records it first). */
  grantId?: string
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
    let family: { token: string, grantId: string } | undefined
    if (options.refresh && options.user) {
      family = await this.#refreshTokens.start({ clientId: options.client.id, userId: options.user.id, credentialVersion: options.user.credentialVersion, scope: options.scope }, options.grantId)
      // The password was changed, or the user disabled or deleted, after the sign-in read them: no token, and
      // the same answer as a wrong password (the password used is a wrong one now).
      if (!family) throw invalidGrant(BAD_CREDENTIALS)
    }
    return this.reply(options, family?.grantId, family?.token)
  }

  /** An access token (in the family `grantId`, when given) and the reply around it. */
  async reply (options: Omit<IssueOptions, 'refresh'>, grantId: string | undefined, refreshToken: string | undefined): Promise<TokenReply> {
    const { user, client } = options
    const { token } = await this.#accessTokens.issue({
      sub: user ? user.id : client.id,
      subKind: user ? 'user' : 'client',
      clientId: client.id,
      scope: options.scope,
      grantId,
      credentialVersion: user?.credentialVersion,
      clientGeneration: client.generation,
      jti: options.jti
    }, this.#clock.now())
    const reply: TokenReply = { access_token: token, token_type: 'Bearer', expires_in: this.#accessTokens.ttl }
    if (options.scope) reply.scope = options.scope
    if (refreshToken) reply.refresh_token = refreshToken
    return reply
  }
}

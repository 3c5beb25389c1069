import { randomUUID } from 'node:crypto'
import type { Clock } from '../clock.js'
import { invalidGrant } from '../errors.js'
import type { Client, IssuedFromCode, RequestedClaims, Resource, User } from '../stores/types.js'
import type { ActorClaim } from './access-token-rules.js'
import type { AccessTokens } from './access-tokens.js'
import type { IdTokens } from './id-tokens.js'
import type { RefreshTokens } from './refresh-tokens.js'
import { familyBinding } from './dpop-binding.js'
import { parseScope } from './scopes.js'
import { BAD_CREDENTIALS } from './sign-in.js'

export interface TokenReply {
  access_token: string
  /** RFC 8693 §2.2.1: what a token exchange issued (the access token's type URI). */
  issued_token_type?: string
  /** RFC 9449 §5.1: `DPoP` when the access token is bound to a DPoP key. */
  token_type: 'Bearer' | 'DPoP'
  expires_in: number
  scope?: string
  refresh_token?: string
  /** OpenID Connect Core §3.1.3.3, when the scope has `openid`. */
  id_token?: string
}

/** The ids of a reply chosen before it is issued (`TokenIssuer.plan`): the refresh family's, the access token's, and its `exp`. */
export type IssuePlan = IssuedFromCode

export interface IssueOptions {
  /**
   * The user the token acts for, as the grant read it (its credential version included: a token issued from a
   * read older than a password change or a disable is refused); absent: the client's own token (client_credentials).
   */
  user?: Pick<User, 'id' | 'credentialVersion'>
  /** `idTokenAlg`: how its ID tokens are signed (absent or null: RS256). */
  client: Pick<Client, 'id' | 'generation'> & Partial<Pick<Client, 'idTokenAlg' | 'isPublic'>>
  /** The access token's scopes (and the reply's `scope`). */
  scope: string
  /**
   * What a family that starts here records, and what decides the ID token (`openid`): the whole grant, when the
   * access token carries only a resource's part of it (RFC 8707). Default: `scope`.
   */
  grantedScope?: string
  /** The registered resource the access token is for (RFC 8707): its `aud`. Absent: Gatehouse's own (AUDIENCE). */
  resource?: Pick<Resource, 'uri'>
  /** The resources (URIs) a family that starts here was granted: its later tokens may name these only. */
  resources?: string[]
  /** Start a refresh-token family (a grant) for the user. */
  refresh?: boolean
  /** Ids chosen beforehand by `plan()` (an authorization code records them first); a family starts when it has a `grantId`. */
  plan?: IssuePlan
  /** The next token of a family that already exists (a refresh-token rotation): the access token joins it. */
  family?: { grantId: string, refreshToken: string }
  /** With `openid` in the scope, an ID token goes with the reply (OIDC Core §3.1.3.3): what it must say besides `sub`. */
  idToken?: { nonce: string | null, authTime: number, amr?: readonly string[], sid?: string | null, userClaims?: Record<string, unknown> }
  /** The `claims` parameter's names (OIDC Core §5.5): the family keeps them, the access token carries the userinfo ones. */
  claims?: RequestedClaims | null
  /**
   * A token exchange (RFC 8693): the actor (`act`), the reply's `issued_token_type`, and the grant id of the family
   * the subject token came from, so that revoking that family ends this token too (it never starts one).
   */
  exchange?: { act: ActorClaim, issuedTokenType: string, grantId: string | undefined }
  /**
   * RFC 9449: the thumbprint of the request's DPoP key. The access token is bound to it (`cnf.jkt`, token_type DPoP),
   * and so is a family a public client starts here (lib/oauth/dpop-binding.ts `familyBinding`).
   */
  dpopJkt?: string
}

/** How far ahead `ready()` makes sure the keys can be trusted: the time a grant takes between the two. */
const SIGNING_HEADROOM_SECONDS = 1

/**
 * Issues token replies (RFC 6749 §5.1); every grant ends here, with one call to `issue`: the refresh-token
 * family when one starts, the access token, and the ID token when the scope asks for one.
 */
export class TokenIssuer {
  readonly #accessTokens: AccessTokens
  readonly #idTokens: IdTokens
  readonly #refreshTokens: RefreshTokens
  readonly #clock: Clock

  constructor (deps: { accessTokens: AccessTokens, idTokens: IdTokens, refreshTokens: RefreshTokens, clock: Clock }) {
    this.#accessTokens = deps.accessTokens
    this.#idTokens = deps.idTokens
    this.#refreshTokens = deps.refreshTokens
    this.#clock = deps.clock
  }

  get refreshTokens (): RefreshTokens { return this.#refreshTokens }

  /**
   * Call before a grant changes anything (a refresh token spent, a family started): resolves once the
   * signing keys can be trusted for the next moment (they are reloaded if not), or rejects with
   * StoreUnavailableError, so a request never spends a refresh token and then fails to sign.
   */
  ready (): Promise<void> | undefined {
    return this.#accessTokens.ready(this.#clock.now() + SIGNING_HEADROOM_SECONDS)
  }

  /**
   * The ids of the reply about to be issued, for a caller that must record them first (an authorization code's
   * redemption, so that a replay can revoke them): the family's grant id (when `refresh`), the access token's
   * `jti`, and the latest `exp` it can have.
   */
  plan (options: { refresh: boolean }): IssuePlan {
    const exp = this.#clock.now() + this.#accessTokens.ttl
    return options.refresh ? { grantId: randomUUID(), jti: randomUUID(), exp } : { jti: randomUUID(), exp }
  }

  async issue (options: IssueOptions): Promise<TokenReply> {
    const { user, client, scope, plan } = options
    const grantedScope = options.grantedScope ?? scope
    let family = options.family
    // A family starts for a user when asked to, or when the plan holds its grant id (chosen for it beforehand).
    if (family === undefined && user !== undefined && (plan ? plan.grantId !== undefined : options.refresh === true)) {
      const started = await this.#refreshTokens.start({ clientId: client.id, userId: user.id, credentialVersion: user.credentialVersion, scope: grantedScope, claims: options.claims ?? null, resources: options.resources ?? [], dpopJkt: familyBinding(client, options.dpopJkt) }, plan?.grantId)
      // The password was changed, or the user disabled or deleted, after the sign-in read them: no token, and
      // the same answer as a wrong password (the password used is a wrong one now).
      if (!started) throw invalidGrant(BAD_CREDENTIALS)
      family = { grantId: started.grantId, refreshToken: started.token }
    }
    const now = this.#clock.now()
    const { token } = await this.#accessTokens.issue({
      sub: user ? user.id : client.id,
      subKind: user ? 'user' : 'client',
      clientId: client.id,
      scope,
      grantId: family?.grantId ?? options.exchange?.grantId,
      credentialVersion: user?.credentialVersion,
      clientGeneration: client.generation,
      jti: plan?.jti,
      // What /userinfo may release: a token for another API is never accepted there.
      userinfoClaims: options.resource === undefined ? options.claims?.userinfo : undefined,
      audience: options.resource?.uri,
      act: options.exchange?.act,
      dpopJkt: options.dpopJkt
    }, now)
    const tokenType = options.dpopJkt === undefined ? 'Bearer' : 'DPoP'
    const reply: TokenReply = options.exchange === undefined
      ? { access_token: token, token_type: tokenType, expires_in: this.#accessTokens.ttl }
      : { access_token: token, issued_token_type: options.exchange.issuedTokenType, token_type: tokenType, expires_in: this.#accessTokens.ttl }
    if (scope) reply.scope = scope
    if (family) reply.refresh_token = family.refreshToken
    if (options.idToken && user && parseScope(grantedScope).includes('openid')) {
      reply.id_token = await this.#idTokens.sign({ sub: user.id, clientId: client.id, accessToken: token, ...options.idToken }, now, client.idTokenAlg)
    }
    return reply
  }
}

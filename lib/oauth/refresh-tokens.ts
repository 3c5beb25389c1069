import { randomBytes, randomUUID } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import { digest } from '../credentials/digest.js'
import type { Grant, RefreshToken, RequestedClaims, RotateResult, Storage } from '../stores/types.js'
import { revokeOptions } from '../stores/deny-list.js'

/** Opaque, 256-bit random; only the SHA-256 digest is stored, so a database leak does not leak usable tokens. */
export function generateRefreshToken (): { token: string, hash: string } {
  const token = randomBytes(32).toString('base64url')
  return { token, hash: digest(token) }
}

export interface Family {
  clientId: string
  userId: string
  /** The user's credential version as the grant read it: the family is created only while it is current. */
  credentialVersion: number
  scope: string
  /** The `claims` parameter's names, kept for the family's later access tokens; null (or absent) when none were asked for. */
  claims?: RequestedClaims | null
  /** The resources (RFC 8707) granted at authorization: the family's later tokens may name these only. */
  resources?: string[]
  /** RFC 9449 §5: the DPoP key a public client's family is bound to; null (or absent): not bound. */
  dpopJkt?: string | null
}

/**
 * Refresh-token families (RFC 6749 §6 with rotation, RFC 9700 §4.14.2): the only place that builds grant
 * and refresh-token rows. A family is one grant with a chain of tokens; each token lives
 * REFRESH_TOKEN_TTL (sliding), never past the family's absolute end (REFRESH_TOKEN_MAX_LIFETIME).
 */
export class RefreshTokens {
  readonly #storage: Storage
  readonly #clock: Clock
  readonly #config: Pick<Config, 'refreshTokenTtl' | 'refreshTokenMaxLifetime' | 'accessTokenTtl'>

  constructor (deps: { storage: Storage, clock: Clock, config: Pick<Config, 'refreshTokenTtl' | 'refreshTokenMaxLifetime' | 'accessTokenTtl'> }) {
    this.#storage = deps.storage
    this.#clock = deps.clock
    this.#config = deps.config
  }

  /**
   * Starts a family: its grant and first token, in one transaction. Returns the token (shown once) and the grant's
   * id (`grantId`, when the caller must know it first: the authorization code records it before issuing);
   * undefined when the user no longer holds `family.credentialVersion` (a new password, disabled, deleted).
   */
  async start (family: Family, grantId: string = randomUUID()): Promise<{ token: string, grantId: string } | undefined> {
    const now = this.#clock.now()
    const grant: Omit<Grant, 'revokedAt'> = { id: grantId, ...family, claims: family.claims ?? null, resources: family.resources ?? [], createdAt: now, expiresAt: now + this.#config.refreshTokenMaxLifetime }
    const { token, hash } = generateRefreshToken()
    if (!await this.#storage.grants.create(grant, this.#row(hash, grant, now))) return undefined
    return { token, grantId: grant.id }
  }

  /** The token and its family, by the token's text (undefined when unknown). */
  find (token: string): Promise<{ token: RefreshToken, grant: Grant } | undefined> {
    return this.#storage.grants.findToken(digest(token))
  }

  /**
   * Spends the token `find` returned and issues the next one in its family, atomically: at most one caller
   * ever rotates a given token. A spent token presented again revokes the whole family (`reused`).
   */
  async rotate (found: { token: RefreshToken, grant: Grant }): Promise<RotateResult & { next?: string }> {
    const revoke = revokeOptions(this.#clock.now(), this.#config.accessTokenTtl)
    const next = generateRefreshToken()
    const result = await this.#storage.grants.rotate(found.token.hash, this.#row(next.hash, found.grant, revoke.now), revoke)
    return result.outcome === 'rotated' ? { ...result, next: next.token } : result
  }

  /** A token row: it lives REFRESH_TOKEN_TTL from `now`, never past its family's end. */
  #row (hash: string, grant: Pick<Grant, 'id' | 'scope' | 'expiresAt'>, now: number): RefreshToken {
    return { hash, grantId: grant.id, scope: grant.scope, issuedAt: now, expiresAt: Math.min(now + this.#config.refreshTokenTtl, grant.expiresAt), consumedAt: null }
  }
}

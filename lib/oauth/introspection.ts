import { setTimeout as sleep } from 'node:timers/promises'
import type { Clock } from '../clock.js'
import type { Storage } from '../stores/types.js'
import { BoundedLru } from '../limits/lru.js'
import type { Limit } from '../limits/throttle.js'
import type { ActorClaim } from './access-token-rules.js'
import type { AccessTokens } from './access-tokens.js'
import { INTROSPECTION_UNKNOWN_TOKENS, introspectionLimits } from './brute-force.js'
import { isWellFormedJws, lookUpToken, type PresentedToken } from './token-lookup.js'
import { tokenStanding } from './token-standing.js'

/** RFC 7662 §2.2: what an inactive token is answered with, and nothing else. */
export const INACTIVE = Object.freeze({ active: false as const })

export interface Introspection {
  active: boolean
  scope?: string
  client_id?: string
  username?: string
  token_type?: string
  exp?: number
  iat?: number
  sub?: string
  aud?: string
  iss?: string
  jti?: string
  /** RFC 8693 §4.1: the actor of an exchanged token (§2.2.1: introspection shows it). */
  act?: ActorClaim
  /** RFC 9449 §6.2: the DPoP key a bound token is bound to (its token_type is then DPoP). */
  cnf?: { jkt: string }
}

export interface IntrospectionDeps {
  storage: Storage
  accessTokens: AccessTokens
  clock: Clock
  issuer: string
  /** AUDIENCE: a token with another `aud` is a registered resource's (RFC 8707), judged by that resource's scopes. */
  audience?: string
}

/**
 * RFC 7662 for resource servers: any access token whose signature, claims and standing hold is active (for
 * any caller); a refresh token only for the client it was issued to, while it is unspent, unexpired, its
 * family unrevoked and its user enabled. Everything else is INACTIVE. `unknown` says whether the token was
 * a possible guess (see `isGuess`).
 */
export async function introspect (token: string, hint: string | undefined, callerId: string, deps: IntrospectionDeps): Promise<{ answer: Introspection, unknown: boolean }> {
  const found = await lookUpToken(token, hint, deps.accessTokens, deps.storage)
  return { answer: await answerFor(found, callerId, deps), unknown: isGuess(token, found) }
}

/**
 * Only an unknown token can be a guess: one that is neither a well-formed JWS (expired, revoked, signed
 * by a dropped key or forged: a signature cannot be guessed) nor a refresh token in the store (spent,
 * expired or revoked ones included: 256 random bits cannot be guessed either). Ordinary traffic (expired
 * and revoked tokens) therefore never counts towards the fishing limit.
 */
export function isGuess (token: string, found: PresentedToken): boolean {
  return found === undefined && !isWellFormedJws(token)
}

async function answerFor (found: PresentedToken, callerId: string, deps: IntrospectionDeps): Promise<Introspection> {
  const { storage } = deps
  if (found?.kind === 'access_token') {
    const standing = await tokenStanding(found.claims, storage, deps.audience)
    if (!standing) return INACTIVE
    const { iss, sub, aud, exp, iat, jti, client_id: clientId, act, cnf } = found.claims
    // The scopes it holds now: those taken from its user or client since it was issued are not reported.
    const tokenType = cnf === undefined ? 'Bearer' : 'DPoP'
    const answer: Introspection = { active: true, scope: standing.scope, client_id: clientId, username: standing.user?.username, token_type: tokenType, exp, iat, sub, aud, iss, jti }
    if (act !== undefined) answer.act = act
    // RFC 9449 §6.2: the resource server checks the proof's key against this.
    if (cnf !== undefined) answer.cnf = { jkt: cnf.jkt }
    return answer
  }
  if (found?.kind === 'refresh_token') {
    const { token: refresh, grant } = found
    const now = deps.clock.now()
    const live = refresh.consumedAt === null && grant.revokedAt === null && refresh.expiresAt > now && grant.expiresAt > now
    if (!live || grant.clientId !== callerId) return INACTIVE
    const user = await storage.users.findById(grant.userId)
    if (!user || user.disabled) return INACTIVE
    return { active: true, scope: grant.scope || undefined, client_id: grant.clientId, username: user.username, token_type: 'refresh_token', exp: refresh.expiresAt, iat: refresh.issuedAt, sub: user.id, iss: deps.issuer }
  }
  return INACTIVE
}

/** How long an answer about an unknown token waits once its caller is over INTROSPECTION_UNKNOWN_TOKENS. */
export const UNKNOWN_TOKEN_DELAY_MS = 1000
/** Callers remembered for "logged already in this window" (authenticated clients; capped all the same). */
const LOGGED_CALLERS_MAX = 1000

export interface FishingPacerDeps {
  /** The shared failure counters (lib/limits/throttle.ts): count and compare, atomically, in memory or in Redis. */
  counters: { take (limits: Limit[]): Promise<number | undefined> }
  clock: Clock
  log: { warn (obj: object, msg: string): void }
  delayMs?: number
}

/**
 * The introspection fishing limit (RFC 7662 §4), which never refuses: it is called only after the answer
 * is known, and only for unknown tokens, so an introspection whose answer is active is never refused nor
 * delayed. Each unknown token counts against its caller; past INTROSPECTION_UNKNOWN_TOKENS a minute the
 * answer waits UNKNOWN_TOKEN_DELAY_MS first (a sequential guesser gets one guess a second), and the first
 * such answer in each window is logged. Resolves true when it delayed the answer.
 */
export function fishingPacer (deps: FishingPacerDeps): (callerId: string) => Promise<boolean> {
  const delayMs = deps.delayMs ?? UNKNOWN_TOKEN_DELAY_MS
  const loggedUntil = new BoundedLru<string, true>(LOGGED_CALLERS_MAX, deps.clock.nowMs)
  return async (callerId) => {
    const limits = introspectionLimits(callerId)
    let wait: number | undefined
    try {
      wait = await deps.counters.take(limits)
    } catch (err) {
      deps.log.warn({ err }, 'introspection: counting an unknown token failed; answering without delay')
      return false
    }
    if (wait === undefined) return false
    if (!loggedUntil.has(callerId)) {
      loggedUntil.set(callerId, true, wait * 1000)
      deps.log.warn({ clientId: callerId, limit: INTROSPECTION_UNKNOWN_TOKENS, delayMs },
        'introspection: client over its limit of unknown tokens; answers about unknown tokens are delayed (never refused)')
    }
    await sleep(delayMs)
    return true
  }
}

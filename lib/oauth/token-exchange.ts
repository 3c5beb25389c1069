import { invalidRequest, invalidTarget } from '../errors.js'
import type { Client, Resource, Storage } from '../stores/types.js'
import { ACCESS_TOKEN_TYPE } from '../../schemas/vocabulary.js'
import type { AccessTokenClaims, ActorClaim } from './access-token-rules.js'
import { InvalidAccessToken, type AccessTokens } from './access-tokens.js'
import { scopesForResource } from './resources.js'
import { grantScope, parseScope } from './scopes.js'
import { subjectKind } from './subjects.js'
import { tokenStanding, type Standing } from './token-standing.js'

/**
 * RFC 8693 token exchange: the rules of lib/oauth/grants/token-exchange.ts, one function each. A client trades a
 * Gatehouse access token (the subject token) for another access token for one registered resource (the target):
 * the same user (`sub`), an `act` claim naming who acts for them, and never more scopes than the subject token
 * holds now. Which tokens a client may exchange and for which resources is set per client (`exchangeSources`,
 * `exchangeTargets`, lib/admin/clients.ts); nothing is allowed by default.
 */

/**
 * How deep an `act` chain may grow (RFC 8693 §4.1: each exchange of an exchanged token nests the previous actor): the
 * new token's own actor included. Every token of the chain carries it whole, so it must stay short.
 */
export const MAX_DELEGATION_DEPTH = 5

/** The token-type parameters of a token exchange request (RFC 8693 §2.1). */
export interface TokenTypeParameters {
  subject_token_type?: string
  actor_token?: string
  actor_token_type?: string
  requested_token_type?: string
}

/**
 * RFC 8693 §2.1, §3: Gatehouse exchanges its own access tokens, for an access token. Any other type named
 * (subject, actor or requested), or an actor token without its type (or the other way round), is invalid_request.
 */
export function checkTokenTypes (body: TokenTypeParameters): void {
  if (body.subject_token_type !== ACCESS_TOKEN_TYPE) throw invalidRequest(`subject_token_type: only ${ACCESS_TOKEN_TYPE} (a Gatehouse access token) is accepted`)
  if (body.actor_token !== undefined && body.actor_token_type === undefined) throw invalidRequest('actor_token_type is required with actor_token (RFC 8693 §2.1)')
  if (body.actor_token === undefined && body.actor_token_type !== undefined) throw invalidRequest('actor_token_type without actor_token')
  if (body.actor_token_type !== undefined && body.actor_token_type !== ACCESS_TOKEN_TYPE) throw invalidRequest(`actor_token_type: only ${ACCESS_TOKEN_TYPE} is accepted`)
  if (body.requested_token_type !== undefined && body.requested_token_type !== ACCESS_TOKEN_TYPE) throw invalidRequest(`requested_token_type: only ${ACCESS_TOKEN_TYPE} can be issued`)
}

/**
 * The resource the new token is for (RFC 8693 §2.1 `resource` and `audience`; Gatehouse's audiences are its registered
 * resources' URIs, so both name one the same way). One target per exchange: two different ones are invalid_target.
 * Named: it must be one of the client's exchange targets. None named: the client's only target, when it has exactly
 * one. Anything else is invalid_target (RFC 8693 §2.2.2), a client with no targets included.
 */
export function exchangeTarget (resource: string | undefined, audience: string | undefined, targets: readonly string[]): string {
  if (targets.length === 0) throw invalidTarget('this client may exchange tokens for no resource')
  const named = [...new Set([resource, audience].filter((v): v is string => v !== undefined))]
  if (named.length > 1) throw invalidTarget('resource and audience name different targets; one target per exchange')
  const [wanted] = named
  if (wanted === undefined) {
    if (targets.length === 1) return targets[0] as string
    throw invalidTarget('name the target: resource or audience')
  }
  if (!targets.includes(wanted)) throw invalidTarget(`this client may not exchange tokens for ${wanted.slice(0, 200)}`)
  return wanted
}

/**
 * Whether `client` may exchange a token with these claims (the confused deputy's check): the token was issued to the
 * client itself, or it was for a resource the client acts for (its `exchangeSources`: a resource server exchanging
 * the token it received). A token meant for another resource or client is not the client's to trade.
 */
export function mayExchange (claims: Pick<AccessTokenClaims, 'aud' | 'client_id'>, client: Pick<Client, 'id' | 'exchangeSources'>): boolean {
  return claims.client_id === client.id || client.exchangeSources.includes(claims.aud)
}

/** How many actors an `act` chain names (0 for none). */
export function delegationDepth (act: ActorClaim | undefined): number {
  let depth = 0
  for (let a: ActorClaim | undefined = act; a !== undefined && depth <= MAX_DELEGATION_DEPTH; a = a.act) depth++
  return depth
}

/**
 * The new token's `act` (RFC 8693 §4.1): the actor, and the subject token's own `act` nested under it (the chain
 * of delegation, the current actor outermost). A chain longer than MAX_DELEGATION_DEPTH is invalid_request.
 */
export function actorClaim (actor: string, previous: ActorClaim | undefined): ActorClaim {
  if (delegationDepth(previous) + 1 > MAX_DELEGATION_DEPTH) throw invalidRequest(`the delegation chain would be longer than ${MAX_DELEGATION_DEPTH} actors`)
  return previous === undefined ? { sub: actor } : { sub: actor, act: previous }
}

/**
 * The new token's scopes: those the subject token holds now (`Standing.scope`: what is left of it after any change to
 * its user or client), that the target resource defines and the exchanging client may ask for; the requested ones
 * when `scope` is sent, any other requested being invalid_scope (never wider than the subject token).
 */
export function exchangeScope (requested: string | undefined, subjectScope: string | undefined, target: Pick<Resource, 'scope'>, client: Pick<Client, 'scope'>): string {
  return grantScope(requested, scopesForResource(parseScope(subjectScope), target, client))
}

/** A presented token that stands: its claims and what holds of it now. */
export interface StandingToken {
  claims: AccessTokenClaims
  standing: Standing
}

/**
 * A token presented as subject or actor, verified in full: signature, type, issuer, exp (lib/oauth/access-tokens.ts,
 * any audience) and standing (lib/oauth/token-standing.ts: not revoked, its user enabled at the same credential
 * version, its client registered in the same generation, its resource still registered). Anything less is
 * invalid_request (RFC 8693 §2.2.2: an unacceptable subject or actor token), with `what` saying which token.
 */
export async function standingToken (token: string, what: 'subject_token' | 'actor_token', deps: { accessTokens: AccessTokens, storage: Storage, audience: string }): Promise<StandingToken> {
  let claims: AccessTokenClaims
  try {
    claims = deps.accessTokens.verifyAnyAudience(token)
  } catch (err) {
    if (err instanceof InvalidAccessToken) throw invalidRequest(`${what}: not a valid Gatehouse access token (expired, malformed or not signed by this server)`)
    throw err
  }
  const standing = await tokenStanding(claims, deps.storage, deps.audience)
  if (!standing) throw invalidRequest(`${what}: the token is revoked, or its user or client no longer allows it`)
  return { claims, standing }
}

/** The subject token must be a user's: a client's own token (client_credentials) acts for nobody to delegate. */
export function checkSubjectIsUser (claims: AccessTokenClaims): void {
  if (subjectKind(claims) === 'client') throw invalidRequest('subject_token: a client\'s own token (client_credentials) cannot be exchanged; exchange a user\'s token')
}

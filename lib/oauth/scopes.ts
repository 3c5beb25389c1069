import { invalidScope } from '../errors.js'
import type { Client, User } from '../stores/types.js'

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), space-separated. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

export function parseScope (scope: string | null | undefined): string[] {
  if (!scope) return []
  return [...new Set(scope.split(' ').filter(Boolean))]
}

export function formatScope (scopes: Iterable<string>): string {
  return [...scopes].join(' ')
}

export function isValidScopeList (scope: string): boolean {
  return parseScope(scope).every((s) => SCOPE_TOKEN.test(s))
}

/**
 * What to grant: everything allowed when nothing is requested; otherwise exactly what was requested,
 * and a request for anything not allowed is `invalid_scope` (no silent narrowing; CONTRACT.md).
 */
export function grantScope (requested: string | undefined, allowed: string[]): string {
  if (requested === undefined) return formatScope(allowed)
  const wanted = parseScope(requested)
  if (!wanted.every((s) => SCOPE_TOKEN.test(s))) throw invalidScope('the scope parameter is malformed')
  const refused = wanted.filter((s) => !allowed.includes(s))
  if (refused.length > 0) throw invalidScope(`scope not allowed: ${refused.join(' ').slice(0, 200)}`)
  return formatScope(wanted)
}

export function intersect (a: string[], b: string[]): string[] {
  return a.filter((s) => b.includes(s))
}

export function hasScopes (granted: string | undefined, needed: string[]): boolean {
  const have = parseScope(granted)
  return needed.every((s) => have.includes(s))
}

/** OpenID Connect's scopes: they name claims about the user, not permissions a user is given. */
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'address', 'phone'] as const
export const isOidcScope = (scope: string): boolean => (OIDC_SCOPES as readonly string[]).includes(scope)

/**
 * What a token's (or a family's) scopes are worth now: those the user still holds (for a user's token; the OIDC
 * scopes, which no user is given, stay) and the client may still ask for (a client without a scope list: only the
 * user's; for its own token, none). Applied on every refresh and every bearer check, so a scope taken from a user
 * or a client stops working at once.
 */
export function currentScope (granted: string[], user: Pick<User, 'scope'> | undefined, client: Pick<Client, 'scope'>): string[] {
  let scope = granted
  if (user) {
    const held = parseScope(user.scope)
    scope = scope.filter((s) => isOidcScope(s) || held.includes(s))
  }
  if (client.scope !== null || !user) {
    // A client's scope list limits permissions; the OIDC scopes of a user's token are allowed as at /authorize.
    const allowed = parseScope(client.scope)
    scope = scope.filter((s) => (user !== undefined && isOidcScope(s)) || allowed.includes(s))
  }
  return scope
}

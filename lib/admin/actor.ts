import type { SecurityEvent } from '../ops/events.js'

/**
 * The administrator behind an admin API call, as events name them (admin_change, invitation_sent, factors_reset):
 * the token's user, else its subject (a client_credentials token names the client).
 */
export const adminActor = (auth: { user?: { username: string }, claims: { sub: string } } | null | undefined): string =>
  auth?.user?.username ?? auth?.claims.sub ?? ''

export interface AdminChangeInput {
  /** Who made the change (adminActor, or the console's signed-in user). */
  actor: string
  /** What was done: the method and route of the API (`POST /admin/users`) or of the console page. */
  action: string
  /** The record the URL names (its parameters), when it names one. */
  params: Record<string, string> | undefined
  /** The record the change made, when the URL cannot name it yet: a create (`POST /admin/users` → the username). */
  created: string | undefined
  /** The request body: only the names of its fields are kept, never their values (one may be a password). */
  body: unknown
}

/**
 * The one shape of an `admin_change` event, for the admin API (plugins/admin-auth.ts) and the console alike: who,
 * what, on which record, which fields. Every change names its target: the URL's record, or the one it created.
 */
export function adminChange (input: AdminChangeInput): Extract<SecurityEvent, { type: 'admin_change' }> {
  const { body } = input
  return {
    type: 'admin_change',
    actor: input.actor,
    action: input.action,
    target: input.created ?? Object.values(input.params ?? {}).join('/'),
    fields: body !== null && typeof body === 'object' && !Array.isArray(body) ? Object.keys(body) : []
  }
}

import type { Client } from '../stores/types.js'

/** What an `id_token_hint` this issuer signed says (lib/oauth/id-tokens.ts `hint()`). */
export interface LogoutHint { sub: string, aud: string, sid?: string }

/** What a request to the end_session_endpoint asks for, as read by the route (the named client already looked up). */
export interface LogoutAsk {
  /** An `id_token_hint` was sent. */
  hintSent: boolean
  /** …and it verified (undefined when none was sent, or it did not verify). */
  hint: LogoutHint | undefined
  /** The `client_id` parameter. */
  clientId: string | undefined
  /** The client the request names (the hint's audience, else `client_id`), when it exists. */
  client: Client | undefined
  postLogoutRedirectUri: string | undefined
  state: string | undefined
  /** The browser's session, if signed in. */
  session: { userId: string, sid: string | null } | undefined
}

export type LogoutDecision =
  /** A 400 page: the request cannot be trusted, and nothing happens (no silent logout, no redirect). */
  | { kind: 'error', description: string }
  /** The user is asked first (§2: the OP SHOULD ask); the form carries the return target on when it is allowed. */
  | { kind: 'confirm', target: string | undefined, state: string | undefined, clientId: string | undefined }
  /** Sign out now, then back to `target` with `state`, or the signed-out page. */
  | { kind: 'sign-out', target: string | undefined, state: string | undefined }

/** The client a logout request names: the hint's audience, else `client_id`. */
export const namedClientId = (hint: LogoutHint | undefined, clientId: string | undefined): string | undefined => hint?.aud ?? clientId

/**
 * OpenID Connect RP-Initiated Logout 1.0, the decision (pure; the conformance plan's checks):
 * - §2 an `id_token_hint` that does not verify (modified, another issuer's, self-signed) is an error, not a
 *   logout; so is a `client_id` that contradicts it, or a client that does not exist;
 * - §3 a `post_logout_redirect_uri` not registered for the named client (matched exactly, never a prefix or with a
 *   query added) is an error; one with no client named is not used (nothing to check it against);
 * - the session ends at once only when the request is tied to it: a hint for the signed-in user, whose `sid`
 *   (when it has one) is this session's; otherwise, while someone is signed in, the user is asked.
 */
export function decideLogout (ask: LogoutAsk): LogoutDecision {
  if (ask.hintSent && ask.hint === undefined) return { kind: 'error', description: 'the id_token_hint is not an ID token issued by this server' }
  if (ask.hint !== undefined && ask.clientId !== undefined && ask.clientId !== ask.hint.aud) {
    return { kind: 'error', description: 'client_id does not match the audience of the id_token_hint' }
  }
  const named = namedClientId(ask.hint, ask.clientId)
  if (named !== undefined && ask.client?.id !== named) return { kind: 'error', description: 'the client this logout names does not exist' }
  let target: string | undefined
  if (ask.postLogoutRedirectUri !== undefined && ask.client !== undefined) {
    if (!ask.client.postLogoutRedirectUris.includes(ask.postLogoutRedirectUri)) {
      return { kind: 'error', description: 'post_logout_redirect_uri is not registered for this client' }
    }
    target = ask.postLogoutRedirectUri
  }
  const state = target === undefined ? undefined : ask.state
  const { hint, session } = ask
  const tied = hint !== undefined && session !== undefined && hint.sub === session.userId &&
    (hint.sid === undefined || hint.sid === session.sid)
  if (session !== undefined && !tied) return { kind: 'confirm', target, state, clientId: target === undefined ? undefined : ask.client?.id }
  return { kind: 'sign-out', target, state }
}

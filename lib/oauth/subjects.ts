/**
 * The two kinds of token subject (RFC 9068 §5: client and user subjects must never be confusable). A user's
 * `sub` is their id, always a UUID; a client's own token (client_credentials) has `sub` = its client id and is
 * marked `sub_kind: "client"`, user tokens `sub_kind: "user"`. The mark decides which checks a token gets, never
 * a `sub` that happens to equal `client_id`; and no client id may look like a user id, so the two sets of
 * subjects cannot even meet.
 */

export type SubjectKind = 'user' | 'client'

/** The shape of a user id (a UUID, any version, either case): client ids in this shape are refused. */
const USER_ID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function looksLikeUserId (id: string): boolean {
  return USER_ID_SHAPE.test(id)
}

/**
 * Which kind of subject a token names. Tokens issued before the mark existed (at most ACCESS_TOKEN_TTL after
 * an upgrade) carry none: such a token is a client's own only when `sub` equals `client_id` and is not shaped
 * like a user id; anything else is checked as a user's token.
 */
export function subjectKind (claims: { sub: string, client_id: string, sub_kind?: unknown }): SubjectKind {
  if (claims.sub_kind === 'client' || claims.sub_kind === 'user') return claims.sub_kind
  return claims.sub === claims.client_id && !looksLikeUserId(claims.sub) ? 'client' : 'user'
}

import { Type, type Static } from '@sinclair/typebox'
import { BEARER_EXAMPLES, BearerErrorSchema, NullableString, ref, refWithExamples } from './common.js'
import { bearerSecurity } from './security.js'
import { UserClaims } from './claims.js'

/** A user as the API shows it: never the password hash. */
export const UserView = Type.Object({
  sub: Type.String({ description: 'stable subject identifier' }),
  username: Type.String(),
  full_name: NullableString,
  email: NullableString,
  disabled: Type.Boolean(),
  scope: Type.String({ description: 'scopes the user may be granted, space-separated' }),
  claims: Type.Optional(UserClaims),
  created_by: Type.Optional(Type.Unsafe<string | null>({
    type: ['string', 'null'],
    description: 'admin views only: `provider:<name>` for a user an upstream provider\'s first sign-in created (an import never merges into it); null for one an administrator or an import created'
  }))
}, {
  $id: 'User',
  description: 'A user as the API shows it (never the password hash)',
  examples: [{ sub: '0b7e4c1a-5f0e-4d8e-9a43-2c1f6f1d9a10', username: 'alice', full_name: 'Alice Liddell', email: 'alice@example.com', disabled: false, scope: 'items:read' }]
})
export type UserViewBody = Static<typeof UserView>

/** Replies a bearer-protected route can give besides its success (RFC 6750 §3). */
export const bearerErrors = {
  400: refWithExamples(BearerErrorSchema, 'invalid_request: the token was sent in more than one way', { invalid_request: BEARER_EXAMPLES.twice }),
  401: refWithExamples(BearerErrorSchema, 'no token (WWW-Authenticate: Bearer realm="gatehouse"), or a bad, expired or revoked token or a disabled user (error="invalid_token")',
    { no_token: BEARER_EXAMPLES.noToken, invalid_token: BEARER_EXAMPLES.invalidToken }),
  403: refWithExamples(BearerErrorSchema, 'insufficient_scope: the token lacks a scope this operation needs', { insufficient_scope: BEARER_EXAMPLES.scope('items:write') }),
  503: refWithExamples(BearerErrorSchema, 'temporarily_unavailable: the database is unreachable; Retry-After says when to try again', { temporarily_unavailable: BEARER_EXAMPLES.unavailable })
}

export const meSchema = {
  operationId: 'getCurrentUser',
  tags: ['users'],
  summary: 'The signed-in user',
  description: 'The user the bearer token was issued for, with any scope (the FastAPI tutorial\'s `GET /users/me`). ' +
    'A client\'s own token (client_credentials) names no user and gets 401 invalid_token.',
  security: bearerSecurity(),
  response: { 200: ref(UserView, 'the token\'s user'), ...bearerErrors }
}

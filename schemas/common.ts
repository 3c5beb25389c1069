import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox'
import { BEARER_ERROR_CODES, OAUTH_ERROR_CODES, OneOf } from './vocabulary.js'

/**
 * A reference to a shared schema (one with an `$id`, registered once by plugins/schemas.ts): validation and
 * serialization resolve it, the OpenAPI document names it `components.schemas.<$id>`, and TypeScript keeps
 * its static type. Route schemas use these, never the schema itself: an `$id` may be compiled only once.
 * `description` is that of the reply (or property) it stands for.
 */
export const ref = <T extends TSchema>(schema: T, description?: string): TUnsafe<Static<T>> => {
  if (typeof schema.$id !== 'string') throw new Error('only a schema with an $id can be referenced')
  return Type.Unsafe<Static<T>>(description === undefined ? { $ref: `${schema.$id}#` } : { $ref: `${schema.$id}#`, description })
}

/** Small atoms, composed into per-endpoint schemas. */

/** Usernames are created lowercase ASCII (see USERNAME_PATTERN) and matched exactly at sign-in. */
export const USERNAME_PATTERN = '^[a-z0-9][a-z0-9._@+-]{0,63}$'
/** The same rule as a RegExp, for the code that makes usernames (admin, import, upstream sign-in, sign-up, invitations). */
export const USERNAME = new RegExp(USERNAME_PATTERN)
/** A provider's name, as it appears in /login/{name}: the limit shared by the admin schema and the routes. */
export const PROVIDER_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/
export const PROVIDER_NAME_PATTERN = PROVIDER_NAME.source

export const Username = Type.String({ pattern: USERNAME_PATTERN, description: 'lowercase letters, digits and . _ @ + -; 1-64 characters' })
/** What a sign-in form may send as a username: bounded, otherwise any text (an unknown name is simply wrong). */
export const MAX_USERNAME_INPUT_LENGTH = 256
export const UsernameInput = Type.String({ minLength: 1, maxLength: MAX_USERNAME_INPUT_LENGTH })
/** Longest password accepted, in characters: bounds the hashing cost an attacker can ask for. */
export const MAX_PASSWORD_LENGTH = 1024
export const Password = Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH })
export const Scope = Type.String({ maxLength: 2048, description: 'space-separated scope tokens (RFC 6749 §3.3)' })
/** Longest client id a client can have: a longer one (Basic credentials carry any length) is unknown without a lookup. */
/** How many resources a client's token-exchange sources or targets may name (RFC 8693, docs/token-exchange.md). */
export const EXCHANGE_RESOURCES_MAX = 20

export const MAX_CLIENT_ID_LENGTH = 128
export const ClientId = Type.String({ minLength: 1, maxLength: MAX_CLIENT_ID_LENGTH })
/**
 * string or null as a type list, not anyOf: with Ajv's type coercion an anyOf would turn null into "".
 */
export const NullableString = Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: 256 })

export const OAuthErrorSchema = Type.Object({
  error: OneOf(OAUTH_ERROR_CODES),
  error_description: Type.Optional(Type.String())
}, {
  $id: 'OAuthError',
  description: 'RFC 6749 §5.2 error',
  examples: [{ error: 'invalid_grant', error_description: 'the grant is invalid, expired, revoked or was issued to another client' }]
})

export const BearerErrorSchema = Type.Object({
  error: OneOf(BEARER_ERROR_CODES),
  error_description: Type.Optional(Type.String())
}, {
  $id: 'BearerError',
  description: 'RFC 6750 §3 error; the WWW-Authenticate header carries the challenge',
  examples: [{ error: 'invalid_token', error_description: 'the access token is invalid, expired or revoked' }]
})

/** The error replies as route schemas use them (references to the shared schemas above). */
export const OAuthErrorResponse = ref(OAuthErrorSchema)
export const BearerErrorResponse = ref(BearerErrorSchema)

/** A named example of a reply: what Swagger UI shows under its status (the media type's `examples`). */
export interface NamedExample { summary: string, value: Record<string, unknown> }

/**
 * A reference to a shared schema for one status, with that status's own examples: the shared schema's single
 * example would otherwise show the same body under every status. Written as the reply's JSON media type
 * (`content`), which Fastify serializes with the referenced schema and @fastify/swagger copies as it is, examples
 * included (beside a bare `$ref` it keeps nothing else).
 */
export const refWithExamples = <T extends TSchema>(schema: T, description: string, examples: Record<string, NamedExample>): TUnsafe<Static<T>> =>
  Type.Unsafe<Static<T>>({ description, content: { 'application/json': { schema: ref(schema), examples } } })

/** The bodies the bearer checks answer with (lib/oauth/bearer.ts, lib/errors.ts), one per case, for the examples of each status. */
export const BEARER_EXAMPLES = {
  noToken: { summary: 'no token', value: { error: 'unauthorized', error_description: 'no bearer token' } },
  invalidToken: { summary: 'a bad, expired or revoked token, or a disabled user', value: { error: 'invalid_token', error_description: 'the access token is invalid, expired or revoked' } },
  twice: { summary: 'the token in the header and the body', value: { error: 'invalid_request', error_description: 'the token was sent in more than one way' } },
  scope: (scope: string) => ({ summary: 'a token without the scope', value: { error: 'insufficient_scope', error_description: `this resource needs the scope: ${scope}` } }),
  unavailable: { summary: 'the database is unreachable', value: { error: 'temporarily_unavailable', error_description: 'the database is unreachable, try again shortly' } }
} as const

/** The 401 and 403 of a route that needs a bearer token with `scope` (RFC 6750 §3.1). */
export const bearerRefusals = (scope: string) => ({
  401: refWithExamples(BearerErrorSchema, 'no token, or a bad, expired or revoked one (WWW-Authenticate: Bearer)', { no_token: BEARER_EXAMPLES.noToken, invalid_token: BEARER_EXAMPLES.invalidToken }),
  403: refWithExamples(BearerErrorSchema, `insufficient_scope: the token lacks the scope ${scope}`, { insufficient_scope: BEARER_EXAMPLES.scope(scope) })
})

export type OAuthErrorBody = Static<typeof OAuthErrorSchema>

/**
 * private_key_jwt (RFC 7523 §2.2, RFC 7521 §4.2): the form parameters of a client assertion, accepted wherever a
 * client authenticates (/token, /introspect, /revoke, /device_authorization).
 */
export const clientAssertionParams = {
  client_assertion_type: Type.Optional(Type.String({ maxLength: 128, description: 'private_key_jwt: urn:ietf:params:oauth:client-assertion-type:jwt-bearer' })),
  client_assertion: Type.Optional(Type.String({ maxLength: 8192, description: 'private_key_jwt (RFC 7523): a JWT the client signed with a key of its JWK Set; iss = sub = its client id, aud = the issuer or this endpoint, exp at most 5 minutes ahead, a single-use jti' }))
}

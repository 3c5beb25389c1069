import { Type, type Static } from '@sinclair/typebox'
import { BEARER_ERROR_CODES, OAUTH_ERROR_CODES, OneOf } from './vocabulary.js'

/** Small atoms, composed into per-endpoint schemas. */

/** Usernames are created lowercase ASCII (see USERNAME_PATTERN) and matched exactly at sign-in. */
export const USERNAME_PATTERN = '^[a-z0-9][a-z0-9._@+-]{0,63}$'
export const Username = Type.String({ pattern: USERNAME_PATTERN, description: 'lowercase letters, digits and . _ @ + -; 1-64 characters' })
/** What a sign-in form may send as a username: bounded, otherwise any text (an unknown name is simply wrong). */
export const UsernameInput = Type.String({ minLength: 1, maxLength: 256 })
/** Longest password accepted, in characters: bounds the hashing cost an attacker can ask for. */
export const MAX_PASSWORD_LENGTH = 1024
export const Password = Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH })
export const Scope = Type.String({ maxLength: 2048, description: 'space-separated scope tokens (RFC 6749 §3.3)' })
export const ClientId = Type.String({ minLength: 1, maxLength: 128 })
/**
 * string or null as a type list, not anyOf: with Ajv's type coercion an anyOf would turn null into "".
 */
export const NullableString = Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: 256 })

export const OAuthErrorResponse = Type.Object({
  error: OneOf(OAUTH_ERROR_CODES),
  error_description: Type.Optional(Type.String())
}, { $id: 'OAuthError', description: 'RFC 6749 §5.2 error' })

export const BearerErrorResponse = Type.Object({
  error: OneOf(BEARER_ERROR_CODES),
  error_description: Type.Optional(Type.String())
}, { $id: 'BearerError', description: 'RFC 6750 §3 error; the WWW-Authenticate header carries the challenge' })

export type OAuthErrorBody = Static<typeof OAuthErrorResponse>

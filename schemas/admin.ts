import { Type, type Static } from '@sinclair/typebox'
import { invalidInput } from '../lib/errors.js'
import { BearerErrorResponse, ClientId, NullableString, Password, Scope, Username } from './common.js'
import { GRANT_TYPES, OneOf, type AdminErrorCode } from './vocabulary.js'
import { UserView } from './users.js'

const NullableScope = Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: 2048, description: 'space-separated scopes the client may ask for; null = only the user\'s scopes' })

export const Paging = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  offset: Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, default: 0 })
})
export type Page = Static<typeof Paging>

/**
 * The page a list request asked for, refused unless both numbers are finite. Ajv's type coercion turns the
 * query text "Infinity" (or "1e400") into the number Infinity, which it accepts as an integer and then
 * exempts from minimum/maximum (those only test finite numbers): `?limit=Infinity` reached the database.
 */
export function checkedPage (page: Page): Page {
  if (!Number.isSafeInteger(page.limit) || !Number.isSafeInteger(page.offset)) throw invalidInput('limit and offset must be whole numbers in range')
  return page
}

export const UsernameParam = Type.Object({ username: Type.String({ maxLength: 256 }) })
export const ClientIdParam = Type.Object({ client_id: Type.String({ maxLength: 256 }) })

export const CreateUser = Type.Object({
  username: Username,
  password: Password,
  full_name: Type.Optional(NullableString),
  email: Type.Optional(NullableString),
  scope: Type.Optional(Scope),
  disabled: Type.Optional(Type.Boolean())
}, { additionalProperties: false })

export const UpdateUser = Type.Object({
  password: Type.Optional(Password),
  full_name: Type.Optional(NullableString),
  email: Type.Optional(NullableString),
  scope: Type.Optional(Scope),
  disabled: Type.Optional(Type.Boolean())
}, { additionalProperties: false })

const GrantTypeName = OneOf(GRANT_TYPES)

export const ClientView = Type.Object({
  client_id: Type.String(),
  public: Type.Boolean(),
  grant_types: Type.Array(GrantTypeName),
  scope: NullableString,
  redirect_uris: Type.Array(Type.String()),
  created_at: Type.Integer(),
  client_secret: Type.Optional(Type.String({ description: 'only in the reply that created or re-issued it' }))
}, { $id: 'Client' })

export const CreateClient = Type.Object({
  client_id: ClientId,
  public: Type.Optional(Type.Boolean({ default: false })),
  grant_types: Type.Array(GrantTypeName, { minItems: 1, maxItems: GRANT_TYPES.length }),
  scope: Type.Optional(NullableScope),
  redirect_uris: Type.Optional(Type.Array(Type.String({ maxLength: 2048 }), { maxItems: 20 }))
}, { additionalProperties: false })

export const UpdateClient = Type.Object({
  grant_types: Type.Optional(Type.Array(GrantTypeName, { minItems: 1, maxItems: GRANT_TYPES.length })),
  scope: Type.Optional(NullableScope),
  redirect_uris: Type.Optional(Type.Array(Type.String({ maxLength: 2048 }), { maxItems: 20 })),
  rotate_secret: Type.Optional(Type.Boolean({ description: 'issue a new secret (shown once); the old one stops working' }))
}, { additionalProperties: false })

export const KeyRotation = Type.Object({ kid: Type.String(), activates_at: Type.Integer() })

/** An error body whose `error` is one of `codes` (the document then says exactly which). */
const errorBody = (codes: AdminErrorCode[], description: string) => Type.Object({
  error: OneOf(codes),
  error_description: Type.Optional(Type.String())
}, { description })

/** Replies every admin route can give besides its success. */
export const adminErrors = {
  400: errorBody(['invalid_request'], 'malformed request, or a value the rules refuse'),
  401: BearerErrorResponse,
  403: BearerErrorResponse,
  404: errorBody(['not_found'], 'no such user or client'),
  409: errorBody(['conflict'], 'the user or client already exists'),
  503: errorBody(['temporarily_unavailable'], 'the database is unreachable; Retry-After says when to try again')
}

/** …and those of a route that reads a request body (POST, PATCH, DELETE): Fastify parses one whenever it is sent. */
export const adminBodyErrors = {
  ...adminErrors,
  413: errorBody(['invalid_request'], 'the body is larger than the limit (1 MiB)'),
  415: errorBody(['invalid_request'], 'the body is neither JSON nor another type the server reads')
}

export const adminSecurity = [{ bearerAuth: ['admin'] }]

export { UserView }

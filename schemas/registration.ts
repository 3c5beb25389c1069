import { Type } from '@sinclair/typebox'
import { BearerErrorSchema, ref } from './common.js'
import { AdminErrorSchemas } from './admin.js'
import { OneOf, REGISTRATION_ERROR_CODES } from './vocabulary.js'

/**
 * RFC 7591 / RFC 7592 dynamic client registration (docs/registration.md). The request schema documents the
 * metadata; lib/oauth/registration-metadata.ts holds the rules, and answers any body that breaks them (this schema
 * included) with RFC 7591 §3.2.2's codes.
 */

/** Where a registration's tokens go: an initial access token at POST /register, the registration access token after. */
export const registrationSecurity = [{ registrationToken: [] }, {}] as Array<Record<string, string[]>>
export const registrationManagementSecurity = [{ registrationToken: [] }] as Array<Record<string, string[]>>

const Uri = (description: string) => Type.String({ maxLength: 2000, description })
const List = (maxItems: number, description: string) => Type.Array(Type.String({ maxLength: 2000 }), { maxItems, description })

const metadata = {
  redirect_uris: Type.Optional(List(10, 'https; http only on 127.0.0.1, [::1] or localhost (any port); or a private-use scheme such as com.example.app:/cb (RFC 8252 §7). No fragment')),
  grant_types: Type.Optional(List(10, 'authorization_code (the default) and refresh_token; client_credentials only with REGISTRATION=token')),
  response_types: Type.Optional(List(5, 'code (the default with authorization_code)')),
  token_endpoint_auth_method: Type.Optional(Type.String({ maxLength: 64, description: 'none (a public client), client_secret_basic (the default), client_secret_post, or private_key_jwt (RFC 7523: with jwks or jwks_uri; no secret is issued)' })),
  jwks: Type.Optional(Type.Object({ keys: Type.Array(Type.Object({}, { additionalProperties: true }), { maxItems: 10 }) }, { additionalProperties: true, description: 'its public keys as a JWK Set (public members only; RSA ≥ 2048 bits, EC P-256/384/521, Ed25519): private_key_jwt and signed request objects. Never with jwks_uri' })),
  jwks_uri: Type.Optional(Uri('where its JWK Set is published (https); never with jwks')),
  client_name: Type.Optional(Type.String({ maxLength: 100, description: 'shown on the consent page, marked as not verified' })),
  client_uri: Type.Optional(Uri('https; shown on the consent page, marked as not verified')),
  logo_uri: Type.Optional(Uri('https; shown on the consent page, marked as not verified')),
  scope: Type.Optional(Type.String({ maxLength: 2048, description: 'scopes that exist on this server (never admin); default: openid profile email address phone' })),
  contacts: Type.Optional(List(5, 'people responsible for the client')),
  tos_uri: Type.Optional(Uri('https')),
  policy_uri: Type.Optional(Uri('https')),
  require_pushed_authorization_requests: Type.Optional(Type.Boolean({ description: 'RFC 9126 §6: its authorization requests must be pushed to POST /par first' })),
  dpop_bound_access_tokens: Type.Optional(Type.Boolean({ description: 'RFC 9449 §5.2: true, every token request of the client must carry a DPoP proof (default false)' }))
}

export const RegistrationRequestSchema = Type.Object(metadata, {
  additionalProperties: true,
  description: 'RFC 7591 §2 client metadata; unknown fields are ignored',
  examples: [{ redirect_uris: ['https://app.example/cb'], client_name: 'Example App', token_endpoint_auth_method: 'none' }]
})

export const RegistrationUpdateSchema = Type.Object({
  client_id: Type.String({ maxLength: 256, description: 'the client\'s own id' }),
  client_secret: Type.Optional(Type.String({ maxLength: 512, description: 'its current secret, kept; leave it out to be given a new one' })),
  ...metadata
}, {
  additionalProperties: true,
  description: 'RFC 7592 §2.2: the whole metadata, replacing what is stored',
  examples: [{ client_id: 'dyn.x2Zk…', redirect_uris: ['https://app.example/cb'], client_name: 'Example App', token_endpoint_auth_method: 'none' }]
})

export const RegistrationResponse = Type.Object({
  client_id: Type.String(),
  client_secret: Type.Optional(Type.String({ description: 'a confidential client\'s secret, in the reply that issued it only' })),
  client_secret_expires_at: Type.Optional(Type.Integer({ description: '0: it does not expire' })),
  client_id_issued_at: Type.Integer(),
  registration_access_token: Type.String({ description: 'for GET, PUT and DELETE at registration_client_uri (RFC 7592); keep it' }),
  registration_client_uri: Type.String(),
  redirect_uris: Type.Array(Type.String()),
  grant_types: Type.Array(Type.String()),
  response_types: Type.Array(Type.String()),
  token_endpoint_auth_method: Type.String(),
  jwks: Type.Optional(Type.Object({ keys: Type.Array(Type.Object({}, { additionalProperties: true })) }, { additionalProperties: true })),
  jwks_uri: Type.Optional(Type.String()),
  scope: Type.Optional(Type.String()),
  client_name: Type.Optional(Type.String()),
  client_uri: Type.Optional(Type.String()),
  logo_uri: Type.Optional(Type.String()),
  contacts: Type.Optional(Type.Array(Type.String())),
  tos_uri: Type.Optional(Type.String()),
  policy_uri: Type.Optional(Type.String()),
  require_pushed_authorization_requests: Type.Optional(Type.Boolean()),
  dpop_bound_access_tokens: Type.Boolean()
}, {
  $id: 'RegisteredClient',
  description: 'RFC 7591 §3.2.1: the client as registered',
  examples: [{ client_id: 'dyn.x2Zk…', client_id_issued_at: 1767224700, registration_access_token: 'q8Hn…', registration_client_uri: 'http://localhost:3000/register/dyn.x2Zk…', redirect_uris: ['https://app.example/cb'], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none', scope: 'openid profile email address phone', client_name: 'Example App' }]
})

export const RegistrationErrorSchema = Type.Object({
  error: OneOf(REGISTRATION_ERROR_CODES),
  error_description: Type.Optional(Type.String())
}, {
  $id: 'RegistrationError',
  description: 'RFC 7591 §3.2.2 error',
  examples: [{ error: 'invalid_redirect_uri', error_description: 'plain http redirect URIs are only allowed on 127.0.0.1, [::1] or localhost' }]
})

export const ClientIdPath = Type.Object({ client_id: Type.String({ maxLength: 256 }) })

const errors = {
  400: ref(RegistrationErrorSchema, 'invalid_redirect_uri or invalid_client_metadata (RFC 7591 §3.2.2), or a body that is not JSON'),
  401: ref(BearerErrorSchema, 'invalid_token: no usable initial access token (REGISTRATION=token), or a wrong registration access token (WWW-Authenticate: Bearer)'),
  404: ref(AdminErrorSchemas.notFound, 'registration is off on this server (REGISTRATION=off)'),
  413: ref(RegistrationErrorSchema, 'the body is larger than 16 KiB'),
  415: ref(RegistrationErrorSchema, 'invalid_request: the body is of a type the server does not read'),
  503: ref(RegistrationErrorSchema, 'temporarily_unavailable: the database is unreachable; Retry-After says when to try again')
}

export const registerSchema = {
  operationId: 'registerClient',
  tags: ['registration'],
  summary: 'Register a client (RFC 7591)',
  description: 'When REGISTRATION is `open` or `token` (with an initial access token as a bearer token). Answers the client as registered, ' +
    'with its registration access token (and secret, when confidential) shown this once. At most 20 registrations an hour from one address (429).',
  security: registrationSecurity,
  body: RegistrationRequestSchema,
  response: {
    201: ref(RegistrationResponse, 'the client as registered'),
    ...errors,
    429: ref(RegistrationErrorSchema, 'too_many_requests: too many registrations from this address; Retry-After says when to try again')
  }
}

const managed = { tags: ['registration'], security: registrationManagementSecurity, params: ClientIdPath }

export const readRegistrationSchema = {
  ...managed,
  operationId: 'readRegistration',
  summary: 'Read a registered client (RFC 7592 §2.1)',
  description: 'With its registration access token as a bearer token.',
  response: { 200: ref(RegistrationResponse, 'the client as registered (without its secret)'), 400: ref(RegistrationErrorSchema, 'invalid_request: a malformed URL'), 401: errors[401], 404: errors[404], 503: errors[503] }
}

export const updateRegistrationSchema = {
  ...managed,
  operationId: 'updateRegistration',
  summary: 'Replace a registered client\'s metadata (RFC 7592 §2.2)',
  description: 'The same rules as registering. A confidential client that sends its `client_secret` keeps it; one that leaves it out gets a new one in this reply.',
  body: RegistrationUpdateSchema,
  response: { 200: ref(RegistrationResponse, 'the client as updated'), ...errors }
}

export const deleteRegistrationSchema = {
  ...managed,
  operationId: 'deleteRegistration',
  summary: 'Delete a registered client (RFC 7592 §2.3)',
  description: 'The client and every token issued to it stop working.',
  response: { 204: Type.Null({ description: 'deleted' }), 400: errors[400], 401: errors[401], 404: errors[404], 413: errors[413], 415: errors[415], 503: errors[503] }
}

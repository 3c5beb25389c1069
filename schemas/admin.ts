import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { bearerRefusals, ClientId, EXCHANGE_RESOURCES_MAX, NullableString, Password, ref, Scope, Username } from './common.js'
import { bearerSecurity } from './security.js'
import { GRANT_TYPES, OneOf, PKCE_POLICIES, SIGNING_ALGS, type AdminErrorCode, type SigningAlg } from './vocabulary.js'
import { UserView } from './users.js'
import { UserClaims, UserClaimsUpdate } from './claims.js'

const NullableScope = Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: 2048, description: 'space-separated scopes the client may ask for; null = only the user\'s scopes' })

/** A client's upstream providers (issue 14): null = every provider and the password form. */
const ClientProviders = Type.Unsafe<string[] | null>({
  type: ['array', 'null'],
  items: { type: 'string', maxLength: 32 },
  maxItems: 20,
  description: 'the upstream providers its users may sign in with (names); when set, the login page offers only these and no password form. null = every provider and the password form'
})

const Pkce = OneOf(PKCE_POLICIES, { description: 'required (default; always for public clients): every authorization request carries an S256 code_challenge. optional: a confidential client may leave PKCE out (the OpenID nonce then protects its code flow, RFC 9700 §2.1.1)' })
const nullableAlg = (description: string) => Type.Unsafe<SigningAlg | null>({ type: ['string', 'null'], enum: [...SIGNING_ALGS, null], description })
const IdTokenAlg = nullableAlg('how its ID tokens are signed; null = the server default (RS256)')
const UserinfoAlg = nullableAlg('sign /userinfo answers as a JWT with this algorithm; null = plain JSON')
const BackchannelLogoutUri = Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: 2048, description: 'OpenID Connect Back-Channel Logout 1.0: where a logout token is posted when a session of its users ends; null = none' })

export const DEFAULT_PAGE = { limit: 100, offset: 0 }

/** `?limit&offset`, both optional (a generated client may leave them out); Ajv fills in the defaults. */
export const Paging = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: DEFAULT_PAGE.limit, description: 'at most this many (default 100)' })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, default: DEFAULT_PAGE.offset, description: 'skip this many (default 0)' }))
})
export type Page = Required<Static<typeof Paging>>

export const UsernameParam = Type.Object({ username: Type.String({ maxLength: 256 }) })
export const ClientIdParam = Type.Object({ client_id: Type.String({ maxLength: 256 }) })

export const CreateUser = Type.Object({
  username: Username,
  password: Password,
  full_name: Type.Optional(NullableString),
  email: Type.Optional(NullableString),
  scope: Type.Optional(Scope),
  disabled: Type.Optional(Type.Boolean()),
  claims: Type.Optional(UserClaims)
}, { additionalProperties: false, examples: [{ username: 'alice', password: 'correct horse battery staple', full_name: 'Alice Liddell', scope: 'items:read' }] })

export const UpdateUser = Type.Object({
  password: Type.Optional(Password),
  full_name: Type.Optional(NullableString),
  email: Type.Optional(NullableString),
  scope: Type.Optional(Scope),
  disabled: Type.Optional(Type.Boolean()),
  claims: Type.Optional(UserClaimsUpdate)
}, { additionalProperties: false })

const GrantTypeName = OneOf(GRANT_TYPES)

/** Token exchange (RFC 8693, docs/token-exchange.md): registered resource URIs, each list replaced whole. */
const ExchangeSources = Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
  maxItems: EXCHANGE_RESOURCES_MAX,
  description: 'token exchange: the registered resources this client acts for; it may exchange tokens whose aud is one of them (a resource server exchanging what it received)'
})
const ExchangeTargets = Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
  maxItems: EXCHANGE_RESOURCES_MAX,
  description: 'token exchange: the registered resources this client may exchange a token for (the new token\'s aud); empty: none'
})

/** A client's keys (RFC 7591 §2; docs/client-authentication.md): a public JWK Set inline, or where it is published. */
const Jwks = Type.Unsafe<{ keys: Array<Record<string, unknown>> } | null>({
  type: ['object', 'null'],
  required: ['keys'],
  properties: { keys: { type: 'array', minItems: 1, maxItems: 10, items: { type: 'object', additionalProperties: true } } },
  additionalProperties: true,
  description: 'its public keys as a JWK Set (RSA of 2048 bits or more, EC P-256/384/521, Ed25519; no private members): private_key_jwt (RFC 7523) and signed request objects (RFC 9101). Never with jwks_uri; null removes it'
})
const JwksUri = Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: 2048, description: 'where its JWK Set is published (https; fetched and cached, refetched on an unknown kid); never with jwks; null removes it' })
const TokenEndpointAuthMethod = Type.Unsafe<'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none' | null>({
  type: ['string', 'null'],
  enum: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none', null],
  description: 'the one way it may authenticate (RFC 7591 §2); null: any it has credentials for. A confidential client given keys and no method uses private_key_jwt and gets no secret; client_secret_basic or client_secret_post gives it one too'
})

export const ClientView = Type.Object({
  client_id: Type.String(),
  public: Type.Boolean(),
  grant_types: Type.Array(GrantTypeName),
  scope: NullableString,
  redirect_uris: Type.Array(Type.String()),
  post_logout_redirect_uris: Type.Array(Type.String(), { description: 'where RP-initiated logout (GET /logout) may return' }),
  skip_consent: Type.Boolean({ description: 'the consent page is never shown for this client' }),
  providers: Type.Optional(ClientProviders),
  pkce: Pkce,
  id_token_alg: IdTokenAlg,
  userinfo_alg: UserinfoAlg,
  backchannel_logout_uri: BackchannelLogoutUri,
  require_mfa: Type.Boolean({ description: 'its users must have used a second factor in the browser (docs/second-factors.md)' }),
  dpop_bound_access_tokens: Type.Boolean({ description: 'RFC 9449 §5.2: every token request must carry a DPoP proof (docs/dpop.md)' }),
  password_grant_skips_mfa: Type.Boolean({ description: 'legacy: the password grant serves users who have a second factor on the password alone' }),
  require_pushed_authorization_requests: Type.Optional(Type.Boolean({ description: 'its authorization requests must be pushed to POST /par first (RFC 9126, docs/par.md)' })),
  exchange_sources: Type.Optional(ExchangeSources),
  exchange_targets: Type.Optional(ExchangeTargets),
  jwks: Type.Optional(Jwks),
  jwks_uri: Type.Optional(JwksUri),
  token_endpoint_auth_method: Type.Optional(TokenEndpointAuthMethod),
  created_at: Type.Integer(),
  registered: Type.Optional(Type.Boolean({ description: 'it registered itself through POST /register (RFC 7591, docs/registration.md)' })),
  registration: Type.Optional(Type.Unsafe<'open' | 'token' | 'cimd' | null>({ type: ['string', 'null'], enum: ['open', 'token', 'cimd', null], description: 'how it registered itself: open, or with an initial access token; cimd when its id is the URL of its Client ID Metadata Document; null when an administrator made it' })),
  client_name: Type.Optional(NullableString),
  client_uri: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'] })),
  logo_uri: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'] })),
  registered_by: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], description: 'the client address that registered it' })),
  first_used_at: Type.Optional(Type.Unsafe<number | null>({ type: ['integer', 'null'], description: 'when it first got tokens; an open registration never used is deleted after 24 hours' })),
  client_secret: Type.Optional(Type.String({ description: 'only in the reply that created or re-issued it' }))
}, {
  $id: 'Client',
  description: 'A client as the API shows it (never the secret digest)',
  examples: [{ client_id: 'svc', public: false, grant_types: ['client_credentials'], scope: 'orders:read', redirect_uris: [], post_logout_redirect_uris: [], skip_consent: false, pkce: 'required', id_token_alg: null, userinfo_alg: null, backchannel_logout_uri: null, require_mfa: false, dpop_bound_access_tokens: false, password_grant_skips_mfa: false, created_at: 1767224700, client_secret: 'l8Yk1m…' }]
})

export const CreateClient = Type.Object({
  client_id: ClientId,
  public: Type.Optional(Type.Boolean({ default: false })),
  grant_types: Type.Array(GrantTypeName, { minItems: 1, maxItems: GRANT_TYPES.length }),
  scope: Type.Optional(NullableScope),
  redirect_uris: Type.Optional(Type.Array(Type.String({ maxLength: 2048 }), { maxItems: 20 })),
  post_logout_redirect_uris: Type.Optional(Type.Array(Type.String({ maxLength: 2048 }), { maxItems: 20, description: 'where RP-initiated logout may return (exact match)' })),
  skip_consent: Type.Optional(Type.Boolean({ default: false, description: 'never show the consent page (first-party clients)' })),
  providers: Type.Optional(ClientProviders),
  pkce: Type.Optional(Pkce),
  id_token_alg: Type.Optional(IdTokenAlg),
  userinfo_alg: Type.Optional(UserinfoAlg),
  backchannel_logout_uri: Type.Optional(BackchannelLogoutUri),
  require_mfa: Type.Optional(Type.Boolean({ default: false, description: 'its users must use a second factor in the browser; those without one enrol one first' })),
  dpop_bound_access_tokens: Type.Optional(Type.Boolean({ default: false, description: 'RFC 9449 §5.2: every token request must carry a DPoP proof, so its access tokens are always DPoP-bound' })),
  password_grant_skips_mfa: Type.Optional(Type.Boolean({ default: false, description: 'legacy: let the password grant serve users who have a second factor, on the password alone' })),
  require_pushed_authorization_requests: Type.Optional(Type.Boolean({ default: false, description: 'its authorization requests must be pushed to POST /par first (RFC 9126); a plain /authorize is refused' })),
  exchange_sources: Type.Optional(ExchangeSources),
  exchange_targets: Type.Optional(ExchangeTargets),
  jwks: Type.Optional(Jwks),
  jwks_uri: Type.Optional(JwksUri),
  token_endpoint_auth_method: Type.Optional(TokenEndpointAuthMethod),
  client_name: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], minLength: 1, maxLength: 100, description: 'the name the login and consent pages show (never HTML); null: its id' })),
  logo_uri: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: 2000, description: 'the logo the login and consent pages show: an https URL (http on loopback); the page\'s CSP allows exactly it' }))
}, { additionalProperties: false, examples: [{ client_id: 'svc', grant_types: ['client_credentials'], scope: 'orders:read' }] })

export const UpdateClient = Type.Object({
  grant_types: Type.Optional(Type.Array(GrantTypeName, { minItems: 1, maxItems: GRANT_TYPES.length })),
  scope: Type.Optional(NullableScope),
  redirect_uris: Type.Optional(Type.Array(Type.String({ maxLength: 2048 }), { maxItems: 20 })),
  post_logout_redirect_uris: Type.Optional(Type.Array(Type.String({ maxLength: 2048 }), { maxItems: 20 })),
  skip_consent: Type.Optional(Type.Boolean()),
  providers: Type.Optional(ClientProviders),
  pkce: Type.Optional(Pkce),
  id_token_alg: Type.Optional(IdTokenAlg),
  userinfo_alg: Type.Optional(UserinfoAlg),
  backchannel_logout_uri: Type.Optional(BackchannelLogoutUri),
  require_mfa: Type.Optional(Type.Boolean()),
  dpop_bound_access_tokens: Type.Optional(Type.Boolean()),
  password_grant_skips_mfa: Type.Optional(Type.Boolean()),
  require_pushed_authorization_requests: Type.Optional(Type.Boolean()),
  exchange_sources: Type.Optional(ExchangeSources),
  exchange_targets: Type.Optional(ExchangeTargets),
  jwks: Type.Optional(Jwks),
  jwks_uri: Type.Optional(JwksUri),
  token_endpoint_auth_method: Type.Optional(TokenEndpointAuthMethod),
  client_name: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], minLength: 1, maxLength: 100, description: 'the name the login and consent pages show (never HTML); null: its id' })),
  logo_uri: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: 2000, description: 'the logo the login and consent pages show: an https URL (http on loopback); the page\'s CSP allows exactly it' })),
  rotate_secret: Type.Optional(Type.Boolean({ description: 'issue a new secret (shown once); the old one stops working' }))
}, { additionalProperties: false })

export const KeyRotation = Type.Object({
  kid: Type.String({ description: 'the id of the new key that signs access tokens (ACCESS_TOKEN_ALG), published in the JWKS at once' }),
  activates_at: Type.Integer({ description: 'when it starts signing (Unix seconds)' }),
  keys: Type.Array(Type.Object({
    kid: Type.String(),
    alg: Type.String({ description: '`RS256` or `ES256`' }),
    activates_at: Type.Integer()
  }), { description: 'every new key: one per signing algorithm, rotated together' })
}, { $id: 'KeyRotation', examples: [{ kid: 'yH0dK3jV…', activates_at: 1767224730, keys: [{ kid: 'Qx7…', alg: 'RS256', activates_at: 1767224730 }, { kid: 'yH0dK3jV…', alg: 'ES256', activates_at: 1767224730 }] }] })

export const SigningKeyView = Type.Object({
  kid: Type.String({ description: 'the key\'s id (RFC 7638 thumbprint), as the JWKS names it' }),
  alg: Type.String({ description: '`RS256` or `ES256`' }),
  state: Type.Union([Type.Literal('next'), Type.Literal('signing'), Type.Literal('retired'), Type.Literal('dropped')], {
    description: '`next`: published, not signing yet; `signing`: the key of its algorithm that signs now; `retired`: a later key took over, ' +
      'still published (it verifies the tokens it signed) until `published_until`; `dropped`: past that, out of the JWKS (the next key reload deletes it)'
  }),
  created_at: Type.Integer({ description: 'when it was added (Unix seconds)' }),
  activates_at: Type.Integer({ description: 'when it starts (or started) signing (Unix seconds)' }),
  retires_at: Type.Union([Type.Integer(), Type.Null()], { description: 'when a later key of its algorithm takes (or took) over; null while there is none' }),
  published_until: Type.Union([Type.Integer(), Type.Null()], { description: 'a retired key: until when the JWKS publishes it; null before it retires' })
}, { $id: 'SigningKey', description: 'a signing key in the store: never its private part', examples: [{ kid: 'yH0dK3jV…', alg: 'ES256', state: 'signing', created_at: 1767224700, activates_at: 1767224730, retires_at: null, published_until: null }] })

/** A named error body whose `error` is one of `codes` (the document then says exactly which). */
const errorBody = (id: string, codes: AdminErrorCode[], description: string) => Type.Object({
  error: OneOf(codes),
  error_description: Type.Optional(Type.String())
}, { $id: id, description })

export const AdminErrorSchemas = {
  invalidRequest: errorBody('InvalidRequestError', ['invalid_request'], 'a malformed request, or a value the rules refuse'),
  notFound: errorBody('NotFoundError', ['not_found'], 'no such user or client'),
  conflict: errorBody('ConflictError', ['conflict'], 'the user or client already exists'),
  unavailable: errorBody('UnavailableError', ['temporarily_unavailable'], 'the database is unreachable; Retry-After says when to try again')
}
const { invalidRequest, notFound, conflict, unavailable } = AdminErrorSchemas

/**
 * Replies every admin route can give besides its success. No 409: reading never conflicts (lib/admin throws
 * `conflict` only when it creates or sends something), so the GETs that use these alone do not declare one.
 */
export const adminErrors = {
  400: ref(invalidRequest, 'a malformed request, or a value the rules refuse'),
  ...bearerRefusals('admin'),
  404: ref(notFound, 'no such user or client'),
  503: ref(unavailable, 'the database is unreachable; Retry-After says when to try again')
}

/** …and those of a route that reads a request body (POST, PATCH, DELETE): Fastify parses one whenever it is sent. */
export const adminBodyErrors = {
  ...adminErrors,
  409: ref(conflict, 'the user or client already exists'),
  413: ref(invalidRequest, 'the body is larger than the limit (1 MiB)'),
  415: ref(invalidRequest, 'the body is neither JSON nor another type the server reads')
}

export const adminSecurity = bearerSecurity('admin')

/** The schema of an admin DELETE: 204 with no body once `done`, or one of the admin errors. */
export function adminDeletion<P extends TSchema> (params: P, doc: { operationId: string, summary: string, description: string, done: string }) {
  const { operationId, summary, description, done } = doc
  return { operationId, tags: ['admin'], security: adminSecurity, summary, description, params, response: { 204: Type.Null({ description: done }), ...adminBodyErrors } }
}

/** The media types `POST /admin/users/import` reads: JSON Lines (one JSON object a line). */
export const IMPORT_MEDIA_TYPES = ['application/x-ndjson', 'application/jsonl']

/** One line of an import (and of `gatehouse users export`): documentation; lib/admin/user-import.ts checks it. */
export const ImportLine = Type.Object({
  username: Username,
  password_hash: Type.Unsafe<string | null>({
    type: ['string', 'null'],
    description: 'the hash as the other system stored it: argon2id or argon2i (PHC), bcrypt ($2a$, $2b$, $2y$), PBKDF2-SHA256 as passlib ($pbkdf2-sha256$…) or Django (pbkdf2_sha256$…); null for a user without a password; `!upstream` for a user who signs in through an upstream provider only (as exported)'
  }),
  full_name: Type.Optional(NullableString),
  email: Type.Optional(NullableString),
  scope: Type.Optional(Scope),
  disabled: Type.Optional(Type.Boolean()),
  claims: Type.Optional(UserClaims),
  sub: Type.Optional(Type.String({ format: 'uuid', description: 'the subject the user had elsewhere (another Gatehouse, Keycloak); default a new one' }))
}, { additionalProperties: false, description: 'one line of the JSON Lines body' })

export const ImportQuery = Type.Object({
  update: Type.Boolean({ default: false, description: 'existing users take the values of their line instead of being skipped' })
})

/** How far an import got: in every answer, so a caller whose import stopped knows where to start again. */
const importProgress = {
  committed_lines: Type.Integer({ minimum: 0, description: 'lines from the first whose outcome is in the database (blank and rejected lines included)' }),
  resume_from_line: Type.Unsafe<number | null>({
    type: ['integer', 'null'],
    minimum: 1,
    description: 'the first line not in the database when the import stopped before the end (send the lines from it again, or the whole input: the import is idempotent); null when it finished'
  })
}

const importCounts = {
  imported: Type.Integer({ description: 'users created' }),
  updated: Type.Integer({ description: 'existing users changed (only with update=true)' }),
  skipped: Type.Integer({ description: 'lines whose username exists already (with update=true: and is unchanged)' }),
  rejected: Type.Array(Type.Object({ line: Type.Integer(), reason: Type.String() }), { description: 'the first 1,000 rejected lines, by line number' }),
  rejected_count: Type.Integer({ description: 'every rejected line' })
}

export const ImportSummary = Type.Object({
  ...importCounts,
  ...importProgress
}, { description: 'what the import did: counts, the rejected lines with their reasons, and how many lines are in the database' })

/**
 * An import that stopped part-way: the error, and what the batches committed before it did. The counts are
 * absent only when the request was refused before the import began (a bad query).
 */
export const ImportStoppedError = Type.Object({
  error: OneOf(['invalid_request', 'temporarily_unavailable']),
  error_description: Type.Optional(Type.String()),
  ...Type.Partial(Type.Object({ ...importCounts, ...importProgress })).properties
}, { $id: 'ImportStoppedError', description: 'an import that stopped part-way: why, what is in the database, and the line to resume from' })

/** The replies of the import besides its 200. */
export const importErrors = {
  400: ref(ImportStoppedError, 'no body (committed_lines 0), or a malformed request'),
  ...bearerRefusals('admin'),
  413: ref(ImportStoppedError, 'the body is larger than IMPORT_MAX_BYTES (64 MiB by default); the batches before the limit are imported: committed_lines and resume_from_line say how far'),
  415: ref(invalidRequest, 'the body is not JSON Lines (Content-Type application/x-ndjson or application/jsonl)'),
  503: ref(ImportStoppedError, 'the database is unreachable; the batches before it are imported (committed_lines), and sending the lines from resume_from_line (or the whole file) again finishes it')
}

export { UserView }

/** POST /admin/users/{username}/reset-password and `gatehouse users reset-password` answer this. */
export const PasswordResetSent = Type.Object({
  email: Type.String({ description: 'the address the link was sent to: the user\'s' }),
  expires_at: Type.Integer({ description: 'when the link stops working (Unix seconds): 30 minutes after it was sent' })
}, { description: 'a reset link was queued for the user', examples: [{ email: 'alice@example.com', expires_at: 1767226500 }] })

/** RFC 7591 initial access tokens (REGISTRATION=token): never the token, but in the reply that made it. */
export const RegistrationTokenView = Type.Object({
  id: Type.String(),
  expires_at: Type.Unsafe<number | null>({ type: ['integer', 'null'], description: 'when it stops working; null: never' }),
  max_uses: Type.Unsafe<number | null>({ type: ['integer', 'null'], description: 'registrations it allows; null: no limit' }),
  uses: Type.Integer({ description: 'registrations it made' }),
  created_at: Type.Integer(),
  token: Type.Optional(Type.String({ description: 'the token itself, in the reply that made it only' }))
}, { examples: [{ id: '3f9c2a1b7d4e', expires_at: 1767311100, max_uses: 10, uses: 0, created_at: 1767224700, token: 'm3Vd…' }] })

export const CreateRegistrationToken = Type.Object({
  expires_in: Type.Optional(Type.Integer({ minimum: 1, maximum: 365 * 24 * 3600, description: 'seconds from now; absent: never expires' })),
  max_uses: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'registrations it allows; absent: no limit' }))
}, { additionalProperties: false, examples: [{ expires_in: 86400, max_uses: 10 }] })

export const RegistrationTokenIdParam = Type.Object({ id: Type.String({ maxLength: 64 }) })

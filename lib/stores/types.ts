import type { GrantType, PkcePolicy, SigningAlg } from '../../schemas/vocabulary.js'

/**
 * The store ports. Each is one narrow interface with a SQLite and a PostgreSQL implementation
 * (lib/stores/sqlite, lib/stores/postgres) and one shared test suite (test/stores) run against both.
 * Times are unix seconds. Secrets (passwords, client secrets, refresh tokens) only ever arrive here hashed.
 */

export interface User {
  /**
   * Stable subject identifier (`sub`), a UUID: usernames may change, `sub` never does. Gatehouse makes it,
   * or an import keeps the one the user had before (another Gatehouse, Keycloak), also a UUID.
   */
  id: string
  username: string
  fullName: string | null
  email: string | null
  /**
   * The user proved `email` (a verification link, a password reset through it), or an administrator or an import
   * said so (`claims.email_verified` on the way in). The one source of the `email_verified` claim: `claims` never
   * holds it (the stores move it here), and a changed address starts unverified.
   */
  emailVerified: boolean
  disabled: boolean
  /** Space-separated scopes the user may be granted. */
  scope: string
  passwordHash: string | null
  /**
   * Bumped by every change that must end the user's sessions (a new password, disabling; see
   * `endsSessions` in rows.ts). Grants and access tokens carry the version they were issued under; a grant
   * is only created while it is still current, and a token from an older one is refused.
   */
  credentialVersion: number
  /**
   * Who created the user when it was not an administrator or an import: `provider:<name>` for a user an upstream
   * provider's first sign-in created. An import never merges into such a user (its username may have been taken
   * first by whoever controls that provider account). Null otherwise.
   */
  createdBy: string | null
  /** The standard claims besides name and e-mail (OIDC Core §5.1), checked by lib/admin/user-claims.ts; {} when none. */
  claims: UserClaims
  createdAt: number
  updatedAt: number
}

/** The address claim (OIDC Core §5.1.1). */
export interface AddressClaim {
  formatted?: string
  street_address?: string
  locality?: string
  region?: string
  postal_code?: string
  country?: string
}

/**
 * The standard claims a user record holds besides `name` (User.fullName), `preferred_username` (the username),
 * `email` and `updated_at` (User.updatedAt): OIDC Core §5.1 names and types. `email_verified` is accepted here on the
 * way in (an administrator or an import says the address was proven) but stored as User.emailVerified.
 */
export interface UserClaims {
  given_name?: string
  family_name?: string
  middle_name?: string
  nickname?: string
  profile?: string
  picture?: string
  website?: string
  gender?: string
  birthdate?: string
  zoneinfo?: string
  locale?: string
  phone_number?: string
  phone_number_verified?: boolean
  email_verified?: boolean
  address?: AddressClaim
}

/**
 * The claims an authorization request asked for by name through the `claims` parameter (OIDC Core §5.5), per
 * place (only names Gatehouse supports are kept; `essential` and `value` change nothing: what the user record
 * holds is released, what it lacks is absent).
 */
export interface RequestedClaims {
  userinfo: string[]
  idToken: string[]
}

export interface NewUser {
  username: string
  passwordHash: string | null
  fullName?: string | null
  email?: string | null
  /** Default: `claims.email_verified === true`. */
  emailVerified?: boolean
  scope?: string
  disabled?: boolean
  createdBy?: string | null
  claims?: UserClaims
}

/**
 * A user as an import brings it: `id` is the subject it had elsewhere (absent: a new UUID). In an update,
 * optional fields left undefined keep the stored value.
 */
export interface ImportedUser extends NewUser {
  id?: string
}

/** What `importBatch` did with one user, in input order. */
export type ImportOutcome =
  | { outcome: 'created', id: string }
  /** The username exists and nothing was written: no update asked, or the stored user already matches. */
  | { outcome: 'skipped' }
  /** The existing user now holds the imported values; `revoke` when its password changed or it was disabled. */
  | { outcome: 'updated', id: string, revoke: boolean }
  /** The imported `id` belongs to another user (or, in an update, is not the existing user's). */
  | { outcome: 'id-conflict' }
  /** The username belongs to a user an upstream provider created (`createdBy`): nothing was written, with or without update. */
  | { outcome: 'created-by-provider', createdBy: string }

/** A patch's `claims` (the whole new set) also sets `emailVerified` from its `email_verified`, unless `emailVerified` is given. */
export type UserPatch = Partial<Pick<User, 'fullName' | 'email' | 'emailVerified' | 'scope' | 'disabled' | 'passwordHash' | 'claims'>>

export interface Page { limit: number, offset: number }

export interface UserStore {
  /** Throws ConflictError when the username is taken. */
  create (user: NewUser): Promise<User>
  findById (id: string): Promise<User | undefined>
  findByUsername (username: string): Promise<User | undefined>
  /** Users whose e-mail is `email` (compared case-insensitively), at most `limit` (linking by e-mail refuses an ambiguous one). */
  findByEmail (email: string, limit: number): Promise<User[]>
  list (page: Page): Promise<User[]>
  update (username: string, patch: UserPatch): Promise<User | undefined>
  /**
   * Sets the password hash only while it is still `expected`; true when it did. The upgrade after a sign-in
   * (lib/oauth/grants/password.ts) uses it, so a rehash that lands late never overwrites a password changed
   * (or a user re-imported) meanwhile with the old password.
   */
  replacePasswordHash (username: string, expected: string, next: string): Promise<boolean>
  /**
   * Deletes the user and, in the same transaction, leaves a tombstone: its `sub` and last credential version. A
   * user created again under that `sub` (`importBatch` of an export) starts above that version, so tokens the old
   * user held (those without a family too, which nothing else revokes) stay refused. A tombstone rather than a
   * per-user generation claim: tokens, grants, sessions and codes already carry the credential version and every
   * check already compares it, so no new claim and no verifier change is needed. Tombstones are kept (one small
   * row per deleted user), so dropping one never depends on knowing the longest lifetime of what carried a version.
   */
  delete (username: string): Promise<User | undefined>
  count (): Promise<number>
  /**
   * Imports users in one transaction (all of them or, on an error, none): a new username is inserted, an
   * existing one is left alone, or with `update` takes the imported values; one an upstream provider created
   * (`createdBy` set) is never changed, whatever `update` says. Safe beside other writers
   * (the database settles a race on a username). Outcomes come back in input order. Usernames must be
   * distinct within one call, and so must ids. A user created under the `sub` of a deleted one starts above its
   * tombstone's credential version (`delete`).
   */
  importBatch (users: ImportedUser[], options: { update: boolean }): Promise<ImportOutcome[]>
  /** At most `limit` users in username order, after `after` (exclusive; null: from the first): export pages with it. */
  listAfter (after: string | null, limit: number): Promise<User[]>
  /** The distinct non-empty scope lists users hold (for discovery's scopes_supported). */
  scopeLists (): Promise<string[]>
}

export type { GrantType }

export interface Client {
  id: string
  /** Keyed digest of the secret (see lib/oauth/client-secrets.ts); null for public clients. */
  secretHash: string | null
  isPublic: boolean
  grantTypes: GrantType[]
  /** Scopes the client may ask for; null = not set (only the user's scopes, none for client_credentials). */
  scope: string | null
  redirectUris: string[]
  /**
   * This registration's generation: a random id the store gives each created client (null for clients
   * registered before it existed). Access tokens carry it, so a client deleted and re-created under the same
   * id does not bring its predecessor's tokens back.
   */
  generation: string | null
  /** Where RP-initiated logout may return (OIDC RP-Initiated Logout 1.0 §3), matched exactly. */
  postLogoutRedirectUris: string[]
  /** A first-party client: the consent page is never shown for it. */
  skipConsent: boolean
  /**
   * The upstream providers (names) its users may sign in with; null = every provider and the password form.
   * When set, the login page for its requests offers only these, and no password form.
   */
  providers: string[] | null
  /** Whether an authorization request must carry a PKCE challenge; public clients: always `required`. */
  pkce: PkcePolicy
  /** How its ID tokens are signed; null = the server's default (RS256). */
  idTokenAlg: SigningAlg | null
  /** null: /userinfo answers JSON; an algorithm: a JWT signed with it (OIDC Core §5.3.2). */
  userinfoAlg: SigningAlg | null
  /** Where OpenID Connect Back-Channel Logout 1.0 posts a logout token when a session of its users ends. */
  backchannelLogoutUri: string | null
  /** Its users must have used a second factor in the browser sign-in its codes come from (lib/oauth/interaction.ts `mfa`). */
  requireMfa: boolean
  /**
   * The legacy path: the password grant gives tokens to users who have a second factor, on the password alone
   * (lib/oauth/grants/password.ts refuses them otherwise). Off unless an operator turns it on for one client.
   */
  passwordGrantSkipsMfa: boolean
  /** Its authorization requests must be pushed first (RFC 9126 §5 require_pushed_authorization_requests): a plain /authorize is refused. */
  requirePar: boolean
  /**
   * How the client came to be: null when an administrator created it (admin API, CLI); `open` or `token` when it
   * registered itself through RFC 7591 POST /register (REGISTRATION), without or with an initial access token;
   * `cimd` when its id is the https URL of its Client ID Metadata Document (CLIENT_ID_METADATA_DOCUMENTS), the row
   * built and refreshed from that document (lib/oauth/client-metadata-documents.ts).
   */
  registration: ClientRegistration | null
  /** RFC 7591 §2 metadata a registered client gave about itself: shown to users marked as not verified. */
  clientName: string | null
  clientUri: string | null
  logoUri: string | null
  /** The rest of its RFC 7591 metadata (contacts, tos_uri, policy_uri, token_endpoint_auth_method…), echoed back as stored. */
  registrationMetadata: Record<string, unknown>
  /** Digest (lib/credentials/digest.ts) of its RFC 7592 registration access token; null for clients an administrator created. */
  registrationTokenHash: string | null
  /** The address key (lib/limits/address-key.ts) that registered it; null for clients an administrator created. */
  registeredBy: string | null
  /** When tokens were first issued to it (null: never): registrations never used expire (lib/ops/sweep.ts). */
  firstUsedAt: number | null
  /**
   * Token exchange (RFC 8693, lib/oauth/token-exchange.ts): the resources (URIs) this client acts for, whose tokens
   * it may exchange although they were issued to another client (a resource server exchanging the token it received).
   */
  exchangeSources: string[]
  /** The resources (URIs) it may exchange a token for (the new token's `aud`); empty: none (invalid_target). */
  exchangeTargets: string[]
  /**
   * RFC 9449 §5.2 `dpop_bound_access_tokens`: every token request must carry a DPoP proof (none: invalid_dpop_proof),
   * so its access tokens are always sender-constrained.
   */
  dpopBoundAccessTokens: boolean
  /**
   * Its public keys as a JWK Set given inline (RFC 7591 §2 `jwks`), checked by lib/oauth/client-key-rules.ts: public
   * members only. With them (or `jwksUri`) it may authenticate with private_key_jwt and sign request objects. Null: none.
   */
  jwks: { keys: Array<Record<string, unknown>> } | null
  /** Where its JWK Set is published (RFC 7591 §2 `jwks_uri`), fetched by lib/oauth/client-keys.ts; null: none. Never both. */
  jwksUri: string | null
  /** The one way it may authenticate at the token endpoint (RFC 7591 §2); null: as before (by its secret, or none when public). */
  tokenEndpointAuthMethod: TokenEndpointAuthMethod | null
  createdAt: number
  updatedAt: number
}

/** RFC 7591 §2's token_endpoint_auth_method values Gatehouse knows (client_secret_jwt is not offered: secrets are stored as digests). */
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none'

/** How a client registered itself (RFC 7591): open registration, or with an initial access token. */
export type RegistrationMode = 'open' | 'token'
/** How a self-described client came to be: registered (RFC 7591), or described by its Client ID Metadata Document. */
export type ClientRegistration = RegistrationMode | 'cimd'

/** The client fields a registration may leave out (the store's defaults apply). */
type OptionalClientFields = 'postLogoutRedirectUris' | 'skipConsent' | 'providers' | 'pkce' | 'idTokenAlg' | 'userinfoAlg' | 'backchannelLogoutUri'
  | 'requireMfa' | 'passwordGrantSkipsMfa' | 'exchangeSources' | 'exchangeTargets' | 'requirePar' | 'dpopBoundAccessTokens' | 'jwks' | 'jwksUri' | 'tokenEndpointAuthMethod' | RegistrationFields
/** What RFC 7591/7592 registration writes (lib/oauth/registration.ts). */
type RegistrationFields = 'registration' | 'clientName' | 'clientUri' | 'logoUri' | 'registrationMetadata' | 'registrationTokenHash' | 'registeredBy'
export type NewClient = Omit<Client, 'createdAt' | 'updatedAt' | 'generation' | 'firstUsedAt' | OptionalClientFields> & Partial<Pick<Client, OptionalClientFields>>
export type ClientPatch = Partial<Pick<Client, 'grantTypes' | 'scope' | 'redirectUris' | 'secretHash' | Exclude<OptionalClientFields, 'registration' | 'registeredBy'>>>

export interface ClientStore {
  /** Throws ConflictError when the client id is taken. */
  create (client: NewClient): Promise<Client>
  find (id: string): Promise<Client | undefined>
  list (page: Page): Promise<Client[]>
  update (id: string, patch: ClientPatch): Promise<Client | undefined>
  delete (id: string): Promise<Client | undefined>
  /** The distinct non-empty scope lists clients an administrator made may ask for (a registered or document client's own words are not a scope that exists). */
  scopeLists (): Promise<string[]>
  /** Every redirect URI registered by a public client (browser apps: their origins may call the token endpoint). */
  publicRedirectUris (): Promise<string[]>
  /** Marks a registered client's first use (tokens issued to it), once: later calls change nothing. */
  markUsed (id: string, now: number): Promise<void>
  /** Deletes clients registered in `open` mode or built from a metadata document before `createdBefore` and never used; returns how many. */
  purgeUnusedRegistrations (createdBefore: number): Promise<number>
}

/**
 * An RFC 7591 §3 initial access token (REGISTRATION=token): made by an administrator, stored only as its digest,
 * spent by each registration it allows.
 */
export interface RegistrationToken {
  /** A short random id naming it in `list` and `remove` (never the token). */
  id: string
  digest: string
  /** null: it never expires. */
  expiresAt: number | null
  /** null: no limit on registrations. */
  maxUses: number | null
  uses: number
  createdAt: number
}

export interface RegistrationTokenStore {
  create (token: Omit<RegistrationToken, 'uses' | 'createdAt'>, now: number): Promise<RegistrationToken>
  list (): Promise<RegistrationToken[]>
  delete (id: string): Promise<RegistrationToken | undefined>
  /** The token whose digest this is, when it is still usable at `now` (unexpired, uses left); reads only. */
  findUsable (digest: string, now: number): Promise<RegistrationToken | undefined>
  /**
   * Spends one use of the token, atomically (one UPDATE whose condition is the check): true when it was usable at
   * `now` and is now counted, false otherwise. Concurrent registrations never spend more than `maxUses`.
   */
  use (digest: string, now: number): Promise<boolean>
}

/**
 * A grant is what one authorization produced: a refresh-token family and the access tokens
 * issued from it (they carry its id as the `grant_id` claim, so revoking the grant revokes them).
 */
export interface Grant {
  id: string
  clientId: string
  userId: string
  scope: string
  /** What the authorization request asked for through `claims` (kept, so refreshed access tokens carry it); null: nothing. */
  claims?: RequestedClaims | null
  /** The user's credential version the grant was created under (User.credentialVersion). */
  credentialVersion: number
  /** The RFC 8707 resources (URIs) granted at authorization: the family's access tokens may name these, never another. Absent when written: []. */
  resources?: string[]
  /**
   * RFC 9449 §5: the DPoP key (its thumbprint) a public client's family is bound to: each refresh needs a proof
   * signed with it. Absent or null: not bound (a confidential client's family, or one started without a proof).
   */
  dpopJkt?: string | null
  createdAt: number
  /** Absolute end of the family: rotation never extends it. */
  expiresAt: number
  revokedAt: number | null
}

export interface RefreshToken {
  /** SHA-256 of the token: the token itself is never stored. */
  hash: string
  grantId: string
  scope: string
  issuedAt: number
  expiresAt: number
  /** Set when the token was exchanged; presenting it again is reuse. */
  consumedAt: number | null
}

export type RotateResult =
  | { outcome: 'rotated', grant: Grant, previous: RefreshToken }
  /** Spent or belonging to a revoked grant: the grant is now revoked (RFC 9700 §4.14.2). */
  | { outcome: 'reused', grant: Grant }
  /** Past its own or its family's lifetime. */
  | { outcome: 'expired' }
  | { outcome: 'unknown' }

export interface GrantStore {
  /**
   * Creates the grant and its first refresh token in one transaction, only while its user still exists, is
   * enabled and holds `grant.credentialVersion` (checked in that transaction); false when not (nothing written).
   */
  create (grant: Omit<Grant, 'revokedAt'>, first: RefreshToken): Promise<boolean>
  findGrant (id: string): Promise<Grant | undefined>
  findToken (hash: string): Promise<{ token: RefreshToken, grant: Grant } | undefined>
  /**
   * Atomically: when `hash` is live (not consumed, not expired, grant not revoked), mark it consumed and
   * insert `next`; when it was consumed or its grant is revoked, revoke the grant. At most one caller ever
   * gets `rotated` for a given hash, whatever the concurrency.
   */
  rotate (hash: string, next: RefreshToken, revoke: RevokeOptions): Promise<RotateResult>
  /**
   * Revokes grants: their refresh tokens stop working, and `grant:<id>` goes on the access-token deny-list
   * until `revoke.denyUntil`, in the same transaction (so a crash cannot leave the access tokens valid).
   */
  revoke (grantId: string, revoke: RevokeOptions): Promise<Grant | undefined>
  /**
   * Revokes every live grant of the user (only those of `clientId` when given: the account page's "revoke" of one
   * app); returns the ids of the grants revoked by this call.
   */
  revokeForUser (userId: string, revoke: RevokeOptions, clientId?: string): Promise<string[]>
  revokeForClient (clientId: string, revoke: RevokeOptions): Promise<string[]>
  /** Deletes grants whose absolute lifetime ended before `now`. */
  purgeExpired (now: number): Promise<number>
}

export interface RevokeOptions {
  now: number
  /** Until when the grant's access tokens must be refused: the latest `exp` any of them can have. */
  denyUntil: number
}

/**
 * The access-token deny-list: `jti:<id>` or `grant:<id>` entries, kept until the tokens they cover expire.
 * `createdAt` is stamped by the database's clock (not the writer's), so one cursor on it serves every
 * instance whatever their clocks say.
 */
export interface RevocationStore {
  add (ids: string[], expiresAt: number): Promise<void>
  /** True when any of the ids is on the list. */
  anyRevoked (ids: string[]): Promise<boolean>
  /** Entries added after `since` (for instances that cache the list). */
  listSince (since: number): Promise<Array<{ id: string, createdAt: number, expiresAt: number }>>
  purgeExpired (now: number): Promise<number>
}

export interface SigningKey {
  kid: string
  /** Rotation order, assigned by the store at insert: a later rotation always has a higher sequence. */
  seq: number
  /** Each algorithm's keys rotate and retire on their own (lib/keys/signing-keys.ts). */
  alg: SigningAlg
  /** PKCS#8 PEM; null once the key has retired (only its public part is kept, until it leaves the JWKS). */
  privateKey: string | null
  /** The public JWK as JSON text (EC: kty, crv, x, y; RSA: kty, n, e). */
  publicJwk: string
  createdAt: number
  /** When it starts signing; before that it is only published. */
  activatesAt: number
}

/** A key as it is inserted: the store assigns its sequence. */
export type NewSigningKey = Omit<SigningKey, 'seq' | 'privateKey'> & { privateKey: string }

export interface KeyStore {
  /** Every key, in sequence (rotation) order. */
  list (): Promise<SigningKey[]>
  /** Inserts a key after every existing one in sequence order. */
  insert (key: NewSigningKey): Promise<SigningKey>
  /** Inserts `key` only when there is no key of its algorithm; concurrent starters end with exactly one of each. */
  insertFirstOfAlg (key: NewSigningKey): Promise<boolean>
  delete (kids: string[]): Promise<void>
  /** Deletes the private parts of these keys, keeping their public parts. */
  deletePrivateKeys (kids: string[]): Promise<void>
  /**
   * A running instance's publish delay (KEY_PUBLISH_DELAY_SECONDS), renewed at every key reload; rows not
   * renewed since `staleBefore` are removed. Rotations use the largest delay among live instances.
   */
  heartbeat (instance: string, publishDelay: number, now: number, staleBefore: number): Promise<void>
  /** The largest publish delay of instances seen since `since`, or undefined when none was. */
  agreedPublishDelay (since: number): Promise<number | undefined>
  /** An instance stopping removes its row. */
  leave (instance: string): Promise<void>
}

export interface Storage {
  readonly kind: 'sqlite' | 'postgres'
  users: UserStore
  clients: ClientStore
  grants: GrantStore
  revocations: RevocationStore
  keys: KeyStore
  sessions: SessionStore
  consents: ConsentStore
  codes: AuthorizationCodeStore
  providers: ProviderStore
  identities: IdentityStore
  upstreamTransactions: UpstreamTransactionStore
  housekeeping: HousekeepingStore
  outbox: OutboxStore
  accountLinks: AccountLinkStore
  factors: UserFactorStore
  passkeyChallenges: PasskeyChallengeStore
  resources: ResourceStore
  registrationTokens: RegistrationTokenStore
  deviceCodes: DeviceCodeStore
  pushedRequests: PushedRequestStore
  clientAssertions: ClientAssertionStore
  securityEvents: SecurityEventStore
  /** Resolves when the database answers; rejects with StoreUnavailableError otherwise. */
  ping (): Promise<void>
  /** Connection-pool use, for /metrics (PostgreSQL; SQLite has no pool). */
  poolStats? (): { total: number, idle: number, waiting: number }
  close (): Promise<void>
}

export class ConflictError extends Error {
  override name = 'ConflictError'
}

/**
 * A browser's signed-in session (the login page): referenced by a random id in a cookie, stored only as the
 * id's SHA-256, so a database leak gives no usable cookie. Ending it (sign-out, admin revoke, the user
 * disabled) takes effect on every instance: each request reads it from the store.
 */
export interface Session {
  /** SHA-256 (base64url) of the cookie's value. */
  idHash: string
  userId: string
  /** When the user last entered their password (OIDC `auth_time`, `max_age`). */
  authTime: number
  createdAt: number
  expiresAt: number
  /**
   * The user's credential version as read before the sign-in was checked (User.credentialVersion): the session
   * is stale, and ends, once the user's is another (a password change or a disable since).
   */
  credentialVersion: number
  /** How the user signed in: null for the password form, else the upstream provider's name. */
  provider: string | null
  /** Authentication method references (RFC 8176): `pwd` for the password form; for a provider, the ones it gave. */
  amr: string[]
  /**
   * The session's id towards clients (OIDC Back-Channel Logout 1.0 §2.1 `sid`): random, neither the cookie nor its
   * digest (a logout token must never name the cookie); null (or absent when written) for sessions without one.
   */
  sid?: string | null
  /**
   * The browser's User-Agent at sign-in (at most SESSION_USER_AGENT_LENGTH characters, lib/browser/sessions.ts), so
   * the account page can say which device a session is on; null (or absent when written) when none was sent.
   */
  userAgent?: string | null
}

/**
 * Every method below that ends sessions (delete, deleteForUser, endOldestForUser, purgeExpired) also queues, in the
 * same transaction, a logout message (an outbox message of kind BACKCHANNEL_LOGOUT_KIND, payload LogoutMessage, due at
 * once; not bounded at enqueue: the sender drops the oldest past the bound) for each client the session issued codes to that has a
 * back-channel logout URI, and forgets those clients: a session cannot end on any path without its clients being
 * told, and a crash between the two cannot lose the message.
 */
export interface SessionStore {
  /**
   * Creates the session only while its user still exists, is enabled and holds `session.credentialVersion`
   * (checked in the same statement); false when not (nothing written), so a sign-in that read the user before a
   * password change or a disable cannot leave a session after that change has ended the others.
   */
  create (session: Session): Promise<boolean>
  /** The session when it exists and has not expired at `now`. */
  find (idHash: string, now: number): Promise<Session | undefined>
  /** Deletes one session; true when it existed. */
  delete (idHash: string): Promise<boolean>
  /**
   * Moves a live session's expiry to `expiresAt` (the admin console's idle timeout slides with use); true when the
   * session was still live at `now`. An expired or ended session stays so.
   */
  extend (idHash: string, expiresAt: number, now: number): Promise<boolean>
  /** Live sessions of a user, newest first. */
  listForUser (userId: string, now: number): Promise<Session[]>
  /** Deletes every session of a user; returns how many. */
  deleteForUser (userId: string): Promise<number>
  /**
   * Ends the user's sessions but the newest `keep` (by creation, ties in insertion order); returns how many it
   * ended. Two calls at once never end more than the oldest: at worst both leave one extra for the next call.
   */
  endOldestForUser (userId: string, keep: number): Promise<number>
  purgeExpired (now: number): Promise<number>
  /**
   * Remembers that the session issued a code to `clientId` (idempotent), unless the session already names `max`
   * clients: the table grows with sign-ins, so it is bounded per session. False when not recorded.
   */
  addClient (idHash: string, clientId: string, max: number): Promise<boolean>
  /** The clients the session issued codes to (sorted). */
  clients (idHash: string): Promise<string[]>
}

/** The outbox kind of back-channel logout messages (queued by the session store, sent by lib/oauth/backchannel-logout.ts). */
export const BACKCHANNEL_LOGOUT_KIND = 'backchannel-logout'

/** A logout token still to deliver (OIDC Back-Channel Logout 1.0 §2.5): to `uri`, for `clientId`, naming `sub` and `sid`. */
export interface LogoutMessage {
  clientId: string
  uri: string
  sub: string
  sid: string
}

/** What a user allowed a client: scopes, remembered so the consent page is not shown again for them. */
export interface Consent {
  userId: string
  clientId: string
  /** Space-separated, sorted. */
  scope: string
  createdAt: number
  updatedAt: number
}

export interface ConsentStore {
  find (userId: string, clientId: string): Promise<Consent | undefined>
  /** Adds `scopes` to what the user allowed the client (a union with any earlier consent). */
  grant (userId: string, clientId: string, scopes: string[], now: number): Promise<Consent>
  listForUser (userId: string): Promise<Consent[]>
  /** Revokes the user's consent for one client (or, without `clientId`, every client); returns how many. */
  revoke (userId: string, clientId?: string): Promise<number>
}

/** An authorization code (RFC 6749 §4.1.2): only its SHA-256 is stored; single use, short-lived. */
export interface AuthorizationCode {
  hash: string
  clientId: string
  userId: string
  redirectUri: string
  /** PKCE S256 challenge (RFC 7636); null for a code issued without one (a confidential client whose PKCE is optional). */
  codeChallenge: string | null
  nonce: string | null
  scope: string
  /** The `claims` parameter's names (OIDC Core §5.5); null when it was not sent. */
  claims?: RequestedClaims | null
  authTime: number
  /** The digest (Session.idHash) of the browser session it was issued from; null for codes issued before codes knew it. */
  sessionHash: string | null
  /** That session's `sid`, for the ID token (Back-Channel Logout 1.0 §2.1); null (or absent when written) when it had none. */
  sid?: string | null
  /**
   * That session's `amr` (Session.amr) when the code was issued, for the ID token's `amr` and `acr`: what the sign-in
   * did then, not what the session says at redemption. Absent when written: [] (read back as []).
   */
  amr?: string[]
  /** The credential version of the session that issued it: redeemed only while the user still holds it. */
  credentialVersion: number
  /** The RFC 8707 resources (URIs) the authorization request named, carried into the grant. Absent when written: []. */
  resources?: string[]
  /** RFC 9449 §10: the `dpop_jkt` of the authorization request: the exchange needs a proof signed with that key. Absent or null: none. */
  dpopJkt?: string | null
  createdAt: number
  expiresAt: number
  /** Set by the one redemption that won; a second presentation is a replay. */
  redeemedAt: number | null
  /** What the winning redemption issued (a refresh family, an access token's jti until its exp), revoked on replay. */
  issued: IssuedFromCode | null
}

export interface IssuedFromCode {
  grantId?: string
  jti: string
  exp: number
}

export type RedeemResult =
  | { outcome: 'redeemed', code: AuthorizationCode }
  /** Redeemed before: the caller revokes what `code.issued` names. */
  | { outcome: 'replayed', code: AuthorizationCode }
  | { outcome: 'unknown' }

export interface AuthorizationCodeStore {
  create (code: AuthorizationCode): Promise<void>
  /** The code by its hash, redeemed or not (the token endpoint checks its bindings before redeeming it). */
  find (hash: string): Promise<AuthorizationCode | undefined>
  /**
   * Atomically marks the code redeemed at `now`, recording what this redemption is about to issue (ids chosen
   * beforehand, so a replay arriving at any moment after can revoke them): exactly one caller ever gets
   * `redeemed` for a given hash, whatever the concurrency (across instances too); later ones get `replayed`.
   */
  redeem (hash: string, now: number, issued: IssuedFromCode): Promise<RedeemResult>
  /**
   * Deletes the session's unredeemed codes but its newest `keep` (by issue order); returns how many. Redeemed
   * codes are left alone (a replay of one must still be recognised).
   */
  endOldestForSession (sessionHash: string, keep: number): Promise<number>
  /**
   * Deletes unredeemed codes whose lifetime ended by `now` (they can never be redeemed), and redeemed ones whose
   * lifetime ended `keepRedeemedFor` seconds before `now` (0 by default). Returns how many.
   */
  purgeExpired (now: number, keepRedeemedFor?: number): Promise<number>
}

/** Which claims of a provider's ID token or userinfo answer carry what (plain OAuth 2.0 providers name their own). */
export interface ProviderClaims {
  subject: string
  email: string | null
  /** Without it, the provider's e-mail addresses are never treated as verified. */
  emailVerified: string | null
  name: string | null
  username: string | null
}

/**
 * An upstream identity provider users may sign in with (issue 14). OpenID providers are found through their
 * issuer's discovery document; plain OAuth 2.0 providers (no discovery, no ID token) name their endpoints.
 */
export interface UpstreamProvider {
  /** In the URLs: /login/{name}, /login/{name}/callback. */
  name: string
  issuer: string
  clientId: string
  /** Needed in clear to call the provider's token endpoint; never shown by any API or the CLI. */
  clientSecret: string
  /** Space-separated, sent in the authorization request. */
  scope: string
  displayName: string
  /**
   * A first sign-in whose e-mail the provider marks verified links to the local user with that e-mail, when
   * that user has no identity at any provider yet (or `linkLinkedAccounts` allows it).
   */
  linkByEmail: boolean
  /** Linking by e-mail may also reach a local user already linked to another provider account (off by default). */
  linkLinkedAccounts: boolean
  /** A first sign-in of an unknown account creates a local user (else it is refused). */
  createUsers: boolean
  /** Set for plain OAuth 2.0 providers (then there is no discovery and no ID token). */
  authorizationEndpoint: string | null
  tokenEndpoint: string | null
  userinfoEndpoint: string | null
  claims: ProviderClaims
  createdAt: number
  updatedAt: number
}

export type NewProvider = Omit<UpstreamProvider, 'createdAt' | 'updatedAt'>
export type ProviderPatch = Partial<Omit<UpstreamProvider, 'name' | 'createdAt' | 'updatedAt'>>

export interface ProviderStore {
  /** Throws ConflictError when the name is taken. */
  create (provider: NewProvider): Promise<UpstreamProvider>
  find (name: string): Promise<UpstreamProvider | undefined>
  /** Every provider, by name. */
  list (): Promise<UpstreamProvider[]>
  update (name: string, patch: ProviderPatch): Promise<UpstreamProvider | undefined>
  delete (name: string): Promise<UpstreamProvider | undefined>
}

/**
 * A local user's link to an account at a provider. The key is (provider, issuer, subject): another provider
 * asserting the same subject or e-mail never reaches this user (SECURITY-CASES F2), nor does the same name
 * re-registered for another issuer.
 */
export interface Identity {
  provider: string
  issuer: string
  subject: string
  userId: string
  /** The e-mail the provider last gave (verified or not), for the admin's information. */
  email: string | null
  linkedAt: number
}

export interface IdentityStore {
  find (provider: string, issuer: string, subject: string): Promise<Identity | undefined>
  /** Throws ConflictError when (provider, issuer, subject) is already linked. */
  link (identity: Identity): Promise<Identity>
  /** Records the e-mail the provider gave at this sign-in. */
  touch (provider: string, issuer: string, subject: string, email: string | null): Promise<void>
  listForUser (userId: string): Promise<Identity[]>
  /** Unlinks the user's identities at one provider; returns how many. */
  unlink (userId: string, provider: string): Promise<number>
}

/**
 * A sign-in sent to a provider and not yet back: found by the SHA-256 of its `state`, bound to the browser
 * that started it by the SHA-256 of a cookie's random value, 10 minutes, single use.
 */
export interface UpstreamTransaction {
  idHash: string
  bindingHash: string
  provider: string
  nonce: string
  codeVerifier: string
  /** The /authorize path to continue with (null: none pending). */
  returnTo: string | null
  createdAt: number
  expiresAt: number
}

export interface UpstreamTransactionStore {
  create (transaction: UpstreamTransaction): Promise<void>
  /**
   * Atomically removes and returns the transaction when it exists under `idHash`, was started by the browser
   * `bindingHash` names, and has not expired at `now`: exactly one caller ever gets it, whatever the concurrency.
   */
  consume (idHash: string, bindingHash: string, now: number): Promise<UpstreamTransaction | undefined>
  purgeExpired (now: number): Promise<number>
}

/** The tables that grow with use, whose row counts /metrics shows (`gatehouse_table_rows`). */
export const GROWING_TABLES = ['sessions', 'session_clients', 'authorization_codes', 'upstream_transactions', 'consents', 'grants', 'refresh_tokens', 'revocations', 'outbox', 'account_links', 'passkey_challenges', 'device_codes', 'pushed_requests', 'security_events'] as const
export type GrowingTable = typeof GROWING_TABLES[number]

/**
 * A security event as stored (lib/ops/event-records.ts makes it from a SecurityEvent; docs/operating.md): never a
 * secret, as no event carries one. `user` is the user's id when the event names one (`userId`), or the digest of
 * the username (lib/ops/events.ts usernameDigest) when the event carries the name as typed (login_failed …), so a
 * password typed into the username field is never stored. `details` holds the event's other fields.
 */
export interface NewSecurityEvent {
  /** Milliseconds since the epoch. */
  at: number
  type: string
  user: string | null
  clientId: string | null
  /** The administrator (admin_change, invitation_sent, factors_reset). */
  actor: string | null
  target: string | null
  ip: string | null
  details: Record<string, unknown>
}

export interface StoredSecurityEvent extends NewSecurityEvent {
  /** Grows with each event stored (newest first is highest first): the paging cursor. */
  id: number
}

/** Which events to list: each given filter must match; `users` matches any of its values in the `user` column. */
export interface SecurityEventFilter {
  type?: string
  users?: string[]
  /** With `users`: events whose `target` is this match too (an admin_change names the user it changed by username). */
  orTarget?: string
  clientId?: string
  /** Only events with an id below this one (the next page of a newest-first list). */
  before?: number
  limit: number
}

/** Recent security events (plugins/events.ts writes them in batches; the sweep bounds them). */
export interface SecurityEventStore {
  /** Stores the events in one transaction, in order (ids grow in that order). */
  append (events: NewSecurityEvent[]): Promise<void>
  /** Newest first (by id), at most `limit`. */
  list (filter: SecurityEventFilter): Promise<StoredSecurityEvent[]>
  /** Deletes events older than `before` (ms) and all but the newest `keep`; returns how many went. */
  purge (before: number, keep: number): Promise<number>
}

/** What keeps the tables bounded (lib/ops/sweep.ts): who sweeps this round, and how big the tables are. */
export interface HousekeepingStore {
  /**
   * Claims `job` for this round: true for exactly one caller (across instances) when its last run was at least
   * `everySeconds` before `now` (or it never ran), recording `now`; false for every other caller.
   */
  claim (job: string, now: number, everySeconds: number): Promise<boolean>
  /** The row count of each growing table. */
  tableRows (): Promise<Record<GrowingTable, number>>
}

/** A message waiting in the outbox (lib/ops/outbox.ts has the rules: backoff, lease, bounds). */
export interface OutboxMessage {
  id: string
  /** What the message is (`mail`, later `backchannel-logout`): each sender claims its own kind. */
  kind: string
  payload: unknown
  /** Attempts started so far, this one included once claimed. */
  attempts: number
  createdAt: number
  lastError: string | null
}

/**
 * A durable queue of work to do outside a request (mail to send, calls to make), generic in `kind` and its JSON
 * payload. A message is delivered at least once: it is claimed with a lease (`leaseSeconds`, by `owner`), and a
 * claimed message whose sender died comes back when its lease runs out. Finished messages (sent or given up) keep
 * their row without the payload until the sweep deletes them.
 */
export interface OutboxStore {
  /**
   * Adds a message due at `now`; undefined (nothing added) when `maxPending` unfinished messages of its kind are
   * already waiting, so a flood cannot grow the table without bound.
   */
  enqueue (input: { kind: string, payload: unknown, now: number, maxPending: number }): Promise<string | undefined>
  /**
   * Claims up to `limit` due messages of `kind` (not finished, next attempt at or before `now`, no live lease) for
   * `owner` until `now + leaseSeconds`, counting an attempt on each. Race-safe: of instances claiming at once, each
   * message goes to one of them.
   */
  claim (kind: string, now: number, limit: number, leaseSeconds: number, owner: string): Promise<OutboxMessage[]>
  /** The message went out: finished, its payload dropped. False when `owner` no longer holds it. */
  complete (id: string, owner: string, now: number): Promise<boolean>
  /** This attempt failed: due again at `at`, the lease released. False when `owner` no longer holds it. */
  reschedule (id: string, owner: string, at: number, error: string): Promise<boolean>
  /** No attempt is left: finished as failed, its payload dropped. False when `owner` no longer holds it. */
  giveUp (id: string, owner: string, now: number, error: string): Promise<boolean>
  /**
   * Finishes as failed (with `error`, payload dropped) the unfinished messages of `kind` but the newest `keep`
   * (by created_at, then insertion); the number finished.
   */
  dropOldest (kind: string, keep: number, now: number, error: string): Promise<number>
  /** Unfinished messages (of `kind`, or all). */
  pending (kind?: string): Promise<number>
  /** Deletes messages finished before `before`; the number deleted. */
  purgeFinished (before: number): Promise<number>
}

/** What a single-use account link is for (lib/accounts/links.ts has the lifetimes and the rules). */
/**
 * `signup`: a sign-up waiting for its address to be proven (the account is made when the link is followed);
 * `change_email`: a new address that replaces the user's only once this link is followed.
 */
export type AccountLinkPurpose = 'verify_email' | 'reset_password' | 'invitation' | 'signup' | 'change_email'

/**
 * A single-use link mailed to someone (an e-mail to verify, a password to reset, an invitation), stored only as
 * the SHA-256 of its token: a database leak gives no link that works.
 */
export interface AccountLink {
  /** A UUID, for an administrator to name the link (an invitation to revoke) without its token or digest. */
  id: string
  /** SHA-256 (base64url) of the token in the link. */
  tokenHash: string
  purpose: AccountLinkPurpose
  /** The user it acts on; null for an invitation (no user yet). */
  userId: string | null
  /** The address it was sent to (the one a verification proves; the one an invitation was for). */
  email: string | null
  /** An invitation's scopes for the user it creates; null otherwise (the default scopes). */
  scope: string | null
  /** What the link carries besides (a sign-up's username, full name and password hash); null for most links. */
  data: Record<string, unknown> | null
  createdAt: number
  expiresAt: number
  usedAt: number | null
}

export interface AccountLinkStore {
  /**
   * Stores a new link. With `voidOlder`, in the same transaction, deletes the unused links of the same purpose
   * and user (a newer reset link voids older ones).
   */
  create (link: Omit<AccountLink, 'usedAt'>, options?: { voidOlder?: boolean }): Promise<void>
  /** The link if it has this purpose, is unused and has not expired at `now`; nothing is changed. */
  find (tokenHash: string, purpose: AccountLinkPurpose, now: number): Promise<AccountLink | undefined>
  /**
   * Marks the link used in one atomic update, only while it has this purpose, is unused and has not expired at
   * `now`: of two clicks at once exactly one gets it; every other caller gets undefined.
   */
  consume (tokenHash: string, purpose: AccountLinkPurpose, now: number): Promise<AccountLink | undefined>
  /** The user's newest unused, unexpired link of `purpose` (the account page shows a pending e-mail change). */
  pendingForUser (userId: string, purpose: AccountLinkPurpose, now: number): Promise<AccountLink | undefined>
  /** Unused, unexpired links of `purpose` (invitations to list), newest first, at most `limit`. */
  listPending (purpose: AccountLinkPurpose, now: number, limit: number): Promise<AccountLink[]>
  /** How many unused, unexpired links of `purpose` there are (the bound on pending sign-ups: lib/limits/table-bounds.ts). */
  countPending (purpose: AccountLinkPurpose, now: number): Promise<number>
  /** Deletes an unused link of `purpose` by its id; true when there was one. */
  revoke (id: string, purpose: AccountLinkPurpose): Promise<boolean>
  /** Deletes links expired before `now` (used ones too); the number deleted. */
  purgeExpired (now: number): Promise<number>
}

/** A second factor's kind: an authenticator app (RFC 6238 TOTP) or a passkey (WebAuthn credential). */
export type FactorKind = 'totp' | 'passkey'

/**
 * A user's second factor (docs/second-factors.md). A TOTP app holds its shared secret sealed with SECRETS_KEY
 * (lib/credentials/secret-box.ts), counts only once confirmed with a code, and remembers the last time step it
 * accepted (a code is good once). A passkey holds its WebAuthn credential: the id (unique across users), the COSE
 * public key and the signature counter.
 */
export interface UserFactor {
  id: string
  userId: string
  kind: FactorKind
  /** Chosen by the user ("Phone", "YubiKey"); shown on the account page and to administrators. */
  name: string
  /** TOTP: the sealed shared secret. Null for passkeys. */
  secret: string | null
  /** Passkey: the credential id, base64url. Null for TOTP. */
  credentialId: string | null
  /** Passkey: the COSE public key, base64url. Null for TOTP. */
  publicKey: string | null
  /** Passkey: the last signature counter seen (0 when the authenticator keeps none). */
  counter: number
  /** Passkey: transports and other registration facts (JSON), e.g. { transports, deviceType, backedUp, aaguid }. */
  data: Record<string, unknown> | null
  /** TOTP: the last time step accepted, or null before the first. */
  lastStep: number | null
  createdAt: number
  /** When it started to count (TOTP: its first code; passkeys: at registration); null while unconfirmed. */
  confirmedAt: number | null
  lastUsedAt: number | null
}

/** What a new factor carries (the counters and use times start empty). */
export type NewUserFactor = Omit<UserFactor, 'lastStep' | 'lastUsedAt'>

/** Too many factors for one user (MAX_FACTORS_PER_USER): nothing was written. */
export class TooManyFactorsError extends Error {
  override name = 'TooManyFactorsError'
}

/**
 * Second factors and recovery codes. Every "use" is one atomic conditional update, so of two requests presenting
 * the same code (or the same passkey assertion) at once exactly one succeeds.
 */
export interface UserFactorStore {
  /**
   * Stores a new factor unless the user already has `maxPerUser` (TooManyFactorsError; unconfirmed ones count, so a
   * loop of started enrolments cannot grow the table), checked in the same transaction. ConflictError when the
   * passkey's credential id is registered already (to anyone).
   */
  create (factor: NewUserFactor, maxPerUser: number): Promise<void>
  /** The user's factors, confirmed or not, oldest first. */
  list (userId: string): Promise<UserFactor[]>
  /** One of the user's factors by id. */
  get (userId: string, id: string): Promise<UserFactor | undefined>
  /** The confirmed passkey with this credential id, whoever's it is (a sign-in without a username). */
  findByCredentialId (credentialId: string): Promise<UserFactor | undefined>
  /** How many confirmed factors the user has (0: no second factor). */
  countConfirmed (userId: string): Promise<number>
  /**
   * Accepts a TOTP time step for the factor: one atomic update, only while `step` is later than the last accepted
   * one (RFC 6238 §5.2: a code is refused once used, and so is every earlier one). Confirms an unconfirmed factor
   * when `confirm` is set (enrolment), else only a confirmed one counts. True when accepted.
   */
  useStep (userId: string, id: string, step: number, now: number, confirm?: boolean): Promise<boolean>
  /**
   * Records a passkey assertion: one atomic update, only while `counter` is above the stored one, or both are 0
   * (authenticators that keep no counter). False when the counter went back (a cloned authenticator: W3C WebAuthn
   * §6.1.1) or the factor is gone.
   */
  usePasskey (id: string, counter: number, now: number): Promise<boolean>
  /** Deletes one of the user's factors; true when it existed. */
  remove (userId: string, id: string): Promise<boolean>
  /** Deletes every factor and recovery code of the user (an administrator's reset); the number of factors deleted. */
  removeAll (userId: string): Promise<number>
  /** Deletes TOTP factors never confirmed, created before `before` (abandoned enrolments); the number deleted. */
  purgeUnconfirmed (before: number): Promise<number>
  /** Replaces the user's recovery codes with these digests (lib/mfa/recovery-codes.ts), in one transaction. */
  replaceRecoveryCodes (userId: string, digests: string[], now: number): Promise<void>
  /** Uses one unused recovery code by its digest: one atomic update, so a code works once. True when it did. */
  useRecoveryCode (userId: string, digest: string, now: number): Promise<boolean>
  /** How many unused recovery codes the user has. */
  recoveryCodesLeft (userId: string): Promise<number>
}

/** What a WebAuthn challenge was issued for (lib/mfa/passkeys.ts): adding a passkey, signing in with one, or a passkey as the second factor. */
export type PasskeyCeremony = 'register' | 'signin' | 'second-factor'

/**
 * A WebAuthn challenge handed to a browser and not yet answered (W3C WebAuthn §13.4.3: the server keeps it, and it is
 * good once). Found by the SHA-256 of the challenge the authenticator signed, bound to the browser that asked for it
 * by the SHA-256 of its CSRF cookie, short-lived (lib/mfa/webauthn.ts CHALLENGE_TTL_SECONDS), single use.
 */
export interface PasskeyChallenge {
  /** SHA-256 (base64url) of the challenge (itself base64url, as it comes back in clientDataJSON). */
  idHash: string
  /** SHA-256 (base64url) of the browser's binding (its CSRF cookie). */
  bindingHash: string
  ceremony: PasskeyCeremony
  /** Whose: the signed-in user adding a passkey, the user whose password step is done; null for a sign-in (anyone's passkey). */
  userId: string | null
  createdAt: number
  expiresAt: number
}

export interface PasskeyChallengeStore {
  create (challenge: PasskeyChallenge): Promise<void>
  /**
   * Atomically removes and returns the challenge when it exists under `idHash`, was issued to the browser
   * `bindingHash` names, and has not expired at `now`: exactly one caller ever gets it, whatever the concurrency
   * (across instances too), so an assertion replayed with the same challenge finds nothing.
   */
  consume (idHash: string, bindingHash: string, now: number): Promise<PasskeyChallenge | undefined>
  /** Deletes challenges expired by `now`; the number deleted. */
  purgeExpired (now: number): Promise<number>
}

/**
 * An RFC 8707 resource: an API (an MCP server) access tokens may be issued for, with `aud` = its URI. Registered by
 * an administrator (`gatehouse resources add`, POST /admin/resources); an unregistered one is `invalid_target`.
 */
export interface Resource {
  /** Absolute URI without a fragment (RFC 8707 §2), as registered: the tokens' `aud`. */
  uri: string
  /** What the consent page calls it; null: the URI. */
  name: string | null
  /** Space-separated scopes the resource defines: its tokens carry only these. */
  scope: string
  createdAt: number
}

export type NewResource = Omit<Resource, 'createdAt'>

export interface ResourceStore {
  /** Throws ConflictError when the URI is taken. */
  create (resource: NewResource): Promise<Resource>
  find (uri: string): Promise<Resource | undefined>
  /** In URI order. */
  list (page: Page): Promise<Resource[]>
  delete (uri: string): Promise<Resource | undefined>
}

/** Where a device authorization request stands (RFC 8628 §3.5): waiting for the user, decided, or redeemed once. */
export type DeviceCodeStatus = 'pending' | 'approved' | 'denied' | 'used'

/** Who approved a device authorization request, with what a code carries to issue the tokens (lib/oauth/device-codes.ts). */
export interface DeviceApproval {
  userId: string
  /** The scopes granted (those asked for that the user and client hold). */
  scope: string
  authTime: number
  amr: string[]
  sid: string | null
  credentialVersion: number
}

/**
 * A device authorization request (RFC 8628 §3.1, §3.2): found by the SHA-256 of its device code (only the digest is
 * stored) or by its user code (normalised, 8 letters), live 10 minutes, then swept.
 */
export interface DeviceCode {
  /** SHA-256 (base64url) of the device_code. */
  hash: string
  /** The user code normalised (upper case, no dash): unique across the table. */
  userCode: string
  clientId: string
  /** What was asked for; '' when no scope was sent. */
  scope: string
  /** RFC 8707 resources asked for (another part fills them); [] when none. */
  resources: string[]
  status: DeviceCodeStatus
  /** Set once approved. */
  approval: DeviceApproval | null
  /** Seconds the client must wait between polls; grows by 5 at each slow_down (§3.5). */
  interval: number
  lastPollAt: number | null
  createdAt: number
  expiresAt: number
}

/** What one poll found: the row as it is after the poll, and whether this poll came sooner than the interval allowed. */
export interface DevicePoll { code: DeviceCode, tooSoon: boolean }

export interface DeviceCodeStore {
  /** Stores a new request; ConflictError when the user code is taken (the caller draws another). */
  create (code: DeviceCode): Promise<void>
  find (hash: string): Promise<DeviceCode | undefined>
  /** The pending request with this user code, live at `now`. */
  findPending (userCode: string, now: number): Promise<DeviceCode | undefined>
  /**
   * Records a poll at `now`, atomically: when the last one was less than `interval` seconds before, the interval grows
   * by `slowDownSeconds` and `tooSoon` is true. Undefined when there is no such code.
   */
  poll (hash: string, now: number, slowDownSeconds: number): Promise<DevicePoll | undefined>
  /** pending → approved (with `approval`) or denied, atomically, while live; false when it was not pending or has expired. */
  decide (userCode: string, now: number, decision: { approval: DeviceApproval } | 'denied'): Promise<boolean>
  /** approved → used, atomically, while live: exactly one caller gets the row. */
  redeem (hash: string, now: number): Promise<DeviceCode | undefined>
  /** Deletes requests expired by `now`; the number deleted. */
  purgeExpired (now: number): Promise<number>
}

/**
 * Where a pushed authorization request stands (RFC 9126, lib/oauth/pushed-requests.ts): pushed and not yet presented
 * at /authorize, presented (a sign-in is under way: reloads and the pages' returns read it again), or spent by the
 * answer that ended that sign-in (a code or an error).
 */
export type PushedRequestState = 'unused' | 'started' | 'used'

/** The parameters of a pushed request as sent (a parameter that may repeat, RFC 8707's `resource`, as a list). */
export type PushedParameters = Record<string, string | string[]>

/** A pushed authorization request (RFC 9126 §2): found by the SHA-256 of its request_uri (only the digest is stored). */
export interface PushedRequest {
  /** SHA-256 (base64url) of the request_uri. */
  hash: string
  clientId: string
  parameters: PushedParameters
  state: PushedRequestState
  createdAt: number
  /** When /authorize first presented it (null while unused). */
  startedAt: number | null
  /** 60 s after the push while unused; once started, the end of the sign-in's lifetime. Swept after it. */
  expiresAt: number
}

export interface PushedRequestStore {
  create (request: PushedRequest): Promise<void>
  /**
   * The request `clientId` pushed under `hash`, presented at `now`: unused → started (its expiry becomes `until`),
   * atomically, while live; a started one live at `now` as it is. Undefined otherwise (unknown, another client's,
   * expired, used).
   */
  start (hash: string, clientId: string, now: number, until: number): Promise<PushedRequest | undefined>
  /** started → used, atomically, while live: of two answers ending the same sign-in exactly one gets true. */
  consume (hash: string, now: number): Promise<boolean>
  /** Deletes requests expired by `now`; the number deleted. */
  purgeExpired (now: number): Promise<number>
}

/**
 * The `jti` of each client assertion accepted (RFC 7523 §3 item 7, private_key_jwt): single use until the assertion's
 * `exp`, across instances (lib/oauth/client-assertion.ts). Rows past their expiry are swept (lib/ops/sweep.ts).
 */
export interface ClientAssertionStore {
  /**
   * Records `jti` for `clientId` until `expiresAt`, atomically (insert-if-absent, or over a row already expired at
   * `now`): true the first time, false when that client's jti is still recorded (a replay).
   */
  use (clientId: string, jti: string, expiresAt: number, now: number): Promise<boolean>
  /** Deletes the entries expired by `now`; the number deleted. */
  purgeExpired (now: number): Promise<number>
}

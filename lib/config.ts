import { Type, type SchemaOptions, type StaticDecode, type TLiteral, type TSchema, type TUnion } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { createHash } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { parseOrigins } from './http/cors.js'
import { keyTimingProblem } from './keys/key-timing.js'
import { DEFAULT_ACCESS_TOKEN_ALG, SIGNING_ALGS } from './keys/algorithm.js'
import { DEFAULT_SWEEP_INTERVAL_SECONDS } from './limits/table-bounds.js'
import { DEFAULT_EVENTS_KEEP_DAYS } from './ops/event-records.js'
import { parseTrustProxy } from './http/request-context.js'
import { browserUrl } from './http/listen-address.js'
import { DEFAULT_IPV6_PREFIX_LENGTH } from './limits/address-key.js'
import { MEMORY_COUNTERS_MAX } from './limits/throttle.js'
import { DEFAULT_SQLITE_PATH } from './paths.js'
import { defaultMailDir } from './mail/mail-dir.js'
import { defaultMailFrom, parseMailbox } from './mail/addresses.js'
import { parseSmtpUrl, redactSmtpUrl } from './mail/smtp-url.js'

/**
 * Every setting Gatehouse reads from the environment, in one TypeBox schema: its variable (`env`), its
 * type and bounds, its default (`default`, or in words `derivedDefault` when it follows other settings: see
 * DERIVED), what it does (`description`, for operators), and any conversion (a Transform). The `Config` type is
 * derived from this schema, and docs/configuration.md is generated from it (`npm run docs`), so a new setting is
 * added here and nowhere else. Only the config plugin and the CLI call `loadConfig`; everything else reads
 * `fastify.config`.
 */
/** One of `words`, as a union TypeBox's Value functions can check (and decode to the words' type). */
const OneOf = <const T extends readonly string[]>(words: T, options: SchemaOptions): TUnion<LiteralsOf<T>> =>
  Type.Union(words.map((w) => Type.Literal(w)), options) as unknown as TUnion<LiteralsOf<T>>
type LiteralsOf<T extends readonly string[]> = Extract<{ -readonly [K in keyof T]: TLiteral<T[K]> }, TSchema[]>
const Port = (env: string, defaultValue: number, description: string) => Type.Integer({ env, minimum: 0, maximum: 65535, default: defaultValue, description })
const Seconds = (env: string, defaultValue: number, description: string) =>
  Type.Integer({ env, minimum: 1, maximum: 10 * 365 * 24 * 3600, default: defaultValue, description })
const OnOff = (env: string, defaultValue: 'on' | 'off', description: string) =>
  Type.Transform(OneOf(['on', 'off'] as const, { env, default: defaultValue, description }))
    .Decode((v) => v === 'on')
    .Encode((b) => b ? 'on' : 'off')

/** The most server processes WORKERS may ask for. */
export const MAX_WORKERS = 64

function parseWorkers (value: string): number {
  if (value === 'auto') return Math.min(availableParallelism(), MAX_WORKERS)
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS) throw new Error(`must be auto or a whole number from 1 to ${MAX_WORKERS}`)
  return n
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export const LOG_FORMATS = ['json', 'pretty'] as const

export const ConfigSchema = Type.Object({
  port: Port('PORT', 3000, 'the TCP port the server listens on (0: any free port)'),
  host: Type.String({ env: 'HOST', minLength: 1, pattern: '^[^\\s/?#@\\[\\]]+$', default: '127.0.0.1', hint: 'an address or host name (IPv6 without brackets)', description: 'the address the server listens on (`0.0.0.0`: every IPv4 interface)' }),
  issuer: Type.String({
    env: 'ISSUER',
    pattern: '^https?://[^?#\\s]+$',
    hint: 'an http(s) URL without query or fragment',
    derivedDefault: '`http://HOST:PORT`, where a loopback or every-interface HOST (`127.0.0.1`, `::1`, `0.0.0.0`, `::`) is `localhost`, so `http://localhost:3000` by default',
    description: 'the URL clients see: the `iss` of every token and of the metadata, from which every URL in the metadata derives ' +
      '(never from request headers). The same on every instance; https in production (the browser cookies are then `__Host-` and Secure)'
  }),
  audience: Type.String({ env: 'AUDIENCE', minLength: 1, hint: 'a URI naming the API', derivedDefault: 'the issuer', description: 'the `aud` of access tokens: the API they are for (a resource server refuses a token whose `aud` is another\'s)' }),
  databaseUrl: Type.String({
    env: 'DATABASE_URL',
    pattern: '^(sqlite:.+|postgres(ql)?://.+)$',
    hint: 'sqlite:PATH, sqlite::memory: or postgres://user@host/database',
    derivedDefault: '`sqlite:` + `data/gatehouse.db` in the project folder',
    description: 'where everything durable is stored: `sqlite:PATH` (a relative path is relative to the working directory), `sqlite::memory:`, ' +
      'or `postgres://…` for several instances. The default is the same file whichever folder the server or the CLI is started from'
  }),
  redisUrl: Type.Optional(Type.String({
    env: 'REDIS_URL',
    pattern: '^rediss?://.+$',
    hint: 'redis://host:port or rediss://…',
    description: 'optional, for several instances: brute-force counters shared by every instance, and cache invalidations that reach the others at once'
  })),
  redisPrefix: Type.Optional(Type.String({
    env: 'REDIS_PREFIX',
    pattern: '^[A-Za-z0-9:_.{}-]{1,64}$',
    hint: '1 to 64 letters, digits or :_.{}-',
    derivedDefault: 'derived from `ISSUER`',
    // Default: deploymentNamespace(), so instances of one deployment share it and other deployments differ.
    description: 'prefix of every Redis key and channel; the same on every instance of a deployment. It separates names, not permissions: ' +
      'a Redis shared with tenants you do not trust needs an ACL user per prefix'
  })),
  redisTimeoutMs: Type.Integer({
    env: 'REDIS_TIMEOUT_MS',
    minimum: 5,
    maximum: 5000,
    default: 50,
    description: 'milliseconds after which a Redis command on the request path gives up; then the circuit breaker leaves Redis alone ' +
      'for 5 s and the instance\'s own counters answer'
  }),
  accessTokenTtl: Seconds('ACCESS_TOKEN_TTL', 900, 'access-token lifetime, seconds; the same on every instance (a retired signing key is kept that long)'),
  accessTokenAlg: OneOf(SIGNING_ALGS, {
    env: 'ACCESS_TOKEN_ALG',
    default: DEFAULT_ACCESS_TOKEN_ALG,
    description: 'how access tokens are signed: `ES256` (fast to sign, the default) or `RS256` for gateways that verify only RSA; ' +
      'ID tokens follow OpenID Connect (RS256 unless the client asks otherwise), and the JWKS publishes a key of each'
  }),
  refreshTokenTtl: Seconds('REFRESH_TOKEN_TTL', 1209600, 'lifetime of each refresh token, seconds (14 days); every rotation starts a new one'),
  // Rotation slides each token's TTL, never past this; loadConfig raises it to REFRESH_TOKEN_TTL when lower.
  refreshTokenMaxLifetime: Seconds('REFRESH_TOKEN_MAX_LIFETIME', 7776000,
    'absolute lifetime of a refresh-token family, seconds (90 days): rotation never extends past it (never below REFRESH_TOKEN_TTL)'),
  passwordGrant: OnOff('PASSWORD_GRANT', 'on', '`off` refuses `grant_type=password` with `unauthorized_client`'),
  dpopNonces: OnOff('DPOP_NONCES', 'off', '`on`: every DPoP proof must carry a nonce this server issued (RFC 9449 §8): a proof without a current one is ' +
    'answered `use_dpop_nonce` with a fresh nonce in `DPoP-Nonce` (docs/dpop.md)'),
  routesDir: Type.Optional(Type.String({ env: 'ROUTES_DIR', minLength: 1, hint: 'a folder', description: 'a folder of extension routes, autoloaded after the built-in ones' })),
  pluginsDir: Type.Optional(Type.String({ env: 'PLUGINS_DIR', minLength: 1, hint: 'a folder', description: 'a folder of extension plugins, autoloaded after the built-in ones (and before the routes)' })),
  logLevel: OneOf(LOG_LEVELS, { env: 'LOG_LEVEL', default: 'info', description: 'the pino log level of the JSON lines on stdout' }),
  logFormat: OneOf(LOG_FORMATS, {
    env: 'LOG_FORMAT',
    default: 'json',
    description: '`json`: one JSON line per record (pino), for a log pipeline; `pretty`: one human line each (time, level, pid, message, ' +
      'key=value), for development'
  }),
  // Per-request "incoming request / request completed" lines halve a bare route's throughput, so they are opt-in.
  accessLog: OnOff('ACCESS_LOG', 'off', '`on` logs every request (they halve a bare route\'s throughput, so they are opt-in; errors are always logged)'),
  // Defaults are OWASP's minimum for argon2id (19 MiB, t=2, p=1); tests lower them.
  argon2MemoryKib: Type.Integer({
    env: 'ARGON2_MEMORY_KIB',
    minimum: 8,
    maximum: 4 * 1024 * 1024,
    default: 19456,
    description: 'argon2id memory cost of new password hashes, KiB (OWASP\'s minimum). Stored hashes carry their parameters; ' +
      'a sign-in with an older-parameter hash rehashes it. With ARGON2_TIME_COST it also bounds what a sign-in may spend on any ' +
      'stored or imported hash (four times this cost, at least ~0.6 s: docs/import.md)'
  }),
  argon2TimeCost: Type.Integer({ env: 'ARGON2_TIME_COST', minimum: 1, maximum: 100, default: 2, description: 'argon2id iterations of new password hashes' }),
  argon2Parallelism: Type.Integer({ env: 'ARGON2_PARALLELISM', minimum: 1, maximum: 16, default: 1, description: 'argon2id lanes of new password hashes' }),
  // The HashQueue of lib/credentials/passwords.ts.
  passwordQueueSeconds: Type.Integer({
    env: 'PASSWORD_QUEUE_SECONDS',
    minimum: 1,
    maximum: 60,
    default: 3,
    description: 'the password-hash queue holds at most this many seconds of hashing at the measured rate; beyond it a sign-in gets ' +
      '`503 temporarily_unavailable` with `Retry-After` at once'
  }),
  // As Fastify's trustProxy.
  trustProxy: Type.Optional(Type.Transform(Type.String({
    env: 'TRUST_PROXY',
    minLength: 1,
    hint: 'true, a hop count, or a comma-separated list of addresses and CIDR ranges',
    description: 'behind a reverse proxy, whose `X-Forwarded-For` to believe: `true`, a hop count, or the proxies\' addresses and ranges ' +
      '(`10.0.0.1,10.1.0.0/16`, `loopback`). Unset: nobody\'s, so `request.ip` (and every per-address limit) is the socket\'s address'
  }))
    .Decode(parseTrustProxy)
    .Encode((v) => Array.isArray(v) ? v.join(',') : String(v))),
  // lib/limits/address-key.ts: one subscriber usually holds a whole /64.
  // lib/limits/throttle.ts (MemoryCounterStore): one bounded store per kind of counter.
  limitCountersMax: Type.Integer({
    env: 'LIMIT_COUNTERS_MAX',
    minimum: 10,
    maximum: 10_000_000,
    default: MEMORY_COUNTERS_MAX,
    description: 'how many rate-limit counters of each kind (per account, per address, other rates) a server holds in memory ' +
      '(with WORKERS, the primary holds them for every worker; with Redis, only while Redis is unreachable). Beyond it the least ' +
      'recently used per-address and rate counters are forgotten; per-account counters never are: a sign-in that would need a new ' +
      'one gets `503 temporarily_unavailable` with `Retry-After` until some expire'
  }),
  ipv6PrefixLength: Type.Integer({
    env: 'IPV6_PREFIX_LENGTH',
    minimum: 32,
    maximum: 128,
    default: DEFAULT_IPV6_PREFIX_LENGTH,
    description: 'every per-address limit counts an IPv6 client by this many leading bits of its address (a /64 is usually one ' +
      'subscriber, who can pick any address in it); IPv4 addresses, also IPv4-mapped IPv6 ones, count one by one'
  }),
  metricsToken: Type.Optional(Type.String({
    env: 'METRICS_TOKEN',
    pattern: '^[A-Za-z0-9._~+/-]{16,256}=*$',
    hint: '16 to 256 characters of A-Z a-z 0-9 . _ ~ + / - (e.g. `openssl rand -base64 32`)',
    description: 'when set, `GET /metrics` requires `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise); unset, /metrics is open ' +
      '(a warning at start when HOST is not a loopback address)'
  })),
  corsOrigins: Type.Optional(Type.Transform(Type.String({
    env: 'CORS_ORIGINS',
    minLength: 1,
    hint: 'a comma-separated list of origins (https://app.example.com)',
    description: 'origins allowed by CORS on /token, /revoke, /userinfo, the JWKS and the metadata, besides the origins of public clients\' redirect URIs'
  }))
    .Decode(parseOrigins)
    .Encode((v) => v.join(','))),
  keysRefreshSeconds: Type.Integer({ env: 'KEYS_REFRESH_SECONDS', minimum: 1, maximum: 30, default: 10, description: 'how often a running server re-reads the signing keys from the store, seconds' }),
  /**
   * At least KEYS_REFRESH_SECONDS + 3 (checked in CROSS_CHECKS; lib/keys/key-timing.ts), so every instance's JWKS,
   * and every cached copy of it, has the key first. At most 60: the contract says servers sign with a new key within 60 s.
   */
  keyPublishDelaySeconds: Type.Integer({
    env: 'KEY_PUBLISH_DELAY_SECONDS',
    minimum: 0,
    maximum: 60,
    default: 30,
    description: 'after `keys rotate`, how many seconds the new key is only published before it signs; ' +
      'at least `KEYS_REFRESH_SECONDS` + 3, or the start is refused'
  }),
  importMaxBytes: Type.Integer({
    env: 'IMPORT_MAX_BYTES',
    minimum: 1024,
    maximum: 1024 * 1024 * 1024,
    default: 64 * 1024 * 1024,
    description: 'the largest body `POST /admin/users/import` reads, bytes (64 MiB: about 400,000 users); the CLI has no limit'
  }),
  // node:cluster (server.ts, lib/ops/cluster.ts).
  workers: Type.Transform(Type.String({
    env: 'WORKERS',
    pattern: '^(auto|[1-9][0-9]{0,2})$',
    default: '1',
    hint: `auto (one per core) or a number of processes from 1 to ${MAX_WORKERS}`,
    description: `server processes sharing the port: \`auto\` is one per core (os.availableParallelism()), or a number up to ${MAX_WORKERS}. ` +
      'Each is a whole instance with its own event loop, sharing state through the store (and Redis) as separate instances do; ' +
      'without Redis their rate-limit counters are the primary\'s, so every limit holds per machine'
  }))
    .Decode(parseWorkers)
    .Encode(String),
  issuerName: Type.String({ env: 'ISSUER_NAME', minLength: 1, maxLength: 100, default: 'Gatehouse', hint: '1 to 100 characters', description: 'the name the login, consent and error pages show' }),
  signup: OneOf(['off', 'open'] as const, {
    env: 'SIGNUP',
    default: 'off',
    description: 'whether people may create their own accounts: `open` links the login page to `/signup` (docs/accounts.md); `off` leaves ' +
      'accounts to administrators and invitations'
  }),
  registration: OneOf(['off', 'token', 'open'] as const, {
    env: 'REGISTRATION',
    default: 'off',
    description: 'RFC 7591 dynamic client registration at `POST /register` (docs/registration.md): `off`; `token`: a registration needs an ' +
      'initial access token from `gatehouse registration-tokens add`; `open`: anyone may register (limited per address, unused registrations expire)'
  }),
  clientIdMetadataDocuments: OneOf(['off', 'on'] as const, {
    env: 'CLIENT_ID_METADATA_DOCUMENTS',
    default: 'off',
    description: 'Client ID Metadata Documents (docs/client-metadata-documents.md, what MCP clients use): `on`: a `client_id` that is an ' +
      '`https` URL is fetched (no redirects, at most 5 KB, within UPSTREAM_TIMEOUT_MS, never from a private or loopback address unless ' +
      'ISSUER is on loopback) and used as a public client; `off`: such ids are unknown clients'
  }),
  requirePar: OneOf(['off', 'on'] as const, {
    env: 'REQUIRE_PAR',
    default: 'off',
    description: 'pushed authorization requests (RFC 9126, docs/par.md): `on`: every client must push its authorization request to ' +
      '`POST /par` first, and a plain `/authorize` is refused (metadata `require_pushed_authorization_requests: true`); `off`: only ' +
      'clients added with `--require-par` must'
  }),
  consoleRequireMfa: OneOf(['off', 'on'] as const, {
    env: 'CONSOLE_REQUIRE_MFA',
    default: 'off',
    description: 'the admin console (`/console`, docs/console.md): `on`: every administrator signs in to it with a second factor (one without a ' +
      'factor enrols one on the way); `off`: only administrators who have a second factor must use it there'
  }),
  mfa: OneOf(['optional', 'required'] as const, {
    env: 'MFA',
    default: 'optional',
    description: '`required`: every user signing in through the browser must have a second factor (enrolment is offered at once, ' +
      'docs/second-factors.md); `optional`: only users who enrolled one, clients added with `--require-mfa`, and `acr_values` asking for it'
  }),
  secretsKey: Type.Optional(Type.String({
    env: 'SECRETS_KEY',
    pattern: '^([0-9a-fA-F]{64}|[A-Za-z0-9_-]{43})$',
    hint: '32 random bytes as 64 hex digits or 43 base64url characters (`openssl rand -hex 32`)',
    // Never shown in an error or a log line.
    secret: true,
    derivedDefault: 'with SQLite, generated once into `secrets.key` beside the database file; with PostgreSQL, none',
    description: 'the key that seals second-factor secrets (authenticator apps) in the store, so a database dump alone hands out no ' +
      'second factor. The same on every instance, kept apart from database backups. With PostgreSQL and no key, authenticator apps ' +
      'cannot be enrolled (passkeys and recovery codes still work) and the start logs a warning'
  })),
  viewsDir: Type.Optional(Type.String({ env: 'VIEWS_DIR', minLength: 1, hint: 'a folder', description: 'a folder of page templates used instead of the built-in ones in views/ (each file that exists there wins)' })),
  assetsDir: Type.Optional(Type.String({ env: 'ASSETS_DIR', minLength: 1, hint: 'a folder', description: 'a folder of the operator\'s files served under /assets/ (read at start): theme.css is added to every page, logo.svg (or .png, .webp, .jpg) replaces the built-in mark; .css, .png, .svg, .jpg, .webp, .ico only' })),
  sessionTtl: Seconds('SESSION_TTL', 28800, 'how long a browser stays signed in after entering the password, seconds (8 hours)'),
  sweepIntervalSeconds: Type.Integer({
    env: 'SWEEP_INTERVAL_SECONDS',
    minimum: 1,
    maximum: 24 * 3600,
    default: DEFAULT_SWEEP_INTERVAL_SECONDS,
    description: 'how often expired sessions, authorization codes, pending upstream sign-ins, refresh-token families and deny-list entries ' +
      'are deleted, seconds; with several instances one of them sweeps each round. Each round also counts the rows of `gatehouse_table_rows`'
  }),
  eventsKeepDays: Type.Integer({
    env: 'EVENTS_KEEP_DAYS',
    minimum: 1,
    maximum: 3650,
    default: DEFAULT_EVENTS_KEEP_DAYS,
    description: 'how long stored security events (GET /admin/events, the console\'s events page) are kept, days; the sweep deletes older ones, ' +
      'and the oldest beyond the newest 200,000 whatever their age'
  }),
  smtpUrl: Type.Optional(Type.String({
    env: 'SMTP_URL',
    pattern: '^smtps?://.+$',
    hint: 'smtp://host:port or smtps://user:pass@host:port',
    // Its password never appears in a message or a log line (redactSmtpUrl).
    redact: true,
    description: 'the SMTP relay Gatehouse sends its messages through (verification, password reset, invitations): `smtp://` uses STARTTLS, ' +
      'required unless the host is a loopback address; `smtps://` is TLS from the start (port 465). Unset: each message is written as an ' +
      '`.eml` file into `MAIL_DIR` and the log names the file'
  })),
  mailFrom: Type.String({
    env: 'MAIL_FROM',
    minLength: 3,
    maxLength: 320,
    hint: 'an address, or Name <address>',
    derivedDefault: '`Gatehouse <no-reply@HOST>`, HOST being the host name of `ISSUER`',
    description: 'the sender (`From:`) of the messages Gatehouse sends'
  }),
  mailDir: Type.String({
    env: 'MAIL_DIR',
    minLength: 1,
    hint: 'a folder',
    derivedDefault: '`outbox/` beside the SQLite file (`data/outbox/` in the project folder for the embedded default), else `data/outbox/`',
    description: 'where messages are written as `.eml` files when `SMTP_URL` is unset (readable by the owner only: they hold single-use links)'
  }),
  mailPollMs: Type.Integer({
    env: 'MAIL_POLL_MS',
    minimum: 50,
    maximum: 60_000,
    default: 5_000,
    description: 'how often each instance looks for messages due in the outbox (a message queued by this instance is sent at once; ' +
      'this catches retries and messages another instance queued), milliseconds'
  }),
  upstreamTimeoutMs: Type.Integer({
    env: 'UPSTREAM_TIMEOUT_MS',
    minimum: 100,
    maximum: 60000,
    default: 5000,
    description: 'milliseconds after which a call to an upstream provider (discovery, token, JWKS, userinfo) gives up: ' +
      'an unreachable or slow provider is a 502 page, never a hung sign-in'
  }),
  backchannelLogoutTimeoutMs: Type.Integer({
    env: 'BACKCHANNEL_LOGOUT_TIMEOUT_MS',
    minimum: 100,
    maximum: 60000,
    default: 5000,
    description: 'milliseconds after which posting a logout token to a client\'s back-channel logout URI gives up (that try ' +
      'failed: retried after 1 s, 5 s, 30 s, 2 min and 10 min, then dropped with a `backchannel_logout_failed` event); ' +
      'delivery runs in the background, so a slow client never holds up a sign-out'
  })
})

export type Config = StaticDecode<typeof ConfigSchema>

/** Defaults that depend on other settings, applied when their variable is unset. */
const DERIVED: Partial<Record<keyof Config, (c: Record<string, unknown>) => unknown>> = {
  databaseUrl: () => `sqlite:${DEFAULT_SQLITE_PATH}`,
  issuer: (c) => browserUrl(String(c.host), Number(c.port)),
  audience: (c) => c.issuer,
  mailFrom: (c) => defaultMailFrom(String(c.issuer)),
  mailDir: (c) => defaultMailDir(String(c.databaseUrl))
}

export class ConfigError extends Error {}

/** The environment variable a setting is read from. */
const envName = (schema: TSchema): string => (schema as unknown as { env: string }).env

/**
 * What prefixes everything instances share outside the database (Redis keys, channels): REDIS_PREFIX, or
 * by default a short name derived from the issuer (every instance of one deployment shares it, other
 * deployments differ).
 */
export function deploymentNamespace (config: Pick<Config, 'issuer'> & Partial<Pick<Config, 'redisPrefix'>>): string {
  if (config.redisPrefix !== undefined) return config.redisPrefix
  return `gh:${createHash('sha256').update(config.issuer).digest('base64url').slice(0, 12)}:`
}

/**
 * Rules that tie several settings together, checked after each one has passed the schema. Each returns
 * why the combination is refused, naming every variable involved, or undefined.
 */
const CROSS_CHECKS: Array<(config: Config) => string | undefined> = [
  keyTimingProblem,
  (c) => {
    if (c.smtpUrl === undefined) return undefined
    try {
      parseSmtpUrl(c.smtpUrl)
    } catch (err) {
      return `SMTP_URL=${JSON.stringify(redactSmtpUrl(c.smtpUrl))}: ${(err as Error).message}`
    }
    return undefined
  },
  (c) => parseMailbox(c.mailFrom) === undefined
    ? `MAIL_FROM=${JSON.stringify(c.mailFrom)}: expected one address, or Name <address>, on one line`
    : undefined
]

/** Reads every setting from `env` (an empty variable counts as unset), and fails naming the first bad variable. */
export function loadConfig (env: Record<string, string | undefined> = process.env): Config {
  const properties = ConfigSchema.properties as Record<string, TSchema>
  const raw: Record<string, unknown> = {}
  for (const [key, schema] of Object.entries(properties)) {
    const value = env[envName(schema)]
    if (value === undefined || value === '') continue
    // Value.Convert is lax with numbers ("1e3" → 1, "15.9" → 15, "0x10" → 16, "true" → 1): integers
    // must be plain decimal digits, or the start fails instead of running with a value nobody meant.
    if ((schema as { type?: string }).type === 'integer' && !/^-?[0-9]+$/.test(value)) throw bad(schema, value, 'must be a whole number')
    raw[key] = value
  }
  const converted = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, { ...raw })) as Record<string, unknown>
  for (const [key, derive] of Object.entries(DERIVED)) converted[key] ??= derive(converted)
  const firstError = Value.Errors(ConfigSchema, converted).First()
  if (firstError) {
    const key = firstError.path.replace(/^\//, '').split('/')[0] ?? ''
    const schema = properties[key]
    if (!schema) throw new ConfigError(`invalid configuration: ${firstError.message}`)
    throw bad(schema, raw[key], explain(schema, firstError.message))
  }
  let config: Config
  try {
    config = Value.Decode(ConfigSchema, converted)
  } catch (err) {
    // A conversion (Transform) refused the value: TypeBox's error names the schema it failed in.
    const failed = err as { schema?: TSchema, error?: unknown }
    const schema = failed.schema
    const reason = failed.error instanceof Error ? failed.error.message : String(failed.error ?? err)
    if (!schema || !(schema as { env?: string }).env) throw new ConfigError(`invalid configuration: ${reason}`)
    throw bad(schema, env[envName(schema)], reason)
  }
  config.refreshTokenMaxLifetime = Math.max(config.refreshTokenMaxLifetime, config.refreshTokenTtl)
  for (const check of CROSS_CHECKS) {
    const problem = check(config)
    if (problem !== undefined) throw new ConfigError(`invalid environment: ${problem}`)
  }
  return config
}

function bad (schema: TSchema, value: unknown, message: string): ConfigError {
  const marks = schema as { redact?: boolean, secret?: boolean }
  const shown = marks.secret ? '(hidden)' : marks.redact === true && typeof value === 'string' ? redactSmtpUrl(value) : value
  return new ConfigError(`invalid environment variable ${envName(schema)}=${JSON.stringify(shown)}: ${message}`)
}

/** The reason in words a reader can act on: the allowed values, the bounds or the expected form. */
function explain (schema: TSchema, fallback: string): string {
  const s = schema as { anyOf?: Array<{ const?: unknown }>, minimum?: number, maximum?: number, hint?: string, type?: string }
  if (s.anyOf?.every((v) => v.const !== undefined)) return `must be one of ${s.anyOf.map((v) => String(v.const)).join(', ')}`
  if (s.type === 'integer') return `must be a whole number from ${s.minimum ?? '…'} to ${s.maximum ?? '…'}`
  if (s.hint) return `expected ${s.hint}`
  return fallback
}

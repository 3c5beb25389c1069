import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { createHash } from 'node:crypto'

/**
 * Every setting Gatehouse reads from the environment, in one TypeBox schema.
 * The type of `Config` is derived from it, so there is no second, hand-written copy.
 * Only the config plugin and the CLI call `loadConfig`; everything else reads `fastify.config`.
 */
const Port = Type.Integer({ minimum: 0, maximum: 65535 })
const Seconds = Type.Integer({ minimum: 1, maximum: 10 * 365 * 24 * 3600 })
const OnOff = Type.Union([Type.Literal('on'), Type.Literal('off')])

export const EnvSchema = Type.Object({
  PORT: Type.Optional(Port),
  HOST: Type.Optional(Type.String({ minLength: 1 })),
  ISSUER: Type.Optional(Type.String({ pattern: '^https?://[^?#\\s]+$' })),
  AUDIENCE: Type.Optional(Type.String({ minLength: 1 })),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^(sqlite:.+|postgres(ql)?://.+)$' })),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://.+$' })),
  ACCESS_TOKEN_TTL: Type.Optional(Seconds),
  REFRESH_TOKEN_TTL: Type.Optional(Seconds),
  /** Absolute lifetime of a refresh-token family: rotation slides each token's TTL, never past this. */
  REFRESH_TOKEN_MAX_LIFETIME: Type.Optional(Seconds),
  PASSWORD_GRANT: Type.Optional(OnOff),
  ROUTES_DIR: Type.Optional(Type.String({ minLength: 1 })),
  PLUGINS_DIR: Type.Optional(Type.String({ minLength: 1 })),
  LOG_LEVEL: Type.Optional(Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)))),
  /** Per-request "incoming request / request completed" log lines. They halve a bare route's throughput, so they are opt-in. */
  ACCESS_LOG: Type.Optional(OnOff),
  /** argon2id cost. Defaults are OWASP's minimum (19 MiB, t=2, p=1); tests lower them. */
  ARGON2_MEMORY_KIB: Type.Optional(Type.Integer({ minimum: 8, maximum: 4 * 1024 * 1024 })),
  ARGON2_TIME_COST: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  ARGON2_PARALLELISM: Type.Optional(Type.Integer({ minimum: 1, maximum: 16 })),
  /** How often a running server re-reads the signing keys from the store. */
  KEYS_REFRESH_SECONDS: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 })),
  /** How long a rotated-in key is only published before it signs, so every instance's JWKS has it first. */
  KEY_PUBLISH_DELAY_SECONDS: Type.Optional(Type.Integer({ minimum: 0, maximum: 30 }))
})
export type Env = Static<typeof EnvSchema>

export interface Config {
  port: number
  host: string
  issuer: string
  audience: string
  databaseUrl: string
  redisUrl: string | undefined
  accessTokenTtl: number
  refreshTokenTtl: number
  refreshTokenMaxLifetime: number
  passwordGrant: boolean
  routesDir: string | undefined
  pluginsDir: string | undefined
  logLevel: string
  accessLog: boolean
  argon2: { memoryCost: number, timeCost: number, parallelism: number }
  keysRefreshSeconds: number
  keyPublishDelaySeconds: number
}

export class ConfigError extends Error {}

/**
 * A short name for this deployment, derived from its issuer: every instance of one deployment shares it,
 * other deployments differ. It prefixes what instances share outside the database (Redis keys, channels).
 */
export function deploymentNamespace (config: Pick<Config, 'issuer'>): string {
  return `gh:${createHash('sha256').update(config.issuer).digest('base64url').slice(0, 12)}:`
}

/** Reads the variables this schema knows from `env`, converts numbers, and fails naming the first bad variable. */
export function loadConfig (env: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, unknown> = {}
  for (const [key, schema] of Object.entries(EnvSchema.properties)) {
    const value = env[key]
    if (value === undefined || value === '') continue
    // Value.Convert is lax with numbers ("1e3" → 1, "15.9" → 15, "0x10" → 16, "true" → 1): integers
    // must be plain decimal digits, or the start fails instead of running with a value nobody meant.
    if ((schema as { type?: string }).type === 'integer' && !/^-?[0-9]+$/.test(value)) {
      throw new ConfigError(`invalid environment variable ${key}=${JSON.stringify(value)}: Expected integer`)
    }
    raw[key] = value
  }
  const converted = Value.Convert(EnvSchema, raw)
  const firstError = Value.Errors(EnvSchema, converted).First()
  if (firstError) {
    const name = firstError.path.replace(/^\//, '').split('/')[0]
    throw new ConfigError(`invalid environment variable ${name}=${JSON.stringify(raw[name])}: ${firstError.message}`)
  }
  const e = converted as Env
  const port = e.PORT ?? 3000
  const issuer = e.ISSUER ?? `http://localhost:${port}`
  return {
    port,
    host: e.HOST ?? '127.0.0.1',
    issuer,
    audience: e.AUDIENCE ?? issuer,
    databaseUrl: e.DATABASE_URL ?? 'sqlite:./data/gatehouse.db',
    redisUrl: e.REDIS_URL,
    accessTokenTtl: e.ACCESS_TOKEN_TTL ?? 900,
    refreshTokenTtl: e.REFRESH_TOKEN_TTL ?? 1209600,
    refreshTokenMaxLifetime: Math.max(e.REFRESH_TOKEN_MAX_LIFETIME ?? 7776000, e.REFRESH_TOKEN_TTL ?? 1209600),
    passwordGrant: (e.PASSWORD_GRANT ?? 'on') === 'on',
    routesDir: e.ROUTES_DIR,
    pluginsDir: e.PLUGINS_DIR,
    logLevel: e.LOG_LEVEL ?? 'info',
    accessLog: e.ACCESS_LOG === 'on',
    argon2: {
      memoryCost: e.ARGON2_MEMORY_KIB ?? 19456,
      timeCost: e.ARGON2_TIME_COST ?? 2,
      parallelism: e.ARGON2_PARALLELISM ?? 1
    },
    keysRefreshSeconds: e.KEYS_REFRESH_SECONDS ?? 10,
    keyPublishDelaySeconds: e.KEY_PUBLISH_DELAY_SECONDS ?? 30
  }
}

import type { Server } from 'node:http'
import { LogController, type FastifyHttpOptions, type FastifyServerOptions } from 'fastify'
import type { Config } from '../config.js'
import { buildValidator } from './body-validation.js'
import { httpParserError, MAX_PARAM_LENGTH, routerError } from './framework-errors.js'
import { requestIdGenerator } from './request-context.js'
import { buildSerializer } from './response-serializers.js'
import { prettyDestination } from '../ops/pretty-log.js'

/**
 * Ajv settings for every Fastify instance Gatehouse builds (server, tests, OpenAPI generation):
 * unknown properties in a closed schema are refused, not silently dropped. Arrays coerce from repeated
 * query keys; OAuth endpoints refuse repeated parameters before validation (plugins/oauth-endpoint.ts).
 * Coercion applies to query strings, parameters and form bodies only, never to JSON bodies
 * (lib/http/body-validation.ts, through `schemaController` in baseOptions).
 */
export const ajvOptions: NonNullable<FastifyServerOptions['ajv']> = {
  customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false }
}

/**
 * What every Fastify instance Gatehouse builds shares: the server, the tests, the OpenAPI generator. Response
 * serializers are compiled once per process (lib/http/response-serializers.ts).
 */
export const baseOptions = {
  // How long the app's plugins may take to start (avvio's default is 10 s). A start opens the store, runs the
  // migrations (on PostgreSQL one may wait up to 120 s for another instance's: lib/stores/postgres/migrations.ts) and
  // loads the key ring: a fraction of a second on a quiet machine, but past 10 s has been seen on a loaded one (two
  // cores, a busy neighbour), where a server that gives up is worse than one that starts late.
  pluginTimeout: 120_000,
  ajv: ajvOptions,
  schemaController: { compilersFactory: { buildValidator, buildSerializer } },
  routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
  frameworkErrors: routerError,
  clientErrorHandler: httpParserError
} satisfies FastifyServerOptions

/**
 * Options that follow the configuration, for every instance that serves requests (the server and the tests):
 * request ids (a trusted proxy's X-Request-Id, else a UUID) and whose X-Forwarded-For to believe (TRUST_PROXY).
 */
export function configuredOptions (config: Pick<Config, 'trustProxy'>) {
  return {
    genReqId: requestIdGenerator(config.trustProxy),
    // A hop count trusts that many proxies nearest to us (what Fastify does with a number, which its types omit).
    ...(config.trustProxy === undefined ? {} : { trustProxy: typeof config.trustProxy === 'number' ? hops(config.trustProxy) : config.trustProxy })
  } satisfies FastifyServerOptions
}

const hops = (count: number) => (_address: string, hop: number): boolean => hop < count

/** Secrets that must never reach the log (SECURITY-CASES L1). */
export const REDACT = [
  'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]',
  'password', 'client_secret', 'refresh_token', 'access_token', 'code', 'code_verifier'
]

/** How long a request may take to arrive in full (headers and body): a client that stops sending is dropped. */
export const REQUEST_TIMEOUT_MS = 30_000

export function serverOptions (config: Config): FastifyHttpOptions<Server> {
  return {
    ...baseOptions,
    ...configuredOptions(config),
    logger: {
      level: config.logLevel,
      redact: { paths: REDACT, censor: '[redacted]' },
      serializers: {
        // The query string can carry a token someone put there by mistake: log the path only.
        req: (req) => ({ method: req.method, url: req.url.split('?')[0], remoteAddress: req.ip })
      },
      // LOG_FORMAT=pretty: human lines for development (lib/ops/pretty-log.ts); otherwise pino's JSON on stdout.
      ...(config.logFormat === 'pretty' ? { stream: prettyDestination() } : {})
    },
    logController: new LogController({ disableRequestLogging: !config.accessLog }),
    requestTimeout: REQUEST_TIMEOUT_MS,
    // Also given to Node's constructor, which then derives headersTimeout (≤ requestTimeout) from it. Fastify
    // only sets server.requestTimeout afterwards, leaving headersTimeout at its 60 s default; with
    // headersTimeout > requestTimeout Node swaps the two, and a body that never arrives was waited for 60 s.
    http: { requestTimeout: REQUEST_TIMEOUT_MS },
    keepAliveTimeout: 72_000,
    // On close, idle keep-alive sockets are dropped at once; in-flight requests finish first.
    forceCloseConnections: 'idle',
    return503OnClosing: true
  }
}

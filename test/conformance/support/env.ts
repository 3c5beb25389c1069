import type { ManualClock } from '../../support/helper.js'
import type { Arrival } from './rp.js'
import type { HttpResult } from './http.js'

/**
 * The state of one module run: the suite's `Environment` (a bag of JSON objects keyed by name), as typed fields.
 * Conditions (conditions/*.ts) read and write it; one missing where a condition needs it is that condition's
 * failure, as the suite's `@PreEnvironment` makes it.
 */

/** A JWT as the suite's environment holds it: the compact text, its header and its claims. */
export interface Jwt {
  value: string
  header: Record<string, unknown>
  claims: Record<string, unknown>
}

/** A client as the suite's test configuration names it (`client`, `client2`). */
export interface StaticClient {
  client_id: string
  client_secret: string
  /** Set by the module (SetScopeInClientConfigurationTo…), as the suite sets `client.scope`. */
  scope?: string
}

/** The suite's test configuration (`config`): a static client registered at the OP, discovery, a login hint. */
export interface ConformanceConfig {
  discoveryUrl: string
  client: StaticClient
  client2: StaticClient
  /** `server.login_hint`: the conformance user's username, so a login page that fills it in fills it in right. */
  loginHint: string
}

/** What went wrong in a condition: its failure (or warning, as the module calls it). */
export class ConditionError extends Error {}

export function fail (message: string, details?: unknown): never {
  throw new ConditionError(details === undefined ? message : `${message}: ${JSON.stringify(details)}`)
}

export class Env {
  /** `base_url`: the conformance RP's base URL (redirect URIs hang below it). */
  readonly baseUrl: string
  readonly config: ConformanceConfig
  /** The OP's manual clock: the suite's waits move it. */
  readonly clock: ManualClock
  server?: Record<string, unknown>
  discoveryResponse?: HttpResult
  serverJwks?: Record<string, unknown>
  client?: StaticClient
  /** `client_jwks`: the symmetric key made from the client secret (GenerateJWKsFromClientSecret). */
  clientJwks?: { kty: 'oct', k: string, alg: string, use: string }
  redirectUri?: string
  badRedirectPath?: string
  postLogoutRedirectUri?: string
  requestedStateLength?: number
  requestedNonceLength?: number
  authorizationEndpointRequest?: Record<string, unknown>
  requestObjectClaims?: Record<string, unknown>
  requestObject?: string
  /** `request_uri`: where the RP serves the request object (its path below the base URL, and the full URL). */
  requestUri?: { path: string, fullUrl: string }
  redirectToAuthorizationEndpoint?: string
  state?: string
  nonce?: string
  codeVerifier?: string
  codeChallenge?: string
  codeChallengeMethod?: string
  /** The RP's record of the redirect back (callback_query_params, callback_body_form_params, callback_params…). */
  callback?: Arrival
  authorizationEndpointResponse?: Record<string, string>
  code?: string
  tokenEndpointRequest?: { form: Record<string, string>, headers: Record<string, string> }
  tokenEndpointResponseFull?: HttpResult
  tokenEndpointResponse?: Record<string, unknown>
  accessToken?: { value: string, type: string }
  expiresIn?: unknown
  refreshToken?: string
  /** `id_token`: the one the conditions check now. */
  idToken?: Jwt
  /** `authorization_endpoint_id_token` and `token_endpoint_id_token`. */
  tokenEndpointIdToken?: Jwt
  firstIdToken?: Jwt
  secondIdToken?: Jwt
  firstAccessToken?: { value: string, type: string }
  secondAccessToken?: { value: string, type: string }
  /** `resource.resourceMethod`: how the userinfo endpoint is called. */
  resourceMethod: 'GET' | 'POST' = 'GET'
  userinfoResponse?: HttpResult
  userinfo?: Record<string, unknown>
  resourceResponse?: HttpResult
  endSessionState?: string
  endSessionRequest?: Record<string, string>
  redirectToEndSessionEndpoint?: string
  postLogoutRedirect?: Arrival
  fakeIdTokenClaims?: Record<string, unknown>
  /** The suite keeps the scopes_supported and id_token_signing_alg flags it sets to decide on skipping. */
  scopesNotSupported = false

  constructor (input: { baseUrl: string, config: ConformanceConfig, clock: ManualClock }) {
    this.baseUrl = input.baseUrl
    this.config = input.config
    this.clock = input.clock
  }

  /** Seconds, from the clock the OP runs on (the suite's `Instant.now()`). */
  now (): number {
    return this.clock.now()
  }

  /** A field a condition needs: missing, it is that condition's failure. */
  need<K extends keyof Env> (key: K): NonNullable<Env[K]> {
    const value = this[key]
    if (value === undefined || value === null) fail(`${String(key)} is missing`)
    return value as NonNullable<Env[K]>
  }
}

/** A value at a dotted path of a JSON object (the suite's `env.getString("server", "a.b")`). */
export function at (object: unknown, path: string): unknown {
  let value: unknown = object
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
    value = (value as Record<string, unknown>)[part]
  }
  return value
}

export const isString = (value: unknown): value is string => typeof value === 'string'
export const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value)

/** One of the suite's conditions: its class name, and what it checks (it throws a ConditionError when that fails). */
export interface Condition {
  readonly name: string
  readonly evaluate: (env: Env) => void | Promise<void>
  /** A step that only sets the environment up (the suite's `exec()` commands): no assertion of its own. */
  readonly command?: boolean
}

export const condition = (name: string, evaluate: (env: Env) => void | Promise<void>): Condition => ({ name, evaluate })
export const command = (name: string, evaluate: (env: Env) => void): Condition => ({ name, evaluate, command: true })

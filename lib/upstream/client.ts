import * as oidc from 'openid-client'
import { BoundedLru } from '../limits/lru.js'
import { isLoopbackHost, providerRedirectUri, type ProviderDiscovery, type ProviderEndpoints } from '../admin/providers.js'
import type { UpstreamProvider } from '../stores/types.js'

/**
 * The upstream side of a sign-in through a provider (issue 14), with openid-client v6 and nothing
 * hand-written: discovery (cached per provider, dropped when a call fails so the next one rediscovers),
 * the authorization request (state, nonce, PKCE S256), the code exchange with every ID token check
 * (signature through the provider's JWKS, iss, aud, azp, exp, iat, nonce), userinfo. Plain OAuth 2.0
 * providers (no discovery, no ID token) get a Configuration built from their stored endpoints and their
 * account is read from their userinfo endpoint. Every call gives up after UPSTREAM_TIMEOUT_MS; http is
 * allowed for loopback issuers only (allowInsecureRequests), https otherwise.
 */

/** Who signed in at the provider, through the provider's claim mapping. */
export interface UpstreamProfile {
  subject: string
  email: string | null
  /** Only when the provider says so (OpenID email_verified, or the mapped claim): never assumed. */
  emailVerified: boolean
  name: string | null
  username: string | null
  /** The provider's `amr` claim as it sent it (RFC 8176), when it sent one: lib/oauth/sign-in-methods.ts reads it. */
  amr?: unknown
}

/** Why an upstream call failed, in the terms the callback answers with. */
export type UpstreamFailure =
  /** The provider (or the user there) said no: error=… on the callback. Goes back to the client as access_denied. */
  | { kind: 'denied', error: string, description: string | undefined }
  /** Could not reach the provider, it timed out or answered garbage: 502. */
  | { kind: 'unreachable', detail: string }
  /** A check failed (state, ID token, a token endpoint refusal): 400. */
  | { kind: 'invalid', detail: string }

export class UpstreamCallError extends Error {
  override name = 'UpstreamCallError'
  constructor (readonly failure: UpstreamFailure, options?: ErrorOptions) {
    super(failure.kind === 'denied' ? `${failure.error}: ${failure.description ?? ''}` : failure.detail, options)
  }
}

/** Sorts what openid-client threw into the three answers. Never includes a token or secret (messages are openid-client's own). */
export function classify (err: unknown): UpstreamFailure {
  const short = (text: unknown) => String(text ?? '').slice(0, 200)
  if (err instanceof oidc.AuthorizationResponseError) return { kind: 'denied', error: short(err.error), description: err.error_description === undefined ? undefined : short(err.error_description) }
  if (err instanceof oidc.ResponseBodyError) {
    // The token (or userinfo) endpoint refused: a spent or foreign code is the browser's problem, anything else the provider's.
    return err.error === 'invalid_grant'
      ? { kind: 'invalid', detail: `the provider refused the code: ${short(err.error)} ${short(err.error_description)}`.trim() }
      : { kind: 'unreachable', detail: `the provider answered ${err.status}: ${short(err.error)} ${short(err.error_description)}`.trim() }
  }
  if (err instanceof oidc.WWWAuthenticateChallengeError) return { kind: 'unreachable', detail: `the provider refused its own access token (${err.status})` }
  if (err instanceof oidc.ClientError) {
    const code = err.code ?? ''
    if (['OAUTH_TIMEOUT', 'OAUTH_ABORT', 'OAUTH_RESPONSE_IS_NOT_CONFORM', 'OAUTH_RESPONSE_IS_NOT_JSON', 'OAUTH_HTTP_REQUEST_FORBIDDEN', 'OAUTH_REQUEST_PROTOCOL_FORBIDDEN', 'OAUTH_INVALID_SERVER_METADATA', 'OAUTH_MISSING_SERVER_METADATA'].includes(code)) {
      return { kind: 'unreachable', detail: `${short(err.message)} (${code})` }
    }
    if (code === '' && err.message === 'something went wrong') return { kind: 'unreachable', detail: short((err.cause as Error | undefined)?.message ?? err.message) }
    return { kind: 'invalid', detail: `${short(err.message)}${code ? ` (${code})` : ''}: ${short((err.cause as Error | undefined)?.message)}` }
  }
  if (err instanceof UpstreamCallError) return err.failure
  // fetch's own failures (refused, reset, DNS, TLS) are TypeErrors; a timeout is a DOMException.
  if (err instanceof TypeError || (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))) {
    const cause = err.cause as { code?: string, message?: string } | undefined
    return { kind: 'unreachable', detail: short(cause?.code ?? cause?.message ?? err.message) }
  }
  return { kind: 'unreachable', detail: short(err instanceof Error ? err.message : err) }
}

const isPlain = (p: ProviderEndpoints): boolean => p.authorizationEndpoint !== null

function isLoopbackUrl (value: string | null): boolean {
  if (value === null) return true
  try { return isLoopbackHost(new URL(value).hostname) } catch { return false }
}

/** http is allowed only when the issuer and every endpoint are on a loopback host (lib/admin/providers.ts checkProviderUrl). */
const insecureAllowed = (p: ProviderEndpoints): boolean =>
  isLoopbackUrl(p.issuer) && isLoopbackUrl(p.authorizationEndpoint) && isLoopbackUrl(p.tokenEndpoint) && isLoopbackUrl(p.userinfoEndpoint)

export interface UpstreamClientOptions {
  /** This server's issuer: the redirect URIs are ISSUER/login/{name}/callback. */
  issuer: string
  timeoutMs: number
  nowMs: () => number
}

export class UpstreamClients {
  readonly #options: UpstreamClientOptions
  /** One discovered configuration per provider (name), valid while the stored provider has not changed. */
  readonly #configurations: BoundedLru<string, { updatedAt: number, configuration: Promise<oidc.Configuration> }>

  constructor (options: UpstreamClientOptions) {
    this.#options = options
    // Keyed by stored provider names only (the route looked the provider up first), so the cap is never reached in practice.
    this.#configurations = new BoundedLru(1000, options.nowMs)
  }

  get timeoutSeconds (): number { return this.#options.timeoutMs / 1000 }

  redirectUri (provider: UpstreamProvider): string { return providerRedirectUri(this.#options.issuer, provider.name) }

  /** The provider's configuration: discovered once (then cached), or built from its endpoints (plain OAuth 2.0). */
  async configuration (provider: UpstreamProvider): Promise<oidc.Configuration> {
    const cached = this.#configurations.get(provider.name)
    if (cached && cached.updatedAt === provider.updatedAt) return cached.configuration
    const configuration = this.#build(provider)
    this.#configurations.set(provider.name, { updatedAt: provider.updatedAt, configuration })
    // A failed discovery is not kept: the next sign-in tries again.
    configuration.catch(() => this.forget(provider))
    return configuration
  }

  /** Drops the cached configuration (after a failed call: the provider may have rotated its endpoints). */
  forget (provider: UpstreamProvider): void {
    const cached = this.#configurations.peek(provider.name)
    if (cached && cached.updatedAt === provider.updatedAt) this.#configurations.delete(provider.name)
  }

  /**
   * A fresh discovery, as a sign-in would do it (same timeout, http for loopback issuers only) but never cached nor
   * taken from the cache: for lib/admin/providers.ts (createProvider/updateProvider with checkDiscovery), so a
   * provider is checked before it is stored. Returns what the document says; a plain OAuth 2.0 provider has no
   * document, so nothing is fetched and its own endpoints come back (`discovered: false`). Throws UpstreamCallError,
   * its failure as classify() sorts it.
   */
  async check (provider: ProviderEndpoints): Promise<ProviderDiscovery> {
    if (isPlain(provider)) {
      return { discovered: false, issuer: provider.issuer, authorization_endpoint: provider.authorizationEndpoint, token_endpoint: provider.tokenEndpoint, userinfo_endpoint: provider.userinfoEndpoint, jwks_uri: null }
    }
    try {
      const m = await this.#discover(provider)
      return { discovered: true, issuer: m.issuer, authorization_endpoint: m.authorization_endpoint ?? null, token_endpoint: m.token_endpoint ?? null, userinfo_endpoint: m.userinfo_endpoint ?? null, jwks_uri: m.jwks_uri ?? null }
    } catch (err) {
      const failure = classify(err)
      // The commonest mistake (a trailing slash, http for https): say which issuer the document names.
      const cause = (err as { cause?: { attribute?: unknown, body?: { issuer?: unknown } } }).cause
      if (err instanceof oidc.ClientError && cause?.attribute === 'issuer' && typeof cause.body?.issuer === 'string') {
        throw new UpstreamCallError({ kind: 'invalid', detail: `its issuer is ${cause.body.issuer.slice(0, 200)}, not ${provider.issuer}` }, { cause: err })
      }
      throw new UpstreamCallError(failure.kind === 'invalid' ? { ...failure, detail: failure.detail.replace(/:\s*$/, '') } : failure, { cause: err })
    }
  }

  /** The provider's discovery document, fetched now (its issuer must equal the registered one exactly: openid-client checks it). */
  async #discover (provider: ProviderEndpoints): Promise<oidc.ServerMetadata> {
    const discovered = await oidc.discovery(new URL(provider.issuer), provider.clientId, undefined, oidc.None(), {
      timeout: this.timeoutSeconds,
      execute: insecureAllowed(provider) ? [oidc.allowInsecureRequests] : []
    })
    return discovered.serverMetadata()
  }

  async #build (provider: UpstreamProvider): Promise<oidc.Configuration> {
    const insecure = insecureAllowed(provider)
    const metadata: oidc.ServerMetadata = isPlain(provider)
      ? {
          issuer: provider.issuer,
          authorization_endpoint: provider.authorizationEndpoint ?? undefined,
          token_endpoint: provider.tokenEndpoint ?? undefined,
          userinfo_endpoint: provider.userinfoEndpoint ?? undefined
        }
      : await this.#discover(provider)
    // The secret in the body (openid-client's default, and what plain OAuth 2.0 providers such as GitHub take),
    // unless the provider lists the methods it accepts without client_secret_post.
    const methods = metadata.token_endpoint_auth_methods_supported
    const auth = isPlain(provider) || methods === undefined || methods.includes('client_secret_post')
      ? oidc.ClientSecretPost(provider.clientSecret)
      : oidc.ClientSecretBasic(provider.clientSecret)
    const configuration = new oidc.Configuration(metadata, provider.clientId, undefined, auth)
    configuration.timeout = this.timeoutSeconds
    if (insecure) oidc.allowInsecureRequests(configuration)
    // openid-client trusts an ID token from the token endpoint on the strength of TLS (OIDC Core §3.1.3.7.6)
    // unless told otherwise: the contract wants its signature checked through the provider's JWKS (F1).
    if (!isPlain(provider)) oidc.enableNonRepudiationChecks(configuration)
    return configuration
  }

  /** Where to send the browser: the provider's authorization endpoint with state, nonce (OpenID) and the PKCE S256 challenge. */
  async authorizationUrl (provider: UpstreamProvider, checks: { state: string, nonce: string, codeVerifier: string }): Promise<URL> {
    const configuration = await this.#call(provider, () => this.configuration(provider))
    const parameters: Record<string, string> = {
      redirect_uri: this.redirectUri(provider),
      response_type: 'code',
      state: checks.state,
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: 'S256'
    }
    if (provider.scope !== '') parameters.scope = provider.scope
    if (!isPlain(provider)) parameters.nonce = checks.nonce
    return oidc.buildAuthorizationUrl(configuration, parameters)
  }

  /**
   * The callback: checks the response (state; RFC 9207 iss when the provider sends it), exchanges the code
   * with the PKCE verifier, validates the ID token (OpenID) and reads who signed in. Throws UpstreamCallError.
   */
  async complete (provider: UpstreamProvider, query: URLSearchParams, checks: { state: string, nonce: string, codeVerifier: string }): Promise<UpstreamProfile> {
    return this.#call(provider, async () => {
      const configuration = await this.configuration(provider)
      // The URL the provider redirected to, rebuilt from the issuer (never the request's Host): openid-client
      // takes the redirect_uri of the token request from it.
      const current = new URL(this.redirectUri(provider))
      for (const [key, value] of query) current.searchParams.append(key, value)
      const plain = isPlain(provider)
      const tokens = await oidc.authorizationCodeGrant(configuration, current, {
        expectedState: checks.state,
        pkceCodeVerifier: checks.codeVerifier,
        ...(plain ? {} : { expectedNonce: checks.nonce, idTokenExpected: true })
      })
      if (plain) {
        const response = await oidc.fetchProtectedResource(configuration, tokens.access_token, new URL(provider.userinfoEndpoint!), 'GET')
        if (!response.ok) throw new UpstreamCallError({ kind: 'unreachable', detail: `the provider's userinfo endpoint answered ${response.status}` })
        let body: unknown
        try { body = await response.json() } catch { throw new UpstreamCallError({ kind: 'unreachable', detail: 'the provider\'s userinfo endpoint answered no JSON' }) }
        if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new UpstreamCallError({ kind: 'unreachable', detail: 'the provider\'s userinfo endpoint answered no JSON object' })
        return profileOf(provider, body as Record<string, unknown>)
      }
      const idToken = tokens.claims()
      if (!idToken) throw new UpstreamCallError({ kind: 'invalid', detail: 'the provider sent no ID token' })
      let claims: Record<string, unknown> = { ...idToken }
      const wanted = [provider.claims.email, provider.claims.name, provider.claims.username].filter((c): c is string => c !== null)
      if (wanted.some((c) => claims[c] === undefined) && configuration.serverMetadata().userinfo_endpoint) {
        // OIDC Core §5.3.2: the userinfo `sub` must be the ID token's (openid-client checks it).
        const userinfo = await oidc.fetchUserInfo(configuration, tokens.access_token, idToken.sub)
        claims = { ...userinfo, ...claims }
      }
      // The account key is the ID token's own `sub` (validated with iss and aud), whatever the mapping says.
      return profileOf(provider, { ...claims, [provider.claims.subject]: idToken.sub, sub: idToken.sub }, 'sub')
    })
  }

  /** Runs a call to the provider; on any failure the cached configuration goes (rediscovered next time) and the error is sorted. */
  async #call<T> (provider: UpstreamProvider, task: () => Promise<T>): Promise<T> {
    try {
      return await task()
    } catch (err) {
      const failure = classify(err)
      if (failure.kind === 'unreachable' || failure.kind === 'invalid') this.forget(provider)
      throw err instanceof UpstreamCallError ? err : new UpstreamCallError(failure, { cause: err })
    }
  }
}

const text = (value: unknown, max: number): string | null => {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  // eslint-disable-next-line no-control-regex -- control characters are refused
  return typeof value === 'string' && value.length > 0 && value.length <= max && !/[\u0000-\u001f\u007f]/.test(value) ? value : null
}

/** The provider's claims through its mapping. The subject may be a number (GitHub's id): it becomes its decimal text. */
export function profileOf (provider: UpstreamProvider, claims: Record<string, unknown>, subjectClaim = provider.claims.subject): UpstreamProfile {
  const subject = text(claims[subjectClaim], 255)
  if (subject === null) throw new UpstreamCallError({ kind: 'invalid', detail: `the provider's answer has no usable subject claim (${subjectClaim})` })
  const pick = (claim: string | null, max: number) => claim === null ? null : text(claims[claim], max)
  const verified = provider.claims.emailVerified === null ? undefined : claims[provider.claims.emailVerified]
  return {
    subject,
    email: pick(provider.claims.email, 320),
    emailVerified: verified === true || verified === 'true',
    name: pick(provider.claims.name, 256),
    username: pick(provider.claims.username, 256),
    ...(claims.amr === undefined ? {} : { amr: claims.amr })
  }
}

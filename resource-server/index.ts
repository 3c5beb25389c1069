/// <reference types="@fastify/jwt" preserve="true" />
import { KeyObject } from 'node:crypto'
import fp from 'fastify-plugin'
import fastifyJwt from '@fastify/jwt'
import { createRemoteJWKSet, type JWSHeaderParameters } from 'jose'
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { BearerError, insufficientScope, invalidToken, missingToken, resourceChallenge, type DpopMode, type ResourceScheme } from '../lib/errors.js'
import { fromJwtError } from '../lib/http/framework-errors.js'
import { accessTokenRules, CLOCK_LEEWAY_SECONDS, type AccessTokenClaims } from '../lib/oauth/access-token-rules.js'
import { bearerToken, dpopToken, usesDpopScheme } from '../lib/oauth/bearer.js'
import { acceptProof, asResourceRefusal, boundKeyOf, checkProofKey, proofTarget, refuseBoundAsBearer } from '../lib/oauth/dpop-resource.js'
import { MemoryProofReplay, type ProofReplay } from '../lib/oauth/dpop-replay.js'
import { hasScopes } from '../lib/oauth/scopes.js'
import { systemClock } from '../lib/clock.js'
import { checkResource, dpopBaseUrl, metadataLocation, protectedResourceMetadata } from './protected-resource.js'

/**
 * `gatehouse/resource-server`: a Fastify plugin for another service (a resource server) that accepts
 * Gatehouse's access tokens.
 *
 *   import gatehouseAuth from 'gatehouse/resource-server'
 *   await app.register(gatehouseAuth, { issuer: 'https://auth.example.com', resource: 'https://orders.example.com', scopes: ['orders:read'] })
 *   app.get('/orders', { onRequest: [app.authenticate, app.requireScope('orders:read')] }, async (request) => request.user.sub)
 *
 * With `resource` (RFC 8707, RFC 9728) it also serves this service's protected resource metadata and points every
 * 401 at it (`WWW-Authenticate: Bearer …, resource_metadata="…"`): what an MCP server needs. Tokens must carry
 * `aud` = the resource (`audience` overrides that, for a deployment-wide AUDIENCE).
 *
 * Built on @fastify/jwt (so `request.jwtVerify()` and `request.user` are there too; @fastify/jwt itself is
 * registered under the namespace `gatehouse`) with jose's remote key set as its key fetcher: `jwks_uri` comes
 * from the issuer's RFC 8414 metadata, the key from the token's `kid`, and an unknown `kid` makes it fetch the
 * JWKS again, at most once every `jwksCooldownMs` (10 s), so tokens with made-up kids cannot turn it into a
 * flood on Gatehouse. Checked: the signature (ES256 only), `typ` at+jwt, `iss`, `aud` (this service), `exp`
 * and `nbf` (10 s leeway), and the claims every Gatehouse token carries (the same rules as Gatehouse's own
 * verifier, from lib/oauth/access-token-rules.ts). Failures are RFC 6750: `fastify.authenticate` and
 * `fastify.requireScope` reply 401 invalid_token / 403 insufficient_scope with the Bearer challenge; a bare
 * `request.jwtVerify()` throws a TokenCheckError carrying that status and challenge. Until Gatehouse's
 * metadata and keys can be fetched, requests get 503 with Retry-After. A resource server sees a revoked token
 * as valid until it expires (ACCESS_TOKEN_TTL, 15 minutes by default); ask POST /introspect where that matters.
 *
 * DPoP (RFC 9449 §7): a token bound to a key (`cnf.jkt`) is accepted as `Authorization: DPoP <token>` with a `DPoP`
 * proof of this request (`htm`, `htu` = `publicUrl` or the resource's origin + the path, `ath`, a `jti` not seen
 * before, signed by the bound key), and never as Bearer; `dpop: 'required'` refuses bearer tokens altogether. Refusals
 * carry the DPoP challenge (`WWW-Authenticate: DPoP error=…, algs=…`).
 */
interface CommonOptions {
  /** Gatehouse's ISSUER, exactly as it appears in `iss`. */
  issuer: string
  /** The scopes this resource defines, published as `scopes_supported` in its metadata. */
  scopes?: readonly string[]
  /** A human-readable name, published as `resource_name`. */
  resourceName?: string
  /** The realm of the `WWW-Authenticate` challenges; defaults to the audience. */
  realm?: string
  /** After a JWKS fetch, no other for this long (ms), whatever `kid`s arrive; default 10 000. */
  jwksCooldownMs?: number
  /** How long a fetched JWKS is used before it is fetched again (ms); default 600 000. */
  jwksMaxAgeMs?: number
  /** Timeout of the metadata and JWKS requests (ms); default 5 000. */
  timeoutMs?: number
  /**
   * DPoP-bound tokens (RFC 9449): `'allowed'` (the default when `publicUrl` or `resource` is given) takes them as
   * `Authorization: DPoP` with a proof, and bearer tokens as before; `'required'` takes DPoP-bound tokens only (and says
   * so in the metadata); `'off'` (the default without a URL) takes none. A DPoP-bound token sent as Bearer is refused
   * whatever this says.
   */
  dpop?: DpopMode
  /**
   * The URL this service is reached at (`https://orders.example.com`, or with a path prefix that the request paths
   * are appended to): a proof's `htu` must be it plus the request's path. Default: the origin of `resource`. The
   * request's Host header is never used (any client sets it).
   */
  publicUrl?: string
  /**
   * Where the `jti`s of accepted proofs are remembered (§11.1), so a replayed proof is refused: by default this
   * process's memory (bounded, each kept for the window a proof is accepted in). Several instances of the service
   * share one with an atomic `firstUse(key, ttlSeconds)` (true the first time; e.g. Redis `SET key 1 NX EX ttl`).
   */
  dpopReplay?: ProofReplay
}

/** The service names itself by `resource` (RFC 8707/9728: what MCP servers do) or, as before resources, by `audience`. */
export type ResourceServerOptions = CommonOptions & (
  | {
    /**
     * This service's resource identifier (RFC 8707, RFC 9728), e.g. `https://mcp.example.com/mcp`: registered
     * in Gatehouse (`gatehouse resources add`), asked for as `resource` by clients, and the `aud` of the tokens
     * meant for it. With it the plugin serves the service's protected resource metadata
     * (`/.well-known/oauth-protected-resource`, and the path-suffixed form for a resource with a path) and names
     * it in every 401's `WWW-Authenticate` (`resource_metadata`), which is how MCP clients find Gatehouse.
     */
    resource: string
    /**
     * The `aud` the tokens must carry; defaults to `resource`. Without `resource`: Gatehouse's AUDIENCE for the
     * tokens meant for this service (one audience per deployment, as before resources existed).
     */
    audience?: string
  }
  | { audience: string, resource?: undefined }
)

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler for RFC 6750 bearer-protected routes: sets `request.user` to the token's claims or replies 401. */
    authenticate: (request: FastifyRequest, reply: import('fastify').FastifyReply) => Promise<void>
    /** preHandler that requires every listed scope (403 insufficient_scope); put it after `authenticate`. */
    requireScope: (...scopes: string[]) => preHandlerAsyncHookHandler
  }
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessTokenClaims
    user: AccessTokenClaims
  }
}

export type { AccessTokenClaims }

/** Gatehouse (its metadata or JWKS) could not be reached: 503, try again shortly. */
class KeysUnavailable extends Error {}

/**
 * What request.jwtVerify() throws when a token is refused: Fastify's error handler (the app's own, or the
 * default one) takes its `statusCode` and `headers` (the Bearer challenge); fastify.authenticate replies with
 * `{error, error_description}`.
 */
export class TokenCheckError extends Error {
  readonly statusCode: number
  readonly code: string
  readonly headers: Record<string, string>
  constructor (statusCode: number, code: string, description: string, headers: Record<string, string>) {
    super(description)
    this.statusCode = statusCode
    this.code = code
    this.headers = headers
  }

  body (): { error: string, error_description: string } {
    return { error: this.code, error_description: this.message }
  }
}

/** @fastify/jwt's namespace here: its own verifier is request.gatehouseJwtVerify(). */
const NAMESPACE = 'gatehouse'

const RETRY_AFTER_SECONDS = 10
/** jose's key-selection failures that are the token's fault (its kid or alg), not the JWKS's. */
const TOKEN_FAULTS = new Set<unknown>(['ERR_JWKS_NO_MATCHING_KEY', 'ERR_JOSE_NOT_SUPPORTED', 'ERR_JWKS_MULTIPLE_MATCHING_KEYS'])
/** Verified tokens fast-jwt remembers (per key) until their `exp`, so a repeat costs a lookup, not an ECDSA check. */
const VERIFIED_CACHE_SIZE = 10_000

/** RFC 8414 §3.1: the metadata of `https://host/path` is at `https://host/.well-known/oauth-authorization-server/path`. */
export function metadataUrl (issuer: string): URL {
  const url = new URL(issuer)
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')
  return new URL(`/.well-known/oauth-authorization-server${path}`, url)
}

async function discoverJwksUri (issuer: string, timeoutMs: number): Promise<URL> {
  const res = await fetch(metadataUrl(issuer), { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' })
  if (!res.ok) throw new Error(`metadata: HTTP ${res.status}`)
  const metadata = await res.json() as { issuer?: unknown, jwks_uri?: unknown }
  // RFC 8414 §3.3: the metadata must name the issuer it was fetched for.
  if (metadata.issuer !== issuer) throw new Error('metadata: issuer does not match')
  if (typeof metadata.jwks_uri !== 'string') throw new Error('metadata: no jwks_uri')
  return new URL(metadata.jwks_uri)
}

async function gatehouseAuth (fastify: FastifyInstance, options: ResourceServerOptions): Promise<void> {
  const { issuer, resource } = options
  const audience = options.audience ?? resource
  if (!issuer || !audience) throw new Error('gatehouse/resource-server: issuer and resource (or audience) are required')
  const realm = options.realm ?? audience
  const resourceUrl = resource === undefined ? undefined : checkResource(resource)
  const resourceMetadata = resourceUrl === undefined ? undefined : metadataLocation(resourceUrl)
  const dpopBase = dpopBaseUrl(options.publicUrl, resourceUrl)
  const dpop: DpopMode = options.dpop ?? (dpopBase === undefined ? 'off' : 'allowed')
  if (dpop !== 'off' && dpopBase === undefined) throw new Error('gatehouse/resource-server: dpop needs publicUrl (or resource): the URL DPoP proofs name')
  const replay: ProofReplay = options.dpopReplay ?? new MemoryProofReplay(systemClock)
  if (resource !== undefined && resourceMetadata) {
    const document = protectedResourceMetadata({ resource, issuer, dpop, ...(options.scopes ? { scopes: options.scopes } : {}), ...(options.resourceName ? { name: options.resourceName } : {}) })
    for (const url of resourceMetadata.paths) {
      // Public and the same for everyone: any origin may read it (browser-based MCP clients do), caches may keep it.
      fastify.get(url, async (_request, reply) => reply
        .header('cache-control', 'public, max-age=3600')
        .header('access-control-allow-origin', '*')
        .send(document))
    }
  }
  const cooldown = options.jwksCooldownMs ?? 10_000
  const timeoutMs = options.timeoutMs ?? 5_000

  // jwks_uri is discovered on first use (this service may start before Gatehouse); a failure is retried
  // at most once per cooldown, and meanwhile requests get 503.
  let keySet: ReturnType<typeof createRemoteJWKSet> | undefined
  let discovering: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined
  let retryAt = 0
  const keys = async () => {
    if (keySet) return keySet
    if (Date.now() < retryAt) throw new KeysUnavailable('the authorization server was not reachable; retrying shortly')
    discovering ??= discoverJwksUri(issuer, timeoutMs).then((jwksUri) => {
      keySet = createRemoteJWKSet(jwksUri, { cooldownDuration: cooldown, cacheMaxAge: options.jwksMaxAgeMs ?? 600_000, timeoutDuration: timeoutMs })
      return keySet
    }, (err: unknown) => {
      retryAt = Date.now() + cooldown
      fastify.log.warn({ err, issuer }, 'gatehouse/resource-server: discovering the JWKS failed')
      throw new KeysUnavailable('the authorization server is not reachable')
    }).finally(() => { discovering = undefined })
    return discovering
  }

  // fast-jwt takes PEM; jose hands out the same CryptoKey for a key until the JWKS changes.
  const pems = new WeakMap<object, string>()
  const pemOf = (key: Awaited<ReturnType<ReturnType<typeof createRemoteJWKSet>>>): string => {
    let pem = pems.get(key)
    if (pem === undefined) pems.set(key, pem = KeyObject.from(key).export({ format: 'pem', type: 'spki' }).toString())
    return pem
  }

  const publicKey = async (_request: FastifyRequest, token: unknown): Promise<string> => {
    const header = (token as { header?: JWSHeaderParameters }).header
    if (!header || typeof header.kid !== 'string') throw invalidToken('the token names no key')
    const jwks = await keys()
    try {
      return pemOf(await jwks(header))
    } catch (err) {
      // No key for this kid and alg (after at most one refetch per cooldown), or an alg no JWK serves: the token's fault.
      if (TOKEN_FAULTS.has((err as { code?: unknown }).code)) throw invalidToken()
      // Anything else is the JWKS's: unreachable, timed out, not 200, not a JWKS.
      fastify.log.warn({ err, issuer }, 'gatehouse/resource-server: fetching the JWKS failed')
      throw new KeysUnavailable('the authorization server is not reachable')
    }
  }

  /** Whether this request's token comes under the DPoP scheme (only where DPoP is taken; else it is no credential at all). */
  const schemeOf = (request: FastifyRequest): ResourceScheme => dpop !== 'off' && usesDpopScheme(request.headers.authorization) ? 'DPoP' : 'Bearer'

  /** The token, by its scheme: `DPoP` (RFC 9449 §7.1) where DPoP is taken, else Bearer (RFC 6750), which 'required' refuses. */
  const extractToken = (request: FastifyRequest): string => {
    const header = request.headers.authorization
    if (schemeOf(request) === 'DPoP') return dpopToken(header!, request.body)
    const token = bearerToken(header, request.body)
    if (dpop === 'required') throw new BearerError('invalid_token', 'this resource takes only DPoP-bound access tokens, as Authorization: DPoP with a DPoP proof', undefined, 'DPoP')
    return token
  }

  /**
   * After the signature and claims: the token's binding (RFC 9449 §7). Bearer: one claim read, synchronous (a bound
   * token is refused, §7.2). DPoP: the proof of this request, seen once, by the bound key (§7.1).
   */
  const trusted = (request: FastifyRequest, claims: unknown): boolean | Promise<boolean> => {
    if (schemeOf(request) === 'Bearer') {
      refuseBoundAsBearer(claims as AccessTokenClaims)
      return true
    }
    const token = dpopToken(request.headers.authorization!, request.body)
    const jkt = boundKeyOf(claims as AccessTokenClaims)
    const target = { method: request.method, url: proofTarget(dpopBase!, request.url), now: systemClock.now(), accessToken: token }
    return acceptProof(request.headers.dpop, target, replay).then((proof) => {
      checkProofKey(jkt, proof)
      return true
    }, (err: unknown) => { throw asResourceRefusal(err) })
  }

  // @fastify/jwt under a namespace, so that its verifier is request.gatehouseJwtVerify() and this plugin's own
  // request.jwtVerify() can wrap it: every failure then carries its RFC 6750 status and challenge (fast-jwt's
  // own errors, for a wrong typ or a token not yet valid, would otherwise reach the app as 500s).
  await fastify.register(fastifyJwt, {
    namespace: NAMESPACE,
    secret: { public: publicKey },
    decode: { complete: true },
    verify: {
      ...accessTokenRules(issuer, audience),
      clockTolerance: CLOCK_LEEWAY_SECONDS * 1000,
      cache: VERIFIED_CACHE_SIZE,
      extractToken
    },
    trusted
  })

  /**
   * A failed check as the error to throw: an RFC 6750 (or RFC 9449 §7.1) status, challenge and body, or the error itself
   * when it is not about the token. `scheme`: how the request sent its token, for fast-jwt's refusals.
   */
  const asReply = (err: unknown, scheme: ResourceScheme): unknown => {
    if (err instanceof KeysUnavailable) return new TokenCheckError(503, 'temporarily_unavailable', err.message, { 'retry-after': String(RETRY_AFTER_SECONDS) })
    const refusal = err instanceof BearerError ? err : fromJwtError(err as { code?: unknown }, scheme)
    if (!refusal) return err
    const challenge = resourceChallenge({ code: refusal.code, description: refusal.message, scope: refusal.scope, scheme: refusal.scheme }, { realm, dpop, resourceMetadata: resourceMetadata?.url })
    return new TokenCheckError(refusal.statusCode, refusal.error, refusal.message, { 'www-authenticate': challenge })
  }

  // request.jwtVerify([options][, callback]), as @fastify/jwt's, with those errors.
  fastify.decorateRequest('jwtVerify', function (this: FastifyRequest, ...args: unknown[]) {
    const callback = typeof args.at(-1) === 'function' ? args.pop() as (err: unknown, claims?: unknown) => void : undefined
    const verify = (this as unknown as Record<string, (...options: unknown[]) => Promise<unknown>>)[`${NAMESPACE}JwtVerify`]!
    const verified = verify.apply(this, args).catch((err: unknown) => { throw asReply(err, schemeOf(this)) })
    if (!callback) return verified
    verified.then((claims) => callback(null, claims), (err: unknown) => callback(err))
  } as never)

  /** Writes a TokenCheckError as the reply RFC 6750 asks for: its status, its headers, `{error, error_description}`. */
  const send = (reply: FastifyReply, err: TokenCheckError) => reply.code(err.statusCode).headers(err.headers).send(err.body())

  fastify.decorate('authenticate', async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      await request.jwtVerify()
    } catch (err) {
      if (!(err instanceof TokenCheckError)) throw err
      send(reply, err)
    }
  })

  fastify.decorate('requireScope', (...scopes: string[]): preHandlerAsyncHookHandler => async (request, reply) => {
    const scheme = schemeOf(request)
    const refusal = !request.user ? missingToken() : !hasScopes(request.user.scope, scopes) ? insufficientScope(scopes.join(' '), scheme) : undefined
    if (refusal) send(reply, asReply(refusal, scheme) as TokenCheckError)
  })
}

export default fp(gatehouseAuth, { fastify: '5.x', name: 'gatehouse-resource-server' })

import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import { OAuthError } from '../lib/errors.js'
import type { AppOptions } from '../lib/http/app-options.js'
import { clientForGrant, readClientCredentials, requireClient, type ClientAuthParams } from '../lib/oauth/client-auth.js'
import type { AssertionContext } from '../lib/oauth/client-assertion.js'
import { ClientKeys, JWKS_FETCH } from '../lib/oauth/client-keys.js'
import type { Client, GrantType } from '../lib/stores/types.js'
import { fetchDocument } from '../lib/upstream/document-fetch.js'
import { isLoopbackHost } from '../lib/upstream/public-address.js'

/** Which endpoint a client authenticates at, and what it needs there. */
export interface ClientAuthOptions {
  /** The path called (`/token`, `/introspect`, `/revoke`, `/par`…): its URL is an audience a client assertion may name. */
  endpoint: string
  /** At /token and /device_authorization: the grant the client must hold (no credentials: the built-in client when it allows). */
  grant?: { grantType: GrantType, allowsAnonymous: boolean }
  /** false: stored clients only (no Client ID Metadata Document is fetched for a URL client_id). Default true. */
  documents?: boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The one way an endpoint authenticates its client (RFC 6749 §2.3): client_secret_basic, client_secret_post,
     * private_key_jwt (RFC 7523: lib/oauth/client-assertion.ts) or none, from the request's Authorization header and
     * form body. With `grant`, the client must hold it (lib/oauth/client-auth.ts clientForGrant); without, credentials
     * are required (requireClient). Every invalid_client is the security event `client_auth_failed`.
     */
    authenticateClient (request: FastifyRequest, options: ClientAuthOptions): Promise<Client>
    /** Clients' public keys (inline, or fetched from their jwks_uri and cached): lib/oauth/client-keys.ts. */
    clientKeys: ClientKeys
  }
}

export default fp<AppOptions>(async (fastify, opts) => {
  const { config, clock, storage, events } = fastify
  const issuer = config.issuer.replace(/\/$/, '')
  const allowLoopback = isLoopbackHost(new URL(config.issuer).hostname)
  const clientKeys = new ClientKeys({
    clock,
    fetch: (url) => fetchDocument(url, { timeoutMs: config.upstreamTimeoutMs, allowLoopback, extraCa: opts.documentFetchCa, ...JWKS_FETCH }),
    onFetchFailed: (clientId, reason) => fastify.log.warn({ clientId, reason }, 'a client\'s jwks_uri could not be used')
  })
  fastify.decorate('clientKeys', clientKeys)

  fastify.decorate('authenticateClient', async (request: FastifyRequest, options: ClientAuthOptions): Promise<Client> => {
    const body = (request.body ?? {}) as ClientAuthParams
    const authorization = request.headers.authorization
    const clients = options.documents === false ? storage.clients : fastify.clientLookup(request.addressKey)
    // RFC 7523 §3 item 3: the issuer, the token endpoint, or the endpoint called (each exactly).
    const assertions: AssertionContext = {
      keys: clientKeys,
      jtis: storage.clientAssertions,
      audiences: [...new Set([config.issuer, issuer, `${issuer}/token`, `${issuer}${options.endpoint}`])],
      now: clock.now()
    }
    try {
      return options.grant === undefined
        ? await requireClient(authorization, body, clients, assertions)
        : await clientForGrant(authorization, body, options.grant, clients, assertions)
    } catch (err) {
      if (err instanceof OAuthError && err.error === 'invalid_client') {
        const claimed = claimedClient(authorization, body)
        events.emit({ type: 'client_auth_failed', clientId: claimed.clientId, method: claimed.method, endpoint: options.endpoint, reason: err.message.slice(0, 200), ip: request.ip }, request.log)
      }
      throw err
    }
  })
}, { name: 'client-authentication', dependencies: ['config', 'clock', 'storage', 'events', 'client-metadata-documents'] })

/** Who a failed request said it was, for the event (never a secret); '' when it said nothing readable. */
function claimedClient (authorization: string | undefined, body: ClientAuthParams): { clientId: string, method: string } {
  try {
    const credentials = readClientCredentials(authorization, body)
    return { clientId: (credentials?.clientId ?? '').slice(0, 128), method: credentials?.method ?? 'none' }
  } catch {
    return { clientId: (body.client_id ?? '').slice(0, 128), method: body.client_assertion !== undefined ? 'private_key_jwt' : 'unreadable' }
  }
}

import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import type { Storage } from '../stores/types.js'
import { GRANT_TYPES } from './grants/index.js'
import { parseScope } from './scopes.js'
import { DISPLAY_VALUES, OIDC_SCOPES } from './authorize.js'
import { RESPONSE_MODES } from '../../schemas/vocabulary.js'
import { CLAIMS_SUPPORTED } from './claims.js'
import { SIGNING_ALGS } from '../keys/algorithm.js'
import { ACR_VALUES_SUPPORTED } from '../mfa/assurance.js'
import { DPOP_SIGNING_ALGS } from './dpop-proof.js'
import { CLIENT_SIGNING_ALGS } from './client-key-rules.js'

/**
 * How clients may authenticate at the token and revocation endpoints (RFC 6749 §2.3, RFC 7523 §2.2). Not
 * client_secret_jwt: secrets are stored as digests, so an HMAC keyed with one cannot be checked.
 */
export const TOKEN_ENDPOINT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const

/**
 * RFC 8414 authorization server metadata (also served as OpenID Connect discovery). Every URL comes from
 * ISSUER alone, never from a request's Host or X-Forwarded-* headers; the lists name what exists, nothing more.
 */
export function serverMetadata (config: Pick<Config, 'issuer'> & Partial<Pick<Config, 'registration' | 'clientIdMetadataDocuments' | 'requirePar'>>) {
  const base = config.issuer.replace(/\/$/, '')
  return {
    issuer: config.issuer,
    authorization_endpoint: `${base}/authorize`,
    token_endpoint: `${base}/token`,
    // RFC 8628 §4: where a device starts; grant_types_supported names its grant.
    device_authorization_endpoint: `${base}/device_authorization`,
    // RFC 9126 §5: where requests are pushed, and whether every client must (REQUIRE_PAR; a client's own flag is in its registration).
    pushed_authorization_request_endpoint: `${base}/par`,
    require_pushed_authorization_requests: config.requirePar === 'on',
    userinfo_endpoint: `${base}/userinfo`,
    end_session_endpoint: `${base}/logout`,
    // OIDC Back-Channel Logout 1.0 §2.1: logout tokens to a client's backchannel_logout_uri, with `sid` (in ID tokens
    // too); front-channel logout (iframes) is not offered.
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    frontchannel_logout_supported: false,
    jwks_uri: `${base}/.well-known/jwks.json`,
    grant_types_supported: [...GRANT_TYPES],
    response_types_supported: ['code'],
    response_modes_supported: [...RESPONSE_MODES],
    code_challenge_methods_supported: ['S256'],
    // RFC 9449 §5.1: the algorithms a DPoP proof may be signed with (lib/oauth/dpop-proof.ts).
    dpop_signing_alg_values_supported: [...DPOP_SIGNING_ALGS],
    // RFC 9207: every redirect back carries `iss`.
    authorization_response_iss_parameter_supported: true,
    subject_types_supported: ['public'],
    // OIDC Core §15.1: RS256 (the default) must be among them; a client's id_token_alg / userinfo_alg picks one.
    id_token_signing_alg_values_supported: [...SIGNING_ALGS],
    userinfo_signing_alg_values_supported: [...SIGNING_ALGS],
    claims_supported: [...CLAIMS_SUPPORTED],
    // OIDC Core §2: the classes an ID token's acr may name, and acr_values may ask for (a second factor: the mfa one).
    acr_values_supported: [...ACR_VALUES_SUPPORTED],
    // OIDC Core §5.5: the claims request parameter, for userinfo and id_token (lib/oauth/claims.ts).
    claims_parameter_supported: true,
    prompt_values_supported: ['none', 'login', 'consent'],
    // OIDC Core §6, RFC 9101: signed request objects by value from clients with keys; by reference (request_uri) refused.
    request_parameter_supported: true,
    request_uri_parameter_supported: false,
    request_object_signing_alg_values_supported: [...CLIENT_SIGNING_ALGS],
    display_values_supported: [...DISPLAY_VALUES],
    token_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
    // RFC 8414 §2: the algorithms a private_key_jwt assertion may be signed with (asymmetric only).
    token_endpoint_auth_signing_alg_values_supported: [...CLIENT_SIGNING_ALGS],
    revocation_endpoint: `${base}/revoke`,
    revocation_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
    revocation_endpoint_auth_signing_alg_values_supported: [...CLIENT_SIGNING_ALGS],
    introspection_endpoint: `${base}/introspect`,
    // Introspection is for resource servers, which are confidential clients.
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    introspection_endpoint_auth_signing_alg_values_supported: [...CLIENT_SIGNING_ALGS],
    // RFC 8414 §2: RFC 7591 registration, only where it is on (REGISTRATION).
    ...(config.registration === undefined || config.registration === 'off' ? {} : { registration_endpoint: `${base}/register` }),
    // draft-ietf-oauth-client-id-metadata-document §5: an https client_id URL is a Client ID Metadata Document, when on.
    ...(config.clientIdMetadataDocuments === 'on' ? { client_id_metadata_document_supported: true } : {}),
    service_documentation: `${base}/docs`
  }
}

/** The scopes every deployment has: the admin API's, and OpenID Connect's. */
const BUILT_IN_SCOPES = ['admin', ...OIDC_SCOPES].sort()
/** How long the scope list is kept before it is read again. */
const SCOPES_TTL_SECONDS = 60

/**
 * `scopes_supported`: every scope some user or client holds, plus the built-in ones. Read at most once a
 * minute; while the database is unreachable the last list is served (metadata keeps answering).
 */
export function scopeCatalog (deps: { storage: Storage, clock: Clock, warn: (err: unknown) => void }): () => Promise<string[]> {
  let scopes = { readAt: -Infinity, list: BUILT_IN_SCOPES }
  return async () => {
    const now = deps.clock.now()
    if (now - scopes.readAt < SCOPES_TTL_SECONDS) return scopes.list
    try {
      const lists = [...await deps.storage.users.scopeLists(), ...await deps.storage.clients.scopeLists()]
      scopes = { readAt: now, list: [...new Set([...BUILT_IN_SCOPES, ...lists.flatMap(parseScope)])].sort() }
    } catch (err) {
      deps.warn(err)
    }
    return scopes.list
  }
}

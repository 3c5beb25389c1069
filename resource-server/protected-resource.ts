import type { DpopMode } from '../lib/errors.js'
import { DPOP_SIGNING_ALGS } from '../lib/oauth/dpop-proof.js'
import { allowsPlainHttp } from '../lib/oauth/loopback-hosts.js'

/**
 * RFC 9728 (OAuth 2.0 Protected Resource Metadata): what a resource server publishes about itself so that a
 * client that has only its URL (an MCP client meeting a new MCP server) can find the authorization server to
 * ask, the scopes to ask for, and how to send the token.
 */

export interface ProtectedResourceMetadata {
  resource: string
  authorization_servers: string[]
  scopes_supported?: string[]
  bearer_methods_supported: string[]
  resource_name?: string
  /** RFC 9728 §2: the algorithms this resource takes DPoP proofs in (when it takes DPoP). */
  dpop_signing_alg_values_supported?: string[]
  /** RFC 9728 §2: every token must be DPoP-bound (`dpop: 'required'`). */
  dpop_bound_access_tokens_required?: boolean
}

/**
 * A resource identifier as RFC 8707 §2 and RFC 9728 §2 want it: an absolute https URL (http on a loopback
 * host, for development), no fragment, no query (the metadata URL is derived from it). Throws with a message
 * for the service's developer otherwise.
 */
export function checkResource (resource: string): URL {
  let url: URL
  try {
    url = new URL(resource)
  } catch {
    throw new Error(`gatehouse/resource-server: resource ${JSON.stringify(resource)} is not an absolute URL`)
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowsPlainHttp(url.hostname))) {
    throw new Error('gatehouse/resource-server: resource must be an https URL (http only on a loopback host)')
  }
  if (url.hash || resource.includes('#')) throw new Error('gatehouse/resource-server: resource must not have a fragment')
  if (url.search) throw new Error('gatehouse/resource-server: resource must not have a query')
  return url
}

const WELL_KNOWN = '/.well-known/oauth-protected-resource'

/**
 * RFC 9728 §3.1: the metadata of `https://host/path` is at `https://host/.well-known/oauth-protected-resource/path`
 * (the well-known segment inserted between host and path); of `https://host` at `https://host/.well-known/…`.
 * Returns that URL and the paths this service answers on: the path-suffixed one, and the bare well-known path
 * too (clients that try it first, and the MCP specification's fallback).
 */
export function metadataLocation (resource: URL): { url: string, paths: string[] } {
  const path = resource.pathname === '/' ? '' : resource.pathname.replace(/\/$/, '')
  const url = new URL(`${WELL_KNOWN}${path}`, resource.origin).href
  return { url, paths: path ? [`${WELL_KNOWN}${path}`, WELL_KNOWN] : [WELL_KNOWN] }
}

export function protectedResourceMetadata (options: { resource: string, issuer: string, scopes?: readonly string[], name?: string, dpop?: DpopMode }): ProtectedResourceMetadata {
  return {
    resource: options.resource,
    authorization_servers: [options.issuer],
    ...(options.scopes?.length ? { scopes_supported: [...options.scopes] } : {}),
    // RFC 6750 §2.1 and §2.2: the plugin reads the Authorization header and a form body's access_token.
    bearer_methods_supported: ['header', 'body'],
    ...(options.name ? { resource_name: options.name } : {}),
    ...(options.dpop === 'allowed' || options.dpop === 'required' ? { dpop_signing_alg_values_supported: [...DPOP_SIGNING_ALGS] } : {}),
    ...(options.dpop === 'required' ? { dpop_bound_access_tokens_required: true } : {})
  }
}

/**
 * The URL this service is reached at, as its operator names it (`publicUrl`, else the origin of `resource`): what a
 * DPoP proof's `htu` is compared with, the request's path appended (RFC 9449 §4.3 point 9). Never the Host header, which
 * any client can set. Undefined when neither is given; throws for a URL that cannot be one.
 */
export function dpopBaseUrl (publicUrl: string | undefined, resource: URL | undefined): string | undefined {
  if (publicUrl === undefined) return resource?.origin
  let url: URL
  try {
    url = new URL(publicUrl)
  } catch {
    throw new Error(`gatehouse/resource-server: publicUrl ${JSON.stringify(publicUrl)} is not an absolute URL`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('gatehouse/resource-server: publicUrl must be an http(s) URL')
  if (url.search || url.hash || publicUrl.includes('#')) throw new Error('gatehouse/resource-server: publicUrl must have no query or fragment')
  return `${url.origin}${url.pathname.replace(/\/$/, '')}`
}

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

export function protectedResourceMetadata (options: { resource: string, issuer: string, scopes?: readonly string[], name?: string }): ProtectedResourceMetadata {
  return {
    resource: options.resource,
    authorization_servers: [options.issuer],
    ...(options.scopes?.length ? { scopes_supported: [...options.scopes] } : {}),
    // RFC 6750 §2.1 and §2.2: the plugin reads the Authorization header and a form body's access_token.
    bearer_methods_supported: ['header', 'body'],
    ...(options.name ? { resource_name: options.name } : {})
  }
}

import { allowsPlainHttp } from './loopback-hosts.js'
import { invalidTarget } from '../errors.js'
import type { Client, Resource, ResourceStore } from '../stores/types.js'
import { isOidcScope, isValidScopeList, parseScope } from './scopes.js'

/**
 * RFC 8707 resource indicators: which API (an MCP server, any resource server) a token is for. The one home of
 * the rules: what a resource URI may be, which resources a request names, which one a token is for, and which
 * scopes such a token carries. A token for a resource has `aud` = its URI and only the scopes it defines; a token
 * for no resource is Gatehouse's own, as before (`aud` = AUDIENCE).
 */

/** Longer URIs are refused: every token for the resource carries it, and a code and a grant keep several. */
export const RESOURCE_URI_MAX_LENGTH = 512
/** How many resources one authorization request may name. */
export const RESOURCES_PER_REQUEST_MAX = 10

/** Printable ASCII without space, quotes, backslash or angle brackets: what an absolute URI holds (RFC 3986 §2). */
const URI_CHARACTERS = /^[\x21\x23-\x3B\x3D\x3F-\x5B\x5D-\x7E]+$/

/**
 * Why `uri` cannot be a resource, or undefined when it can (RFC 8707 §2: an absolute URI, no fragment): `https`, or
 * `http` on a loopback host only. It is kept as written and compared byte for byte (no normalisation: the client
 * sends exactly what it was told, and the resource server checks `aud` the same way).
 */
export function resourceUriProblem (uri: string): string | undefined {
  if (uri.length === 0 || uri.length > RESOURCE_URI_MAX_LENGTH) return `a resource is a URI of 1 to ${RESOURCE_URI_MAX_LENGTH} characters`
  if (!URI_CHARACTERS.test(uri)) return 'a resource URI may hold printable ASCII characters only (no spaces)'
  if (uri.includes('#')) return 'a resource URI must not contain a fragment (RFC 8707 §2)'
  let url: URL
  try { url = new URL(uri) } catch { return 'a resource must be an absolute URI (RFC 8707 §2)' }
  if (url.protocol === 'https:') return url.hostname === '' ? 'a resource URI needs a host' : undefined
  if (url.protocol === 'http:' && allowsPlainHttp(url.hostname)) return undefined
  return 'a resource URI must be https (http only on a loopback host: localhost, 127.0.0.1, [::1])'
}

/** Why `scope` cannot be a resource's scope list, or undefined: scope tokens (RFC 6749 §3.3), none of OpenID Connect's. */
export function resourceScopeProblem (scope: string): string | undefined {
  if (!isValidScopeList(scope)) return 'the scope list is malformed (RFC 6749 §3.3 scope tokens, space-separated)'
  const oidc = parseScope(scope).filter(isOidcScope)
  if (oidc.length > 0) return `OpenID Connect scopes name claims about the user and belong to no resource: ${oidc.join(' ')}`
  return undefined
}

/** The `resource` parameter's values: absent, once (a string) or repeated (an array, RFC 8707 §2.1 at /authorize). */
export function resourceValues (value: unknown): string[] {
  if (value === undefined) return []
  const values = Array.isArray(value) ? value : [value]
  return [...new Set(values.filter((v): v is string => typeof v === 'string'))]
}

/**
 * The registered resources `values` name, in order; a malformed or unregistered one is invalid_target (RFC 8707 §2),
 * thrown as `fail` makes it (an OAuthError at /token, an error sent back to the client at /authorize).
 */
export async function resolveResources (values: readonly string[], store: Pick<ResourceStore, 'find'>, fail: (description: string) => Error = invalidTarget): Promise<Resource[]> {
  if (values.length > RESOURCES_PER_REQUEST_MAX) throw fail(`at most ${RESOURCES_PER_REQUEST_MAX} resources per request`)
  const found: Resource[] = []
  for (const uri of values) {
    const problem = resourceUriProblem(uri)
    if (problem !== undefined) throw fail(problem)
    const resource = await store.find(uri)
    if (!resource) throw fail(`unknown resource: ${uri.slice(0, 200)}`)
    found.push(resource)
  }
  return found
}

/** The registered resource a token request's `resource` names (RFC 8707 §2.2); undefined when it names none. */
export async function requestedResource (value: string | undefined, store: Pick<ResourceStore, 'find'>): Promise<Resource | undefined> {
  if (value === undefined) return undefined
  const [resource] = await resolveResources([value], store)
  return resource
}

/**
 * Which of the resources granted at authorization a token request is for (RFC 8707 §2.2): the one it names, which
 * must be among them (another is invalid_target, however registered: a refresh token never reaches a resource the
 * user did not allow); none named and exactly one granted: that one; none named otherwise: undefined, a token for
 * Gatehouse itself (node-oidc-provider's choice as well).
 */
export function pickResource (requested: string | undefined, granted: readonly string[]): string | undefined {
  if (requested === undefined) return granted.length === 1 ? granted[0] : undefined
  if (!granted.includes(requested)) throw invalidTarget('the resource was not granted at authorization')
  return requested
}

/**
 * The scopes a token for `resource` carries, of those granted (or asked for): only the ones the resource defines
 * now (so never an OpenID Connect one), and, for a client with a scope list, only the ones it may ask for.
 */
export function scopesForResource (granted: readonly string[], resource: Pick<Resource, 'scope'>, client: Pick<Client, 'scope'>): string[] {
  const defined = parseScope(resource.scope)
  const allowed = client.scope === null ? undefined : parseScope(client.scope)
  return granted.filter((s) => defined.includes(s) && (allowed === undefined || allowed.includes(s)))
}

/**
 * The resources among `uris` that are still registered, in order: what a code, a device request or a family was
 * granted, less any removed since (its scopes and its tokens go with it).
 */
export async function stillRegistered (uris: readonly string[], store: Pick<ResourceStore, 'find'>): Promise<Resource[]> {
  const found = await Promise.all(uris.map((uri) => store.find(uri)))
  return found.filter((r): r is Resource => r !== undefined)
}

/** The scopes some requested resource defines: the authorization request may ask for these whatever the user holds (the user consents to them). */
export function resourceDefinedScopes (resources: ReadonlyArray<Pick<Resource, 'scope'>>): Set<string> {
  return new Set(resources.flatMap((r) => parseScope(r.scope)))
}

/**
 * Every scope some registered resource defines, for the rules that must know them before any request names a
 * resource: a dynamically registered client may register them (an MCP client registers the scopes its server's
 * protected resource metadata publishes, RFC 7591 §2 `scope`). Reads at most `limit` resources (deployments have
 * a handful; the admin API pages them).
 */
export async function registeredResourceScopes (store: Pick<ResourceStore, 'list'>, limit = 1000): Promise<string[]> {
  return [...resourceDefinedScopes(await store.list({ limit, offset: 0 }))]
}

/**
 * The scopes a self-made client may hold (RFC 7591 registrations and Client ID Metadata Documents): `catalog`'s
 * (users', administrators' clients', OpenID Connect's) and those the registered resources define.
 */
export function clientObtainableScopes (catalog: () => Promise<string[]>, store: Pick<ResourceStore, 'list'>): () => Promise<string[]> {
  return async () => [...await catalog(), ...await registeredResourceScopes(store)]
}

/**
 * What a redemption of an approval (an authorization code, an approved device request) gives: the family's scopes
 * (the approved ones the user still holds, the OpenID Connect ones, and those a still-registered granted resource
 * defines, which the user allowed for that API on the consent page) and the access token's (Gatehouse's own: what
 * the user holds; or `resource`'s part of them).
 */
export function scopesAtRedemption (approved: string, user: { scope: string }, client: Pick<Client, 'scope'>, granted: ReadonlyArray<Pick<Resource, 'scope'>>, resource: Pick<Resource, 'scope'> | undefined): { family: string[], token: string[] } {
  const userScopes = parseScope(user.scope)
  const defined = resourceDefinedScopes(granted)
  const family = parseScope(approved).filter((s) => isOidcScope(s) || userScopes.includes(s) || defined.has(s))
  const token = resource === undefined ? family.filter((s) => isOidcScope(s) || userScopes.includes(s)) : scopesForResource(family, resource, client)
  return { family, token }
}

/**
 * What a consent covers for a request naming resources: its scopes and claims (lib/oauth/claims.ts consentScopes,
 * given here as `scopes`) and the resources' URIs, so a consent given for one API is not taken for another
 * (a URI is a valid scope token, and never an OpenID Connect or a bare scope name).
 */
export function withResourceUris (scopes: readonly string[], resources: ReadonlyArray<Pick<Resource, 'uri'>> | undefined): string[] {
  return [...new Set([...scopes, ...(resources ?? []).map((r) => r.uri)])]
}

/**
 * The consent page's split: each resource (its name, URI, and the asked-for scopes it defines), then the scopes no
 * requested resource defines (Gatehouse's own and the OpenID Connect ones).
 */
export function consentSections (scopes: readonly string[], resources: ReadonlyArray<Resource> | undefined): { apis: Array<{ name: string, uri: string, scopes: string[] }>, own: string[] } {
  const list = resources ?? []
  const apis = list.map((r) => ({ name: r.name ?? r.uri, uri: r.uri, scopes: scopes.filter((s) => parseScope(r.scope).includes(s)) }))
  const defined = resourceDefinedScopes(list)
  return { apis, own: scopes.filter((s) => !defined.has(s)) }
}

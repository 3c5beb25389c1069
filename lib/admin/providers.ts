import type { Config } from '../config.js'
import { conflict, invalidInput, notFound } from '../errors.js'
import { formatScope, isValidScopeList, parseScope } from '../oauth/scopes.js'
import type { Identity, ProviderClaims, Storage, UpstreamProvider } from '../stores/types.js'
import { findUser } from './users.js'

/**
 * Upstream provider administration (issue 14), shared by the CLI, the admin API and `app.providers`, so all
 * three apply the same rules. The client secret goes in and never comes out: every view leaves it out.
 */

import { PROVIDER_NAME, PROVIDER_NAME_PATTERN } from '../../schemas/common.js'
const DEFAULT_OIDC_SCOPE = 'openid email profile'

export interface ProviderClaimsInput {
  subject?: string
  email?: string
  emailVerified?: string
  name?: string
  username?: string
}

export interface ProviderInput {
  name: string
  issuer: string
  clientId: string
  clientSecret: string
  scope?: string
  displayName?: string
  linkByEmail?: boolean
  linkLinkedAccounts?: boolean
  createUsers?: boolean
  authorizationEndpoint?: string
  tokenEndpoint?: string
  userinfoEndpoint?: string
  claims?: ProviderClaimsInput
  /**
   * Read the provider's discovery document now, before anything is stored (deps.discover): a failure is a 400 and
   * nothing is stored. Default false: the document is first read at the first sign-in.
   */
  checkDiscovery?: boolean
}

export type ProviderPatchInput = Partial<Omit<ProviderInput, 'name'>>

/** What a discovery check is given: the provider's issuer and endpoints (those of a plain OAuth 2.0 provider, or none). */
export type ProviderEndpoints = Pick<UpstreamProvider, 'issuer' | 'clientId' | 'authorizationEndpoint' | 'tokenEndpoint' | 'userinfoEndpoint'>

/** What a discovery check found (lib/upstream/client.ts UpstreamClients.check). */
export interface ProviderDiscovery {
  /** false: a plain OAuth 2.0 provider, which has no discovery document (nothing was fetched; its own endpoints). */
  discovered: boolean
  issuer: string
  authorization_endpoint: string | null
  token_endpoint: string | null
  userinfo_endpoint: string | null
  jwks_uri: string | null
}

export interface ProviderAdminDeps {
  storage: Storage
  config: Pick<Config, 'issuer'>
  /** Reads a provider's discovery document now (UpstreamClients.check); needed only by a `checkDiscovery` input. */
  discover?: (provider: ProviderEndpoints) => Promise<ProviderDiscovery>
}

/** Printable text without control characters, 1 to `max` characters. */
function text (value: unknown, what: string, max: number): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (typeof value !== 'string' || value.length === 0 || value.length > max || /[\u0000-\u001f\u007f]/.test(value)) {
    throw invalidInput(`${what}: 1 to ${max} characters, no control characters`)
  }
  return value
}

/**
 * An issuer or endpoint URL: absolute, no fragment, https, or http only for a loopback host (127.0.0.0/8,
 * ::1, localhost), as openid-client is told (allowInsecureRequests for loopback only).
 */
export function checkProviderUrl (value: unknown, what: string): string {
  const uri = text(value, what, 2048)
  if (/\s/.test(uri)) throw invalidInput(`${what}: no whitespace`)
  let url: URL
  try { url = new URL(uri) } catch { throw invalidInput(`${what}: not an absolute URL: ${uri.slice(0, 200)}`) }
  if (url.hash || uri.includes('#')) throw invalidInput(`${what}: must not have a fragment`)
  if (url.username || url.password) throw invalidInput(`${what}: must not carry credentials`)
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) throw invalidInput(`${what}: plain http is only allowed for loopback hosts (127.0.0.1, ::1, localhost): ${uri.slice(0, 200)}`)
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalidInput(`${what}: must be an https URL`)
  return uri
}

export function isLoopbackHost (hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
}

/** The provider as it will be stored, from the input (a new provider) or the stored one with a patch applied. */
function resolve (name: string, input: ProviderPatchInput, current?: UpstreamProvider): Omit<UpstreamProvider, 'createdAt' | 'updatedAt'> {
  if (!PROVIDER_NAME.test(name)) throw invalidInput(`provider name: must match ${PROVIDER_NAME_PATTERN}`)
  const issuer = checkProviderUrl(input.issuer ?? current?.issuer, 'issuer')
  const clientId = text(input.clientId ?? current?.clientId, 'client_id', 256)
  const clientSecret = text(input.clientSecret ?? current?.clientSecret, 'client_secret', 2048)
  const endpoint = (given: string | undefined, stored: string | null | undefined, what: string) => {
    const value = given === undefined ? stored ?? null : given === '' ? null : given
    return value === null ? null : checkProviderUrl(value, what)
  }
  const authorizationEndpoint = endpoint(input.authorizationEndpoint, current?.authorizationEndpoint, 'authorization_endpoint')
  const tokenEndpoint = endpoint(input.tokenEndpoint, current?.tokenEndpoint, 'token_endpoint')
  const userinfoEndpoint = endpoint(input.userinfoEndpoint, current?.userinfoEndpoint, 'userinfo_endpoint')
  // Plain OAuth 2.0 (no discovery, no ID token): the endpoints are given, userinfo included (the only source of who signed in).
  const plain = authorizationEndpoint !== null || tokenEndpoint !== null
  if (plain && (authorizationEndpoint === null || tokenEndpoint === null || userinfoEndpoint === null)) {
    throw invalidInput('a plain OAuth 2.0 provider needs authorization_endpoint, token_endpoint and userinfo_endpoint')
  }
  const scopeText = input.scope ?? current?.scope ?? (plain ? '' : DEFAULT_OIDC_SCOPE)
  if (typeof scopeText !== 'string' || scopeText.length > 1024 || (scopeText !== '' && !isValidScopeList(scopeText))) throw invalidInput('scope: a space-separated list of scope tokens')
  const scope = formatScope(parseScope(scopeText))
  if (!plain && !parseScope(scope).includes('openid')) throw invalidInput('scope: an OpenID provider needs the openid scope (or give the endpoints of a plain OAuth 2.0 provider)')
  const displayName = text(input.displayName ?? current?.displayName ?? name, 'display_name', 100)
  const claim = (given: string | undefined, stored: string | null | undefined, fallback: string | null, what: string): string | null => {
    const value = given === undefined ? (stored === undefined ? fallback : stored) : given === '' ? null : given
    return value === null ? null : text(value, `claims.${what}`, 100)
  }
  const c = input.claims ?? {}
  const claims: ProviderClaims = {
    subject: claim(c.subject, current?.claims.subject, 'sub', 'subject') ?? 'sub',
    email: claim(c.email, current?.claims.email, 'email', 'email'),
    // OpenID Connect says email_verified; a plain OAuth provider's e-mail is never verified unless a claim says so.
    emailVerified: claim(c.emailVerified, current?.claims.emailVerified, plain ? null : 'email_verified', 'email_verified'),
    name: claim(c.name, current?.claims.name, 'name', 'name'),
    username: claim(c.username, current?.claims.username, 'preferred_username', 'username')
  }
  for (const flag of ['linkByEmail', 'linkLinkedAccounts', 'createUsers'] as const) {
    if (input[flag] !== undefined && typeof input[flag] !== 'boolean') throw invalidInput(`${flag}: true or false`)
  }
  return {
    name,
    issuer,
    clientId,
    clientSecret,
    scope,
    displayName,
    linkByEmail: input.linkByEmail ?? current?.linkByEmail ?? false,
    linkLinkedAccounts: input.linkLinkedAccounts ?? current?.linkLinkedAccounts ?? false,
    createUsers: input.createUsers ?? current?.createUsers ?? true,
    authorizationEndpoint,
    tokenEndpoint,
    userinfoEndpoint,
    claims
  }
}

/** Where the provider sends the browser back: what to register at the provider. */
export const providerRedirectUri = (issuer: string, name: string): string => `${issuer.replace(/\/+$/, '')}/login/${name}/callback`

/** The provider as the API and CLI show it: never the secret. */
export function toProviderView (provider: UpstreamProvider, issuer: string) {
  return {
    name: provider.name,
    issuer: provider.issuer,
    client_id: provider.clientId,
    scope: provider.scope,
    display_name: provider.displayName,
    link_by_email: provider.linkByEmail,
    link_linked_accounts: provider.linkLinkedAccounts,
    create_users: provider.createUsers,
    authorization_endpoint: provider.authorizationEndpoint,
    token_endpoint: provider.tokenEndpoint,
    userinfo_endpoint: provider.userinfoEndpoint,
    claims: {
      subject: provider.claims.subject,
      email: provider.claims.email,
      email_verified: provider.claims.emailVerified,
      name: provider.claims.name,
      username: provider.claims.username
    },
    redirect_uri: providerRedirectUri(issuer, provider.name),
    created_at: provider.createdAt,
    updated_at: provider.updatedAt
  }
}

export type ProviderView = ReturnType<typeof toProviderView>
/** The answer to a create or update: with `discovery` when a discovery check ran. */
export type CheckedProviderView = ProviderView & { discovery?: ProviderDiscovery }

/** Where openid-client reads an issuer's discovery document (OpenID Discovery §4: the path appended). */
export function discoveryDocumentUrl (issuer: string): string {
  if (issuer.includes('/.well-known/')) return issuer
  const url = new URL(issuer)
  url.pathname = `${url.pathname}/.well-known/openid-configuration`.replace('//', '/')
  return url.href
}

/**
 * The discovery check (checkDiscovery): after the input's own rules, before anything is stored. Its failure is a 400
 * saying why and what was fetched. A plain OAuth 2.0 provider has nothing to discover (deps.discover says so).
 */
async function checkDiscovery (deps: ProviderAdminDeps, provider: ProviderEndpoints): Promise<ProviderDiscovery> {
  if (!deps.discover) throw new Error('checkDiscovery without deps.discover')
  try {
    return await deps.discover(provider)
  } catch (err) {
    throw invalidInput(`discovery failed: ${(err as Error).message} (GET ${discoveryDocumentUrl(provider.issuer)})`)
  }
}

export async function createProvider (deps: ProviderAdminDeps, input: ProviderInput): Promise<CheckedProviderView> {
  const provider = resolve(typeof input.name === 'string' ? input.name : '', input)
  if (input.checkDiscovery !== undefined && typeof input.checkDiscovery !== 'boolean') throw invalidInput('checkDiscovery: true or false')
  // Not when the name is taken: the store says so first (no call to a provider for a refused name).
  if (input.checkDiscovery && await deps.storage.providers.find(provider.name)) throw conflict(`provider ${provider.name} already exists`)
  const discovery = input.checkDiscovery ? await checkDiscovery(deps, provider) : undefined
  try {
    const view: CheckedProviderView = toProviderView(await deps.storage.providers.create(provider), deps.config.issuer)
    return discovery ? { ...view, discovery } : view
  } catch (err) {
    if ((err as Error).name === 'ConflictError') throw conflict(`provider ${provider.name} already exists`)
    throw err
  }
}

/** A provider by name, or 404. */
export async function findProvider (storage: Storage, name: string): Promise<UpstreamProvider> {
  const provider = PROVIDER_NAME.test(name) ? await storage.providers.find(name) : undefined
  if (!provider) throw notFound(`no provider ${name.slice(0, 64)}`)
  return provider
}

export async function listProviders (deps: ProviderAdminDeps): Promise<ProviderView[]> {
  return (await deps.storage.providers.list()).map((p) => toProviderView(p, deps.config.issuer))
}

export async function getProvider (deps: ProviderAdminDeps, name: string): Promise<ProviderView> {
  return toProviderView(await findProvider(deps.storage, name), deps.config.issuer)
}

/** Changes a provider under the same rules as registration (a new client_secret replaces the old one). */
/**
 * Changes a provider under the same rules as registration (a new client_secret replaces the old one). With
 * checkDiscovery, the discovery check runs when the issuer or an endpoint changes (before anything is stored);
 * otherwise there is nothing new to check and the answer has no `discovery`.
 */
export async function updateProvider (deps: ProviderAdminDeps, name: string, patch: ProviderPatchInput): Promise<CheckedProviderView> {
  const current = await findProvider(deps.storage, name)
  const next = resolve(current.name, patch, current)
  if (patch.checkDiscovery !== undefined && typeof patch.checkDiscovery !== 'boolean') throw invalidInput('checkDiscovery: true or false')
  const moved = (['issuer', 'authorizationEndpoint', 'tokenEndpoint', 'userinfoEndpoint'] as const).some((k) => next[k] !== current[k])
  const discovery = patch.checkDiscovery && moved ? await checkDiscovery(deps, next) : undefined
  const { name: _name, ...changes } = next
  const updated = await deps.storage.providers.update(current.name, changes)
  if (!updated) throw notFound(`no provider ${current.name}`)
  const view: CheckedProviderView = toProviderView(updated, deps.config.issuer)
  return discovery ? { ...view, discovery } : view
}

/**
 * Removes a provider: its sign-in button and routes go at once. The links of its accounts stay (keyed by its
 * issuer too), so registering it again with the same issuer brings them back; clients naming it offer it no more.
 */
export async function deleteProvider (deps: ProviderAdminDeps, name: string): Promise<ProviderView> {
  const provider = await findProvider(deps.storage, name)
  const deleted = await deps.storage.providers.delete(provider.name)
  if (!deleted) throw notFound(`no provider ${name.slice(0, 64)}`)
  return toProviderView(deleted, deps.config.issuer)
}

/** A client's `providers` list: known provider names, deduplicated; null = unrestricted. */
export async function checkClientProviders (storage: Storage, names: string[] | null | undefined): Promise<string[] | null | undefined> {
  if (names === undefined || names === null) return names
  const unique = [...new Set(names)]
  if (unique.length === 0) throw invalidInput('providers: name at least one provider (or null for every provider and the password form)')
  for (const name of unique) {
    if (typeof name !== 'string' || !PROVIDER_NAME.test(name)) throw invalidInput(`providers: not a provider name: ${String(name).slice(0, 64)}`)
    if (!await storage.providers.find(name)) throw invalidInput(`providers: no provider ${name}`)
  }
  return unique
}

export const toIdentityView = (i: Identity) => ({ provider: i.provider, issuer: i.issuer, subject: i.subject, email: i.email, linked_at: i.linkedAt })

export async function listIdentities (storage: Storage, username: string) {
  const user = await findUser(storage, username)
  return (await storage.identities.listForUser(user.id)).map(toIdentityView)
}

/** Unlinks the user's accounts at one provider (404 when there were none): their next sign-in there is a first one. */
export async function unlinkIdentity (storage: Storage, username: string, provider: string): Promise<number> {
  const user = await findUser(storage, username)
  const removed = await storage.identities.unlink(user.id, provider)
  if (removed === 0) throw notFound(`${username.slice(0, 64)} has no account linked at ${provider.slice(0, 64)}`)
  return removed
}

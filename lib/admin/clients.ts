import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import { conflict, invalidInput, notFound } from '../errors.js'
import { generateClientSecret, hashClientSecret } from '../oauth/client-secrets.js'
import { DEFAULT_CLIENT } from '../oauth/client-auth.js'
import { revokeOptions } from '../stores/deny-list.js'
import { formatScope, isValidScopeList, parseScope } from '../oauth/scopes.js'
import { looksLikeUserId } from '../oauth/subjects.js'
import { checkClientProviders } from './providers.js'
import { resolveResources } from '../oauth/resources.js'
import { allowsPlainHttp } from '../oauth/loopback-hosts.js'
import { EXCHANGE_RESOURCES_MAX } from '../../schemas/common.js'
import { clientKeysProblem, type ClientJwks } from '../oauth/client-key-rules.js'
import { clientNameProblem, logoUriProblem, normalClientName } from '../oauth/client-display.js'
import type { Client, Storage, TokenEndpointAuthMethod } from '../stores/types.js'
import { GRANT_TYPES, isGrantType, PKCE_POLICIES, SIGNING_ALGS, TOKEN_EXCHANGE_GRANT, type GrantType, type PkcePolicy, type SigningAlg } from '../../schemas/vocabulary.js'
const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/

export interface ClientInput {
  isPublic: boolean
  grantTypes: string[]
  scope: string | null
  redirectUris: string[]
  /** Where RP-initiated logout may return; the same rules as redirect URIs. */
  postLogoutRedirectUris?: string[]
  /** Never show the consent page for this (first-party) client. */
  skipConsent?: boolean
  /** Only these upstream providers, and no password form, for its users; null/absent = unrestricted. */
  providers?: string[] | null
  /** `optional` lets a confidential client's authorization requests come without PKCE; absent = required. */
  pkce?: string
  /** How its ID tokens are signed; null/absent = the server's default. */
  idTokenAlg?: string | null
  /** Sign /userinfo answers with this algorithm; null/absent = plain JSON. */
  userinfoAlg?: string | null
  /** OpenID Connect Back-Channel Logout 1.0: where logout tokens are posted; null/absent = none. */
  backchannelLogoutUri?: string | null
  /** Its users must use a second factor in the browser (enrolling one first when they have none). */
  requireMfa?: boolean
  /** RFC 9449 §5.2: every token request must carry a DPoP proof. */
  dpopBoundAccessTokens?: boolean
  /** Legacy: the password grant gives tokens to users with a second factor, on the password alone. */
  passwordGrantSkipsMfa?: boolean
  /** Its authorization requests must be pushed first (RFC 9126, POST /par). */
  requirePar?: boolean
  /** Token exchange (RFC 8693): the registered resources whose tokens it may exchange, acting for them. */
  exchangeSources?: string[]
  /** Token exchange: the registered resources it may exchange a token for. */
  exchangeTargets?: string[]
  /** Its public keys, a JWK Set (RFC 7591 §2 `jwks`): private_key_jwt and signed request objects. Never with jwksUri. */
  jwks?: unknown
  /** Where its JWK Set is published (RFC 7591 §2 `jwks_uri`). */
  jwksUri?: string | null
  /**
   * The one method it may authenticate with (RFC 7591 §2); absent: private_key_jwt for a confidential client with keys,
   * else any it has credentials for. A confidential client with keys gets a secret only when this asks for one.
   */
  tokenEndpointAuthMethod?: string | null
  /** The name the sign-in pages show (lib/oauth/client-display.ts); null/absent: its id. */
  clientName?: string | null
  /** The logo the sign-in pages show: https (http on loopback); null/absent: none. */
  logoUri?: string | null
}

/** Where the issuer is: a jwks_uri may be plain http on loopback only when the issuer is on loopback too. */
export interface ClientKeyOptions { issuerOnLoopback: boolean }

/** Whether the issuer URL names a loopback host (lib/oauth/loopback-hosts.ts's hosts). */
export const issuerOnLoopback = (issuer: string | undefined): boolean => issuer !== undefined && allowsPlainHttp(new URL(issuer).hostname)

/**
 * A client's keys and method, checked together (lib/oauth/client-key-rules.ts, the rules registration shares): the
 * method it ends up with, and whether it gets a secret. A confidential client given keys and no method authenticates
 * with private_key_jwt and has no secret; client_secret_basic or client_secret_post asks for one besides its keys.
 */
export function checkClientKeys (input: { isPublic: boolean, jwks: unknown, jwksUri: string | null, tokenEndpointAuthMethod: string | null, hadSecret?: boolean }, options: ClientKeyOptions): { tokenEndpointAuthMethod: TokenEndpointAuthMethod | null, secret: boolean } {
  const hasKeys = input.jwks != null || input.jwksUri !== null
  const keepsSecret = Boolean(input.hadSecret)
  const method = input.tokenEndpointAuthMethod ?? (hasKeys && !input.isPublic && !keepsSecret ? 'private_key_jwt' : null)
  const secret = !input.isPublic && (keepsSecret || !hasKeys || method === 'client_secret_basic' || method === 'client_secret_post')
  const problem = clientKeysProblem({ isPublic: input.isPublic, hasSecret: secret, jwks: input.jwks, jwksUri: input.jwksUri, tokenEndpointAuthMethod: method }, options)
  if (problem !== undefined) throw invalidInput(problem)
  return { tokenEndpointAuthMethod: method as TokenEndpointAuthMethod | null, secret }
}

/** The input with its checked words typed. */
export type CheckedClientInput = ClientInput & { grantTypes: GrantType[], pkce?: PkcePolicy, idTokenAlg?: SigningAlg | null, userinfoAlg?: SigningAlg | null }

const oneOf = <T extends string>(words: readonly T[], value: string): value is T => (words as readonly string[]).includes(value)

/** Client registration rules shared by the CLI and the admin API. */
export function checkClientInput (input: ClientInput): asserts input is CheckedClientInput {
  const unknown = input.grantTypes.filter((g) => !isGrantType(g))
  if (unknown.length) throw invalidInput(`unknown grant type: ${unknown.join(', ')} (known: ${GRANT_TYPES.join(', ')})`)
  if (input.grantTypes.length === 0) throw invalidInput('a client needs at least one grant type')
  // RFC 6749 §4.4: client_credentials is for confidential clients only.
  if (input.isPublic && input.grantTypes.includes('client_credentials')) throw invalidInput('a public client cannot have the client_credentials grant')
  // RFC 8693 §5: a client trading tokens must prove who it is (lib/oauth/grants/token-exchange.ts).
  if (input.isPublic && input.grantTypes.includes(TOKEN_EXCHANGE_GRANT)) throw invalidInput('a public client cannot have the token-exchange grant')
  if (input.scope !== null && !isValidScopeList(input.scope)) throw invalidInput('scope: not a space-separated list of scope tokens')
  for (const uri of input.redirectUris) checkRedirectUri(uri)
  for (const uri of input.postLogoutRedirectUris ?? []) checkRedirectUri(uri)
  if (input.grantTypes.includes('authorization_code') && input.redirectUris.length === 0) throw invalidInput('the authorization_code grant needs at least one redirect URI')
  if (input.pkce !== undefined && !oneOf(PKCE_POLICIES, input.pkce)) throw invalidInput(`pkce: ${PKCE_POLICIES.join(' or ')}`)
  // RFC 9700 §2.1.1: a public client has no secret to protect its code, so PKCE is its only defence.
  if (input.isPublic && input.pkce === 'optional') throw invalidInput('a public client must use PKCE (pkce cannot be optional)')
  for (const [name, alg] of [['id_token_alg', input.idTokenAlg], ['userinfo_alg', input.userinfoAlg]] as const) {
    if (alg != null && !oneOf(SIGNING_ALGS, alg)) throw invalidInput(`${name}: one of ${SIGNING_ALGS.join(', ')}`)
  }
  // Back-Channel Logout 1.0 §2.2: an absolute URI without a fragment; https, or http on loopback as redirect URIs.
  if (input.backchannelLogoutUri != null) {
    checkRedirectUri(input.backchannelLogoutUri, 'back-channel logout URI')
    // Gatehouse posts to it from the server: a native app's custom scheme (allowed for redirect URIs) means nothing here.
    if (!/^https?:$/.test(new URL(input.backchannelLogoutUri).protocol)) throw invalidInput(`back-channel logout URI must be https (or http on loopback): ${input.backchannelLogoutUri}`)
  }
  checkClientDisplay(input)
}

/** The name and logo the sign-in pages show, when given (lib/oauth/client-display.ts). */
function checkClientDisplay (input: { clientName?: string | null | undefined, logoUri?: string | null | undefined }): void {
  const problem = (input.clientName == null ? undefined : clientNameProblem(input.clientName)) ??
    (input.logoUri == null ? undefined : logoUriProblem(input.logoUri))
  if (problem !== undefined) throw invalidInput(problem)
}

/** A name as stored: trimmed; null stays null, absent stays absent. */
const storedName = <T extends string | null | undefined>(name: T): T => (typeof name === 'string' ? normalClientName(name) : name) as T

/** Absolute URIs without a fragment (RFC 6749 §3.1.2); plain http only for loopback (RFC 8252 §7.3, BCP §2.6). */
function checkRedirectUri (uri: string, what = 'redirect URI'): void {
  // URL() would percent-encode these, but the URI is stored and compared as sent: refuse them (RFC 3986
  // has no raw whitespace or control characters; PostgreSQL text cannot hold U+0000 either).
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\s\u0000-\u001f\u007f]/.test(uri)) throw invalidInput(`${what} contains whitespace or a control character: ${JSON.stringify(uri).slice(0, 200)}`)
  let url: URL
  try { url = new URL(uri) } catch { throw invalidInput(`${what} is not an absolute URI: ${uri}`) }
  if (url.hash || uri.includes('#')) throw invalidInput(`${what} must not have a fragment: ${uri}`)
  if (url.protocol === 'http:' && !allowsPlainHttp(url.hostname)) throw invalidInput(`plain http ${what}s are only allowed for loopback: ${uri}`)
}

/**
 * A client's token-exchange resources (RFC 8693, lib/oauth/token-exchange.ts), checked: registered resources
 * (lib/oauth/resources.ts), each once, at most EXCHANGE_RESOURCES_MAX. Absent stays absent (unchanged on update).
 */
export async function checkExchangeResources (storage: Storage, field: string, uris: string[] | undefined): Promise<string[] | undefined> {
  if (uris === undefined) return undefined
  const unique = [...new Set(uris)]
  if (unique.length > EXCHANGE_RESOURCES_MAX) throw invalidInput(`${field}: at most ${EXCHANGE_RESOURCES_MAX} resources`)
  for (const uri of unique) await resolveResources([uri], storage.resources, (problem) => invalidInput(`${field}: ${problem}`))
  return unique
}

/** Registers a client; returns it with its secret (shown once; only a digest is stored). */
export async function createClient (storage: Storage, id: string, input: ClientInput, keyOptions: ClientKeyOptions = { issuerOnLoopback: false }): Promise<{ client: Client, secret: string | undefined }> {
  if (!CLIENT_ID.test(id)) throw invalidInput('client id: letters, digits and . _ : - (1-128)')
  if (id === DEFAULT_CLIENT.id) throw invalidInput('client id "default" is reserved for the built-in public client')
  // RFC 9068 §5: a client's subject must never be mistaken for a user's (lib/oauth/subjects.ts).
  if (looksLikeUserId(id)) throw invalidInput('client id: must not have the shape of a user id (a UUID)')
  checkClientInput(input)
  const providers = await checkClientProviders(storage, input.providers)
  const exchangeSources = await checkExchangeResources(storage, 'exchange_sources', input.exchangeSources)
  const exchangeTargets = await checkExchangeResources(storage, 'exchange_targets', input.exchangeTargets)
  const jwksUri = input.jwksUri ?? null
  const keys = checkClientKeys({ isPublic: input.isPublic, jwks: input.jwks, jwksUri, tokenEndpointAuthMethod: input.tokenEndpointAuthMethod ?? null }, keyOptions)
  const secret = keys.secret ? generateClientSecret() : undefined
  try {
    const client = await storage.clients.create({
      id,
      secretHash: secret === undefined ? null : hashClientSecret(secret),
      isPublic: input.isPublic,
      grantTypes: [...new Set(input.grantTypes)],
      scope: input.scope === null ? null : formatScope(parseScope(input.scope)),
      redirectUris: input.redirectUris,
      postLogoutRedirectUris: input.postLogoutRedirectUris ?? [],
      skipConsent: input.skipConsent ?? false,
      providers: providers ?? null,
      pkce: input.pkce ?? 'required',
      idTokenAlg: input.idTokenAlg ?? null,
      userinfoAlg: input.userinfoAlg ?? null,
      backchannelLogoutUri: input.backchannelLogoutUri ?? null,
      requireMfa: input.requireMfa ?? false,
      dpopBoundAccessTokens: input.dpopBoundAccessTokens ?? false,
      passwordGrantSkipsMfa: input.passwordGrantSkipsMfa ?? false,
      requirePar: input.requirePar ?? false,
      exchangeSources: exchangeSources ?? [],
      exchangeTargets: exchangeTargets ?? [],
      jwks: input.jwks == null ? null : input.jwks as ClientJwks,
      jwksUri,
      tokenEndpointAuthMethod: keys.tokenEndpointAuthMethod,
      clientName: storedName(input.clientName) ?? null,
      logoUri: input.logoUri ?? null
    })
    return { client, secret }
  } catch (err) {
    if ((err as Error).name === 'ConflictError') throw conflict(`client ${id} already exists`)
    throw err
  }
}

/** What changing or removing a client needs besides the store: the time (revocations). */
export interface ClientAdminDeps {
  storage: Storage
  clock: Clock
  /** `issuer`: where the issuer is decides whether a plain-http loopback jwks_uri may be stored (absent: it may not). */
  config: Pick<Config, 'accessTokenTtl'> & Partial<Pick<Config, 'issuer'>>
}

export interface ClientPatchInput {
  grantTypes?: string[]
  scope?: string | null
  redirectUris?: string[]
  postLogoutRedirectUris?: string[]
  skipConsent?: boolean
  /** null lifts the restriction. */
  providers?: string[] | null
  pkce?: string
  /** null: back to the server's default. */
  idTokenAlg?: string | null
  /** null: plain JSON again. */
  userinfoAlg?: string | null
  /** null: no back-channel logout. */
  backchannelLogoutUri?: string | null
  requireMfa?: boolean
  /** RFC 9449 §5.2: every token request must carry a DPoP proof. */
  dpopBoundAccessTokens?: boolean
  passwordGrantSkipsMfa?: boolean
  requirePar?: boolean
  /** Replaces the list ([] empties it). */
  exchangeSources?: string[]
  /** Replaces the list ([] empties it). */
  exchangeTargets?: string[]
  /** Its JWK Set; null removes it. */
  jwks?: unknown
  /** Its jwks_uri; null removes it. */
  jwksUri?: string | null
  /** null: no registered method (any it has credentials for). */
  tokenEndpointAuthMethod?: string | null
  /** null: shown by its id again. */
  clientName?: string | null
  /** null: no logo. */
  logoUri?: string | null
  /** Issue a new secret (returned once); the old one stops working. */
  rotateSecret?: boolean
}

/** A client by id, or 404. */
export async function findClient (storage: Storage, id: string): Promise<Client> {
  const client = await storage.clients.find(id)
  if (!client) throw notFound(`no client ${id.slice(0, 64)}`)
  return client
}

/** Changes a client under the same rules as registration; returns it with its new secret when one was asked for. */
export async function updateClient (deps: ClientAdminDeps, id: string, patch: ClientPatchInput): Promise<{ client: Client, secret: string | undefined }> {
  const current = await findClient(deps.storage, id)
  const next = {
    isPublic: current.isPublic,
    grantTypes: patch.grantTypes ?? current.grantTypes,
    scope: patch.scope === undefined ? current.scope : patch.scope,
    redirectUris: patch.redirectUris ?? current.redirectUris,
    postLogoutRedirectUris: patch.postLogoutRedirectUris ?? current.postLogoutRedirectUris,
    pkce: patch.pkce ?? current.pkce,
    idTokenAlg: patch.idTokenAlg === undefined ? current.idTokenAlg : patch.idTokenAlg,
    userinfoAlg: patch.userinfoAlg === undefined ? current.userinfoAlg : patch.userinfoAlg,
    backchannelLogoutUri: patch.backchannelLogoutUri === undefined ? current.backchannelLogoutUri : patch.backchannelLogoutUri
  }
  checkClientInput(next)
  checkClientDisplay(patch)
  if (patch.rotateSecret && current.isPublic) throw invalidInput('a public client has no secret')
  const keysChanged = patch.jwks !== undefined || patch.jwksUri !== undefined || patch.tokenEndpointAuthMethod !== undefined
  const nextKeys = {
    // Keys given one way replace those given the other way (a client has one or the other, RFC 7591 §2).
    jwks: patch.jwks !== undefined ? patch.jwks : patch.jwksUri != null ? null : current.jwks,
    jwksUri: patch.jwksUri !== undefined ? patch.jwksUri : patch.jwks != null ? null : current.jwksUri,
    tokenEndpointAuthMethod: patch.tokenEndpointAuthMethod === undefined ? current.tokenEndpointAuthMethod : patch.tokenEndpointAuthMethod
  }
  // A client that has a secret keeps it (rotate_secret renews it); one without gets one only when its method needs one.
  const keys = keysChanged
    ? checkClientKeys({ isPublic: current.isPublic, ...nextKeys, hadSecret: current.secretHash !== null }, { issuerOnLoopback: issuerOnLoopback(deps.config.issuer) })
    : { tokenEndpointAuthMethod: current.tokenEndpointAuthMethod, secret: current.secretHash !== null }
  const needsSecret = keys.secret && current.secretHash === null
  const providers = await checkClientProviders(deps.storage, patch.providers)
  const exchangeSources = await checkExchangeResources(deps.storage, 'exchange_sources', patch.exchangeSources)
  const exchangeTargets = await checkExchangeResources(deps.storage, 'exchange_targets', patch.exchangeTargets)
  const secret = Boolean(patch.rotateSecret) || needsSecret ? generateClientSecret() : undefined
  const client = await deps.storage.clients.update(current.id, {
    ...(keysChanged ? { jwks: nextKeys.jwks == null ? null : nextKeys.jwks as ClientJwks, jwksUri: nextKeys.jwksUri, tokenEndpointAuthMethod: keys.tokenEndpointAuthMethod } : {}),
    grantTypes: [...new Set(next.grantTypes)],
    scope: next.scope === null ? null : formatScope(parseScope(next.scope)),
    redirectUris: next.redirectUris,
    postLogoutRedirectUris: next.postLogoutRedirectUris,
    ...(patch.skipConsent === undefined ? {} : { skipConsent: patch.skipConsent }),
    ...(patch.requireMfa === undefined ? {} : { requireMfa: patch.requireMfa }),
    ...(patch.dpopBoundAccessTokens === undefined ? {} : { dpopBoundAccessTokens: patch.dpopBoundAccessTokens }),
    ...(patch.passwordGrantSkipsMfa === undefined ? {} : { passwordGrantSkipsMfa: patch.passwordGrantSkipsMfa }),
    ...(patch.requirePar === undefined ? {} : { requirePar: patch.requirePar }),
    ...(providers === undefined ? {} : { providers }),
    ...(exchangeSources === undefined ? {} : { exchangeSources }),
    ...(exchangeTargets === undefined ? {} : { exchangeTargets }),
    ...(patch.clientName === undefined ? {} : { clientName: storedName(patch.clientName) }),
    ...(patch.logoUri === undefined ? {} : { logoUri: patch.logoUri }),
    pkce: next.pkce,
    idTokenAlg: next.idTokenAlg,
    userinfoAlg: next.userinfoAlg,
    backchannelLogoutUri: next.backchannelLogoutUri,
    ...(secret === undefined ? {} : { secretHash: hashClientSecret(secret) })
  })
  if (!client) throw notFound(`no client ${current.id}`)
  return { client, secret }
}

/** Removes a client and revokes every grant issued to it. */
export async function deleteClient (deps: ClientAdminDeps, id: string): Promise<Client> {
  const client = await deps.storage.clients.delete(id)
  if (!client) throw notFound(`no client ${id.slice(0, 64)}`)
  await deps.storage.grants.revokeForClient(id, revokeOptions(deps.clock.now(), deps.config.accessTokenTtl))
  return client
}

/** The client as the API and CLI show it: never the secret digest. */
export function toClientView (client: Client) {
  return {
    client_id: client.id,
    public: client.isPublic,
    grant_types: client.grantTypes,
    scope: client.scope,
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    skip_consent: client.skipConsent,
    providers: client.providers,
    pkce: client.pkce,
    id_token_alg: client.idTokenAlg,
    userinfo_alg: client.userinfoAlg,
    backchannel_logout_uri: client.backchannelLogoutUri,
    require_mfa: client.requireMfa,
    dpop_bound_access_tokens: client.dpopBoundAccessTokens,
    password_grant_skips_mfa: client.passwordGrantSkipsMfa,
    require_pushed_authorization_requests: client.requirePar,
    exchange_sources: client.exchangeSources,
    exchange_targets: client.exchangeTargets,
    jwks: client.jwks,
    jwks_uri: client.jwksUri,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    created_at: client.createdAt,
    // RFC 7591 registrations (lib/oauth/registration.ts): marked, with what they said about themselves.
    registered: client.registration !== null,
    registration: client.registration,
    client_name: client.clientName,
    client_uri: client.clientUri,
    logo_uri: client.logoUri,
    registered_by: client.registeredBy,
    first_used_at: client.firstUsedAt
  }
}

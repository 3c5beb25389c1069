import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import { digest } from '../credentials/digest.js'
import { invalidClientMetadata, invalidToken, tooManyRegistrations } from '../errors.js'
import type { Limit, Throttle } from '../limits/throttle.js'
import { deleteClient, issuerOnLoopback } from '../admin/clients.js'
import type { Client, RegistrationMode, Storage } from '../stores/types.js'
import { generateClientSecret, hashClientSecret, verifyClientSecret } from './client-secrets.js'
import { checkRegistration, type CheckedRegistration, type RegistrationRequest } from './registration-metadata.js'

/**
 * RFC 7591 dynamic client registration and RFC 7592 management (docs/registration.md): who may register
 * (REGISTRATION, initial access tokens), the per-address limit, the registration access token, and the client
 * as the endpoints answer it. The metadata rules are lib/oauth/registration-metadata.ts.
 */

export interface RegistrationDeps {
  storage: Storage
  clock: Clock
  config: Pick<Config, 'issuer' | 'registration' | 'accessTokenTtl'>
  /** The scopes that exist (lib/oauth/metadata.ts scopeCatalog). */
  knownScopes: () => Promise<string[]>
}

/**
 * Registrations per client address (lib/limits/address-key.ts), in the counters every instance shares: 20 an
 * hour. A developer registers a few times while setting up; a script registering in a loop stops at 20, and what
 * it registered in open mode expires unused (lib/limits/table-bounds.ts UNUSED_REGISTRATION_SECONDS). Every attempt counts, refused or not.
 */
export const REGISTRATIONS_PER_ADDRESS = { max: 20, windowSeconds: 3600 }
/** A registration body is small: 16 KiB is far more than any real one (a 100 KB one is 413). */
export const REGISTRATION_BODY_LIMIT = 16 * 1024

export const registrationLimits = (address: string): Limit[] =>
  [{ key: `register:ip:${digest(address).slice(0, 22)}`, kind: 'address', ...REGISTRATIONS_PER_ADDRESS }]

/** Counts one registration attempt from `address`; throws 429 past the limit. */
export async function takeRegistrationLimit (throttle: Throttle, address: string): Promise<void> {
  const wait = await throttle.take(registrationLimits(address))
  if (wait !== undefined) throw tooManyRegistrations(wait)
}

/** The bearer token of an `Authorization: Bearer …` header (RFC 6750 §2.1), or undefined. */
export function bearerOf (authorization: string | undefined): string | undefined {
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization ?? '')
  return match?.[1]
}

/** RFC 7591 §3: in `token` mode, a registration needs a usable initial access token (401 invalid_token otherwise). */
async function checkInitialAccessToken (deps: RegistrationDeps, token: string | undefined): Promise<string | undefined> {
  if (deps.config.registration !== 'token') return undefined
  if (token === undefined) throw invalidToken('an initial access token is needed to register (RFC 7591 §3)')
  const tokenDigest = digest(token)
  if (!await deps.storage.registrationTokens.findUsable(tokenDigest, deps.clock.now())) throw invalidToken('the initial access token is invalid, expired or used up')
  return tokenDigest
}

/** A new client's id: random, never the shape of a user id (lib/oauth/subjects.ts) nor `default`. */
const newClientId = () => `dyn.${randomBytes(16).toString('base64url')}`
const newRegistrationToken = () => randomBytes(32).toString('base64url')

/** RFC 7591 §3.1: registers a client; answers §3.2.1's body (its secrets shown this once). */
export async function registerClient (deps: RegistrationDeps, input: { body: RegistrationRequest, initialToken: string | undefined, address: string }) {
  const mode = deps.config.registration
  if (mode === 'off') throw new Error('registration is off')
  const tokenDigest = await checkInitialAccessToken(deps, input.initialToken)
  const checked = checkRegistration(input.body, { mode, knownScopes: new Set(await deps.knownScopes()), issuerOnLoopback: issuerOnLoopback(deps.config.issuer) })
  // Spent only once the metadata passed, atomically: a token for N registrations makes at most N clients.
  if (tokenDigest !== undefined && !await deps.storage.registrationTokens.use(tokenDigest, deps.clock.now())) {
    throw invalidToken('the initial access token is invalid, expired or used up')
  }
  const secret = checked.hasSecret ? generateClientSecret() : undefined
  const registrationToken = newRegistrationToken()
  const client = await deps.storage.clients.create({
    id: newClientId(),
    secretHash: secret === undefined ? null : hashClientSecret(secret),
    ...clientFields(checked),
    registration: mode,
    registrationTokenHash: digest(registrationToken),
    registeredBy: input.address
  })
  return registrationView(deps.config, client, { secret, registrationToken })
}

/**
 * RFC 7592 §2: the registered client `clientId` when `token` is its registration access token (compared in
 * constant time), else 401 invalid_token: an unknown client, one an administrator made, and a wrong token alike.
 */
export async function authorizedRegistration (storage: Storage, clientId: string, token: string | undefined): Promise<Client> {
  const client = await storage.clients.find(clientId)
  const expected = Buffer.from(client?.registrationTokenHash ?? digest(''))
  const presented = Buffer.from(digest(token ?? ''))
  const same = expected.length === presented.length && timingSafeEqual(expected, presented)
  if (!client || !same || token === undefined || client.registrationTokenHash === null) {
    throw invalidToken('the registration access token is invalid, or the client is not registered')
  }
  return client
}

/**
 * RFC 7592 §2.2: replaces the client's metadata (the same rules as registering). `client_id` must be its own;
 * a confidential client that sends its current `client_secret` keeps it, one that sends none gets a new one
 * (shown in this reply only). Public and confidential cannot be swapped: register anew.
 */
export async function updateRegistration (deps: RegistrationDeps, client: Client, input: { body: RegistrationRequest, registrationToken: string }) {
  const { body } = input
  if (body.client_id !== client.id) throw invalidClientMetadata('client_id must be the client\'s own')
  const mode = client.registration === 'token' ? 'token' : 'open'
  const checked = checkRegistration(body, { mode, knownScopes: new Set([...await deps.knownScopes(), ...(client.scope?.split(' ') ?? [])]), issuerOnLoopback: issuerOnLoopback(deps.config.issuer) })
  if (checked.isPublic !== client.isPublic) throw invalidClientMetadata('token_endpoint_auth_method cannot change between none and a secret: register a new client')
  let secret: string | undefined
  // A new secret only when the client sent none (the one it sent was checked in constant time, never compared with ===).
  let rotated = false
  if (checked.hasSecret) {
    const sent = body.client_secret
    if (sent === undefined || sent === null) {
      secret = generateClientSecret()
      rotated = true
    } else if (typeof sent !== 'string' || !verifyClientSecret(sent, client.secretHash)) {
      throw invalidClientMetadata('client_secret does not match the client\'s (send it, or leave it out to get a new one)')
    } else {
      secret = sent
    }
  }
  const updated = await deps.storage.clients.update(client.id, {
    ...clientFields(checked),
    ...(rotated && secret !== undefined ? { secretHash: hashClientSecret(secret) } : {}),
    // private_key_jwt: the keys are its credentials; a secret it had stops working.
    ...(!checked.hasSecret && !checked.isPublic ? { secretHash: null } : {})
  })
  if (!updated) throw invalidToken('the registration access token is invalid, or the client is not registered')
  return { view: registrationView(deps.config, updated, { secret, registrationToken: input.registrationToken }), rotated }
}

/** RFC 7592 §2.3: deletes the client as an administrator's removal does (its grants revoked). */
export async function deleteRegistration (deps: RegistrationDeps, client: Client): Promise<void> {
  await deleteClient({ storage: deps.storage, clock: deps.clock, config: deps.config }, client.id)
}

/** RFC 7592 §2.1: the client as registered (the registration access token it presented is echoed back). */
export const readRegistration = (deps: RegistrationDeps, client: Client, registrationToken: string) =>
  registrationView(deps.config, client, { secret: undefined, registrationToken })

/** The client row's fields a registration sets (never skip_consent: registered clients always get the consent page). */
function clientFields (checked: CheckedRegistration) {
  return {
    isPublic: checked.isPublic,
    grantTypes: checked.grantTypes,
    scope: checked.scope,
    redirectUris: checked.redirectUris,
    clientName: checked.clientName,
    clientUri: checked.clientUri,
    logoUri: checked.logoUri,
    requirePar: checked.requirePar,
    dpopBoundAccessTokens: checked.dpopBoundAccessTokens,
    jwks: checked.jwks,
    jwksUri: checked.jwksUri,
    // Only private_key_jwt is enforced as the one method (a registered secret client may still use Basic or the body).
    tokenEndpointAuthMethod: checked.metadata.token_endpoint_auth_method === 'private_key_jwt' ? 'private_key_jwt' as const : null,
    registrationMetadata: checked.metadata
  }
}

/** RFC 7591 §3.2.1 / RFC 7592 §3: the client's metadata as stored, its id, and the secrets given this once. */
export function registrationView (config: Pick<Config, 'issuer'>, client: Client, given: { secret: string | undefined, registrationToken: string }) {
  // Written by checkRegistration alone (clientFields), so it has that shape.
  const meta = client.registrationMetadata as Partial<CheckedRegistration['metadata']>
  return {
    client_id: client.id,
    ...(given.secret === undefined ? {} : { client_secret: given.secret, client_secret_expires_at: 0 }),
    client_id_issued_at: client.createdAt,
    registration_access_token: given.registrationToken,
    registration_client_uri: `${config.issuer.replace(/\/$/, '')}/register/${encodeURIComponent(client.id)}`,
    redirect_uris: client.redirectUris,
    grant_types: client.grantTypes,
    response_types: meta.response_types ?? [],
    token_endpoint_auth_method: meta.token_endpoint_auth_method ?? (client.isPublic ? 'none' : 'client_secret_basic'),
    scope: client.scope ?? undefined,
    client_name: client.clientName ?? undefined,
    client_uri: client.clientUri ?? undefined,
    logo_uri: client.logoUri ?? undefined,
    contacts: meta.contacts,
    tos_uri: meta.tos_uri,
    policy_uri: meta.policy_uri,
    // RFC 9126 §6: said only when set (false is the default).
    ...(client.requirePar ? { require_pushed_authorization_requests: true } : {}),
    dpop_bound_access_tokens: client.dpopBoundAccessTokens,
    jwks: client.jwks ?? undefined,
    jwks_uri: client.jwksUri ?? undefined
  }
}

/** Records a registered client's first use (its first tokens), so the sweep keeps it; a no-op for other clients and later uses. */
export async function noteClientUse (storage: Storage, client: Client, now: number): Promise<void> {
  if (client.registration !== null && client.firstUsedAt === null) await storage.clients.markUsed(client.id, now)
}

/** What the mode allows: the route answers 404 when registration is off (the endpoint does not exist). */
export const registrationOpen = (mode: RegistrationMode | 'off'): mode is RegistrationMode => mode !== 'off'

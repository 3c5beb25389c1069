import { randomBytes } from 'node:crypto'
import { digest } from '../credentials/digest.js'
import { badAuthorizationRequest, invalidRequest, PageError } from '../errors.js'
import type { Limit } from '../limits/throttle.js'
import type { Client, PushedParameters, PushedRequestStore, Storage } from '../stores/types.js'

/**
 * Pushed authorization requests (RFC 9126): the rules of the request_uri a client gets from POST /par and presents at
 * /authorize. The I/O is the store's (lib/stores/types.ts PushedRequestStore: every change of state is one atomic
 * update); routes/par and routes/browser only read requests and render.
 *
 * Single use against the sign-in round trip. The login, second-factor and consent pages return to
 * `/authorize?client_id=…&request_uri=…`, so the same urn is presented several times during one sign-in. As
 * node-oidc-provider does (it consumes the pushed request when /authorize first loads it and carries its parameters in
 * the interaction's own state), a urn is good for one interaction, not for one request; Gatehouse has no interaction
 * record of its own (the pages carry the /authorize path), so the row plays that part:
 * - unused: must be presented within PUSHED_REQUEST_TTL_SECONDS of the push (§2.2 `expires_in`);
 * - started: the first /authorize that presents it (by the client that pushed it) starts it and gives it the sign-in's
 *   lifetime (PUSHED_INTERACTION_SECONDS); reloads and the pages' returns read it again while it lasts;
 * - used: the answer that ends the sign-in (a code, or an error back to the client) spends it first, in one atomic
 *   update (spendPushedRequest): of two racing answers one goes back, the other is an error page; a spent urn is
 *   never read again (an error page, as an unknown, expired or other client's one is: the client is not trusted yet).
 */

/** RFC 9126 §2.2: the request_uri's URN prefix. */
export const PUSHED_REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:'
/** §2.2 `expires_in`: how long a pushed request waits to be presented at /authorize (CONTRACT.md: 60 s). */
export const PUSHED_REQUEST_TTL_SECONDS = 60
/** Once presented: how long the sign-in it starts may take (login, a second factor, consent, reloads). */
export const PUSHED_INTERACTION_SECONDS = 30 * 60

/**
 * Pushes per client address and per client: each stores a row for at least 60 s (up to PUSHED_INTERACTION_SECONDS once
 * presented), and a public client pushes with its id alone, so both bound what one address, or one client id anyone
 * may name, keeps live. A browser app pushes once per sign-in.
 */
export const PUSHES_PER_ADDRESS = { max: 60, windowSeconds: 60 }
export const PUSHES_PER_CLIENT = { max: 600, windowSeconds: 60 }

const keyOf = (value: string): string => digest(value).slice(0, 22)
export const pushLimits = (address: string, clientId: string): Limit[] => [
  { key: `par-address:${keyOf(address)}`, ...PUSHES_PER_ADDRESS, kind: 'address' },
  { key: `par-client:${keyOf(clientId)}`, ...PUSHES_PER_CLIENT }
]

/** §2.2: a request_uri of 256 random bits (the RFC asks for a value that cannot be guessed), and the digest it is stored under. */
export function newRequestUri (): { requestUri: string, hash: string } {
  const requestUri = `${PUSHED_REQUEST_URI_PREFIX}${randomBytes(32).toString('base64url')}`
  return { requestUri, hash: digest(requestUri) }
}

/** Whether a request_uri is one /par hands out (another kind stays request_uri_not_supported at /authorize). */
export const isPushedRequestUri = (value: unknown): value is string => typeof value === 'string' && value.startsWith(PUSHED_REQUEST_URI_PREFIX)

/** The client authentication parameters of a push: they authenticate the push and are not part of the request (§2.1). */
const CLIENT_AUTHENTICATION_PARAMETERS = new Set(['client_secret', 'client_assertion', 'client_assertion_type'])

/**
 * The authorization request a push carries (§2.1): every parameter but client authentication, as sent. `request_uri`
 * is refused (§2.1: it MUST NOT be provided); so is a NUL anywhere (no store keeps it, and no request needs it).
 */
export function pushedParameters (body: Record<string, unknown>): PushedParameters {
  if (body.request_uri !== undefined) throw invalidRequest('request_uri cannot be pushed (RFC 9126 §2.1)')
  const parameters: PushedParameters = {}
  for (const [name, value] of Object.entries(body)) {
    if (CLIENT_AUTHENTICATION_PARAMETERS.has(name)) continue
    const values = Array.isArray(value) ? value : [value]
    if (!values.every((v): v is string => typeof v === 'string')) continue
    if (name.includes('\u0000') || values.some((v) => v.includes('\u0000'))) throw invalidRequest('a parameter contains the NUL character')
    parameters[name] = Array.isArray(value) ? values : values[0] as string
  }
  return parameters
}

/** What a presented pushed request marks on the authorization request it becomes. */
export interface PushedMark {
  /** The digest of its request_uri (the row's key). */
  hash: string
  /** When /authorize first presented it: a sign-in at or after it answers the request's prompt=login (interaction.ts). */
  startedAt: number
  /** The /authorize path the pages return to: client_id and request_uri only. */
  path: string
}

/** Stores a checked push; returns the request_uri and its lifetime (§2.2). */
export async function pushRequest (storage: Pick<Storage, 'pushedRequests'>, input: { client: Client, parameters: PushedParameters, now: number }): Promise<{ requestUri: string, expiresIn: number }> {
  const { requestUri, hash } = newRequestUri()
  await storage.pushedRequests.create({
    hash,
    clientId: input.client.id,
    parameters: { ...input.parameters, client_id: input.client.id },
    state: 'unused',
    createdAt: input.now,
    startedAt: null,
    expiresAt: input.now + PUSHED_REQUEST_TTL_SECONDS
  })
  return { requestUri, expiresIn: PUSHED_REQUEST_TTL_SECONDS }
}

/** The query /authorize works on, and the pushed request it came from when it names one. */
export interface ResolvedQuery { query: Record<string, unknown>, pushed: PushedMark | undefined }

/**
 * §4: `/authorize?client_id=…&request_uri=urn:…` becomes the pushed parameters (every other query parameter is
 * ignored); client_id must be the pusher's. An unknown, expired, spent or other client's urn is an error page (nothing
 * in the request is trusted yet). A query without a pushed request_uri is returned as it is.
 */
export async function resolvePushedRequest (query: Record<string, unknown>, deps: { pushedRequests: Pick<PushedRequestStore, 'start'>, now: number }): Promise<ResolvedQuery> {
  const requestUri = query.request_uri
  if (!isPushedRequestUri(requestUri)) return { query, pushed: undefined }
  const clientId = query.client_id
  // §4: client_id is required beside request_uri (the client the urn must belong to).
  if (typeof clientId !== 'string' || clientId === '') throw badAuthorizationRequest('the request has no client_id')
  const hash = digest(requestUri)
  const found = requestUri.length <= 256 ? await deps.pushedRequests.start(hash, clientId, deps.now, deps.now + PUSHED_INTERACTION_SECONDS) : undefined
  if (found === undefined) throw badAuthorizationRequest('the request_uri is unknown, has expired, was already used, or belongs to another client: start the sign-in again from the application')
  const path = `/authorize?${new URLSearchParams({ client_id: clientId, request_uri: requestUri }).toString()}`
  return { query: { ...found.parameters, client_id: found.clientId }, pushed: { hash, startedAt: found.startedAt ?? deps.now, path } }
}

/** The refusal of an answer for a pushed request another answer already ended. */
export const alreadyAnswered = () => new PageError('invalid_request', 'this authorization request was already answered: start the sign-in again from the application')

/**
 * Spends a started pushed request, before the answer that ends its sign-in goes back (a code or an error): exactly one
 * answer per urn. Nothing for a request that was not pushed.
 */
export async function spendPushedRequest (store: Pick<PushedRequestStore, 'consume'>, pushed: Pick<PushedMark, 'hash'> | undefined, now: number): Promise<void> {
  if (pushed === undefined) return
  if (!await store.consume(pushed.hash, now)) throw alreadyAnswered()
}

/** RFC 9126 §5: whether this client's authorization requests must be pushed (its own flag, or REQUIRE_PAR=on for all). */
export const mustPush = (client: Pick<Client, 'requirePar'>, requireParEverywhere: boolean): boolean => requireParEverywhere || client.requirePar

import type { Clock } from '../clock.js'
import { digest } from '../credentials/digest.js'
import { BoundedLru } from '../limits/lru.js'
import type { Limit, Throttle } from '../limits/throttle.js'
import { ConflictError, type Client, type ClientStore } from '../stores/types.js'
import { DocumentFetchError, type FetchedDocument } from '../upstream/document-fetch.js'
import { checkDocument, type DocumentClient, documentTtlSeconds, InvalidDocument, isDocumentUrl, REFUSED_DOCUMENT_TTL_SECONDS } from './client-metadata-document.js'

/**
 * Client ID Metadata Documents as clients (docs/client-metadata-documents.md): a URL client_id resolves to the client
 * its document describes. Each document client is a row of the client store (registration `cimd`), created the
 * first time its document is fetched and refreshed on each later fetch, so grants, consents, refresh families and
 * the bearer check name it as any client (the row is swept if it never gets tokens: lib/ops/sweep.ts). Which
 * documents are fresh, and which were refused, is kept per instance in a bounded LRU; concurrent requests for one
 * URL share one fetch; fetches (cache misses) are limited per client address, since anyone can name any URL.
 */

/** Documents fetched per client address (lib/limits/address-key.ts): 30 in 10 minutes, in the counters every instance shares. */
export const DOCUMENT_FETCHES_PER_ADDRESS = { max: 30, windowSeconds: 600 }
/** How many URLs an instance remembers (fresh or refused), and how many fetches may be under way at once. */
export const DOCUMENT_CACHE_SIZE = 10_000
export const DOCUMENT_FETCHES_IN_FLIGHT = 1_000

export const documentFetchLimits = (address: string): Limit[] =>
  [{ key: `cimd:ip:${digest(address).slice(0, 22)}`, kind: 'address', ...DOCUMENT_FETCHES_PER_ADDRESS }]

/** What resolving a URL client_id gave: its client, or why not (safe to show: names no secret). */
export type DocumentOutcome = { client: Client } | { refused: string, throttled: boolean }

/** What happened to one fetch, for the security events and the metric. */
export type DocumentReport =
  | { result: 'fetched', clientId: string, address: string, ttlSeconds: number }
  | { result: 'refused', clientId: string, address: string, reason: string }
  | { result: 'throttled', clientId: string, address: string }

export interface DocumentClientsDeps {
  clients: Pick<ClientStore, 'find' | 'create' | 'update'>
  clock: Clock
  throttle: Throttle
  /** GETs a document (lib/upstream/document-fetch.ts fetchDocument, with its options bound). */
  fetch: (url: URL) => Promise<FetchedDocument>
  /** The scopes that exist (lib/oauth/metadata.ts scopeCatalog). */
  knownScopes: () => Promise<string[]>
  /** How long one fetch may take (UPSTREAM_TIMEOUT_MS): a shared fetch is forgotten after twice that at most. */
  timeoutMs: number
  report: (report: DocumentReport) => void
}

export class DocumentClients {
  readonly #deps: DocumentClientsDeps
  /** Per URL: fresh (until the entry expires) or refused, and why. */
  readonly #seen: BoundedLru<string, { refused?: string }>
  readonly #inFlight: BoundedLru<string, Promise<DocumentOutcome>>

  constructor (deps: DocumentClientsDeps) {
    this.#deps = deps
    this.#seen = new BoundedLru(DOCUMENT_CACHE_SIZE, () => deps.clock.nowMs())
    this.#inFlight = new BoundedLru(DOCUMENT_FETCHES_IN_FLIGHT, () => deps.clock.nowMs())
  }

  /** The client `clientId` (a document URL: isDocumentUrl) names, for a request from `address`. */
  async resolve (clientId: string, address: string): Promise<DocumentOutcome> {
    const seen = this.#seen.get(clientId)
    if (seen?.refused !== undefined) return { refused: seen.refused, throttled: false }
    const stored = await this.#deps.clients.find(clientId)
    // An administrator's client under a URL id is used as it is: no document is fetched for it.
    if (stored !== undefined && stored.registration !== 'cimd') return { client: stored }
    if (seen !== undefined && stored !== undefined) return { client: stored }
    let pending = this.#inFlight.get(clientId)
    if (pending === undefined) {
      // Only a request that starts a fetch counts against its address; those joining it do not.
      const wait = await this.#deps.throttle.take(documentFetchLimits(address))
      if (wait !== undefined) {
        this.#deps.report({ result: 'throttled', clientId, address })
        return { refused: 'too many client metadata documents were fetched for your address; try again later', throttled: true }
      }
      pending = this.#inFlight.get(clientId)
      if (pending === undefined) {
        pending = this.#fetch(clientId, address).finally(() => this.#inFlight.delete(clientId))
        this.#inFlight.set(clientId, pending, this.#deps.timeoutMs * 2)
      }
    }
    return await pending
  }

  async #fetch (clientId: string, address: string): Promise<DocumentOutcome> {
    let fields: DocumentClient
    let ttlSeconds: number
    try {
      const fetched = await this.#deps.fetch(new URL(clientId))
      fields = checkDocument(clientId, fetched.body, new Set(await this.#deps.knownScopes()))
      const cacheControl = fetched.headers['cache-control']
      ttlSeconds = documentTtlSeconds(Array.isArray(cacheControl) ? cacheControl.join(',') : cacheControl)
    } catch (err) {
      if (!(err instanceof DocumentFetchError) && !(err instanceof InvalidDocument)) throw err
      const reason = err instanceof DocumentFetchError ? err.reason : err.message
      this.#seen.set(clientId, { refused: reason }, REFUSED_DOCUMENT_TTL_SECONDS * 1000)
      this.#deps.report({ result: 'refused', clientId, address, reason })
      return { refused: reason, throttled: false }
    }
    const client = await this.#store(clientId, fields, address)
    if (client === undefined) return { refused: 'an administrator\'s client has this id', throttled: false }
    this.#seen.set(clientId, {}, ttlSeconds * 1000)
    this.#deps.report({ result: 'fetched', clientId, address, ttlSeconds })
    return { client }
  }

  /** The document's client as a row: created, or refreshed (two instances creating it at once: one creates, one updates). */
  async #store (clientId: string, fields: DocumentClient, address: string): Promise<Client | undefined> {
    const { clients } = this.#deps
    const { isPublic: _isPublic, ...patch } = fields
    const existing = await clients.find(clientId)
    if (existing !== undefined) return existing.registration === 'cimd' ? await clients.update(clientId, patch) : undefined
    try {
      return await clients.create({ id: clientId, ...fields, registration: 'cimd', registeredBy: address })
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err
      const now = await clients.find(clientId)
      return now?.registration === 'cimd' ? await clients.update(clientId, patch) : undefined
    }
  }
}

/**
 * The clients as the endpoints look them up by id: a URL client_id through its document when `documents` is set
 * (CLIENT_ID_METADATA_DOCUMENTS=on), else the store alone (and a stored document client is then unknown). A refused
 * document is an unknown client (undefined: /token's invalid_client), or, with `refuse`, the error it makes
 * (/authorize's error page, naming the reason).
 */
export function clientDirectory (
  clients: Pick<ClientStore, 'find'>,
  documents: DocumentClients | undefined,
  address: string,
  refuse?: (reason: string) => Error
): Pick<ClientStore, 'find'> {
  return {
    async find (id: string): Promise<Client | undefined> {
      if (documents === undefined || !isDocumentUrl(id)) {
        const client = await clients.find(id)
        return client?.registration === 'cimd' && documents === undefined ? undefined : client
      }
      const outcome = await documents.resolve(id, address)
      if ('client' in outcome) return outcome.client
      if (refuse !== undefined) throw refuse(outcome.refused)
      return undefined
    }
  }
}

import fp from 'fastify-plugin'
import { badAuthorizationRequest } from '../lib/errors.js'
import type { AppOptions } from '../lib/http/app-options.js'
import { MAX_DOCUMENT_BYTES } from '../lib/oauth/client-metadata-document.js'
import { clientDirectory, DocumentClients } from '../lib/oauth/client-metadata-documents.js'
import { scopeCatalog } from '../lib/oauth/metadata.js'
import { clientObtainableScopes } from '../lib/oauth/resources.js'
import type { ClientStore } from '../lib/stores/types.js'
import { fetchDocument } from '../lib/upstream/document-fetch.js'
import { isLoopbackHost } from '../lib/upstream/public-address.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The clients as the endpoints look them up by id (lib/oauth/client-metadata-documents.ts clientDirectory): with
     * CLIENT_ID_METADATA_DOCUMENTS=on a URL client_id is resolved through its Client ID Metadata Document, fetched for
     * a request from `address` (the per-address limit). `page`: a refused document is the HTML error page naming why
     * (/authorize and its pages); otherwise an unknown client (/token's invalid_client).
     */
    clientLookup (address: string, options?: { page: boolean }): Pick<ClientStore, 'find'>
  }
}

export default fp<AppOptions>(async (fastify, opts) => {
  const { config, clock, storage, throttle, events, metrics } = fastify
  const fetches = metrics.registry.counter('gatehouse_client_metadata_documents_total',
    'Client ID Metadata Documents fetched, by result: fetched (valid, used), refused (unreachable, unsafe or invalid), throttled (the per-address limit).', ['result'])
  for (const result of ['fetched', 'refused', 'throttled']) fetches.inc([result], 0)
  const allowLoopback = isLoopbackHost(new URL(config.issuer).hostname)
  const documents = config.clientIdMetadataDocuments !== 'on'
    ? undefined
    : new DocumentClients({
      clients: storage.clients,
      clock,
      throttle,
      fetch: (url) => fetchDocument(url, { timeoutMs: config.upstreamTimeoutMs, maxBytes: MAX_DOCUMENT_BYTES, allowLoopback, extraCa: opts.documentFetchCa }),
      knownScopes: clientObtainableScopes(scopeCatalog({ storage, clock, warn: (err) => fastify.log.warn({ err }, 'reading scopes for a client metadata document failed; using the last list') }), storage.resources),
      timeoutMs: config.upstreamTimeoutMs,
      report (report) {
        fetches.inc([report.result])
        if (report.result === 'fetched') events.emit({ type: 'client_metadata_fetched', clientId: report.clientId, ip: report.address, ttlSeconds: report.ttlSeconds })
        else events.emit({ type: 'client_metadata_refused', clientId: report.clientId, ip: report.address, reason: report.result === 'throttled' ? 'throttled' : report.reason })
      }
    })
  const refusePage = (reason: string) => badAuthorizationRequest(`the client's metadata document cannot be used: ${reason}`)
  fastify.decorate('clientLookup', (address: string, options?: { page: boolean }) =>
    clientDirectory(storage.clients, documents, address, options?.page === true ? refusePage : undefined))
}, { name: 'client-metadata-documents', dependencies: ['config', 'clock', 'storage', 'throttle', 'events', 'metrics'] })

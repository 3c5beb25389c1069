import { GatehouseError } from '../errors.js'
import type { NewClient } from '../stores/types.js'
import { checkRegistration } from './registration-metadata.js'
import { formatScope } from './scopes.js'

/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): a `client_id` that is an https URL
 * names a JSON document, served there, describing the client. The rules on the URL and on the document, pure (no
 * I/O): fetching is lib/upstream/document-fetch.ts, caching and storing lib/oauth/client-metadata-documents.ts.
 */

/** At most 5 KB of document (CONTRACT.md): a real one is a few hundred bytes. */
export const MAX_DOCUMENT_BYTES = 5 * 1024
/** How long a fetched document is used before it is fetched again: its Cache-Control max-age, within these bounds. */
export const DOCUMENT_TTL = { minSeconds: 60, maxSeconds: 24 * 3600, defaultSeconds: 3600 }
/** How long a refused document (unreachable, invalid) is remembered, so a URL cannot make Gatehouse fetch it in a loop. */
export const REFUSED_DOCUMENT_TTL_SECONDS = 30
/** Client ids are at most this long (schemas/common.ts MAX_CLIENT_ID_LENGTH): so is a document's URL. */
export const MAX_DOCUMENT_URL_LENGTH = 128

/**
 * Whether `clientId` has the shape of a Client ID Metadata Document URL (§3): https, a path, no fragment, no user
 * name or password, and already in its normal form (so `client_id` compares byte for byte with what is fetched:
 * no dot segments, a lower-case host, no default port).
 */
export function isDocumentUrl (clientId: string): boolean {
  if (!clientId.startsWith('https://') || clientId.length > MAX_DOCUMENT_URL_LENGTH) return false
  let url: URL
  try { url = new URL(clientId) } catch { return false }
  return url.href === clientId && url.protocol === 'https:' && url.pathname.length > 1 && url.hash === '' &&
    url.username === '' && url.password === '' && url.hostname !== ''
}

/** A document that does not describe a client Gatehouse can serve; `message` says why (shown on the error page). */
export class InvalidDocument extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'InvalidDocument'
  }
}

/** The client row's fields a document sets: a public client (§4.1), never skipping consent. */
export type DocumentClient = Pick<NewClient, 'isPublic' | 'secretHash' | 'grantTypes' | 'scope' | 'redirectUris' | 'clientName' | 'clientUri' | 'logoUri' | 'registrationMetadata'>

/**
 * Checks the document fetched from `url` (§4): JSON, its `client_id` exactly the URL, a public client
 * (token_endpoint_auth_method `none` or absent; §4.1: no client secret), redirect URIs and the rest by the same rules
 * as RFC 7591 registration (lib/oauth/registration-metadata.ts). Its grants are authorization_code and refresh_token;
 * its scope the one it names (each existing, never `admin`), else every scope that exists but `admin`.
 */
export function checkDocument (url: string, body: Buffer, knownScopes: ReadonlySet<string>): DocumentClient {
  let document: unknown
  try { document = JSON.parse(body.toString('utf8')) } catch { throw new InvalidDocument('it is not JSON') }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new InvalidDocument('it is not a JSON object')
  const fields = document as Record<string, unknown>
  if (fields.client_id !== url) throw new InvalidDocument('its client_id is not its own URL')
  if (fields.client_secret !== undefined || fields.client_secret_expires_at !== undefined) throw new InvalidDocument('it has a client secret (§4.1 forbids one)')
  const authMethod = fields.token_endpoint_auth_method ?? 'none'
  if (authMethod !== 'none') throw new InvalidDocument('its token_endpoint_auth_method is not none (only public clients are supported)')
  let checked
  try {
    checked = checkRegistration({ ...fields, token_endpoint_auth_method: 'none' }, { mode: 'open', knownScopes })
  } catch (err) {
    if (err instanceof GatehouseError) throw new InvalidDocument(err.message)
    throw err
  }
  if (!checked.grantTypes.includes('authorization_code')) throw new InvalidDocument('it does not use the authorization_code grant')
  const namedScope = typeof fields.scope === 'string'
  return {
    isPublic: true,
    secretHash: null,
    grantTypes: ['authorization_code', 'refresh_token'],
    scope: namedScope ? checked.scope : formatScope([...knownScopes].filter((s) => s !== 'admin').sort()),
    redirectUris: checked.redirectUris,
    clientName: checked.clientName,
    clientUri: checked.clientUri,
    logoUri: checked.logoUri,
    registrationMetadata: checked.metadata
  }
}

/**
 * How long a document may be used, in seconds (RFC 9111 §5.2.2): its `max-age`, within DOCUMENT_TTL; `no-store` or
 * `no-cache` the minimum (a document is fetched at most once a minute per instance, whatever it says); none the default.
 */
export function documentTtlSeconds (cacheControl: string | undefined): number {
  const directives = (cacheControl ?? '').toLowerCase().split(',').map((d) => d.trim())
  if (directives.includes('no-store') || directives.includes('no-cache')) return DOCUMENT_TTL.minSeconds
  const maxAge = directives.map((d) => /^max-age\s*=\s*"?(\d{1,10})"?$/.exec(d)?.[1]).find((v) => v !== undefined)
  if (maxAge === undefined) return DOCUMENT_TTL.defaultSeconds
  return Math.min(DOCUMENT_TTL.maxSeconds, Math.max(DOCUMENT_TTL.minSeconds, Number(maxAge)))
}

import { lookup as dnsLookup } from 'node:dns/promises'
import { request as httpRequest } from 'node:http'
import { request } from 'node:https'
import { rootCertificates } from 'node:tls'
import { isIP, type LookupFunction } from 'node:net'
import type { IncomingHttpHeaders } from 'node:http'
import { allowsPlainHttp } from '../oauth/loopback-hosts.js'
import { refusedAddress } from './public-address.js'

/**
 * One careful GET of a small JSON document named by a request (a Client ID Metadata Document): the host resolved
 * once, every address it has checked (lib/upstream/public-address.ts), the connection pinned to the checked address
 * (so a DNS answer that changes between the check and the connection cannot swap it: DNS rebinding), no redirect
 * followed, the body read up to `maxBytes` and no further, and one deadline over all of it (resolution, connection,
 * headers, body). TLS is checked as always (the certificate must name the URL's host).
 */

export interface DocumentFetchOptions {
  timeoutMs: number
  maxBytes: number
  /** The issuer is on loopback (development, tests): loopback addresses may be fetched too. */
  allowLoopback: boolean
  /** How a host name is resolved (every address); node:dns by default. */
  resolve?: (hostname: string) => Promise<Array<{ address: string, family: number }>>
  /** Test-only (AppOptions.documentFetchCa): a certificate trusted besides the system's. */
  extraCa?: string
  /** The content types accepted (default: application/json only); a client's JWK Set may be application/jwk-set+json. */
  contentTypes?: readonly string[]
  /** Plain http to a loopback host is allowed too (with `allowLoopback`: a client's jwks_uri when the issuer is on loopback). */
  allowPlainHttpLoopback?: boolean
  /** Who asks, in the User-Agent (default: client metadata document). */
  purpose?: string
}

export interface FetchedDocument {
  headers: IncomingHttpHeaders
  body: Buffer
}

/** A fetch that was refused or failed: `reason` is safe to log and to show (it names no secret). */
export class DocumentFetchError extends Error {
  constructor (readonly reason: string) {
    super(reason)
    this.name = 'DocumentFetchError'
  }
}

const defaultResolve = async (hostname: string) => await dnsLookup(hostname, { all: true, verbatim: true })

/** The one address to connect to: the host's, each checked; any refused one refuses the host (it could be picked later). */
export async function pinnedAddress (url: URL, options: Pick<DocumentFetchOptions, 'allowLoopback' | 'resolve'>): Promise<{ address: string, family: 4 | 6 }> {
  const host = url.hostname.replace(/^\[|\]$/g, '')
  let addresses: Array<{ address: string, family: number }>
  if (isIP(host) !== 0) addresses = [{ address: host, family: isIP(host) }]
  else {
    try {
      addresses = await (options.resolve ?? defaultResolve)(host)
    } catch {
      throw new DocumentFetchError('its host name does not resolve')
    }
  }
  const first = addresses[0]
  if (first === undefined) throw new DocumentFetchError('its host name does not resolve')
  for (const { address } of addresses) {
    const why = refusedAddress(address, { allowLoopback: options.allowLoopback })
    if (why !== undefined) throw new DocumentFetchError(`its host resolves to ${why}`)
  }
  return { address: first.address, family: first.family === 6 ? 6 : 4 }
}

/** GETs `url` (https only): the 200 answer's headers and body, or a DocumentFetchError saying why not. */
export async function fetchDocument (url: URL, options: DocumentFetchOptions): Promise<FetchedDocument> {
  const plainLoopback = url.protocol === 'http:' && options.allowLoopback && options.allowPlainHttpLoopback === true && allowsPlainHttp(url.hostname)
  if (url.protocol !== 'https:' && !plainLoopback) throw new DocumentFetchError('not an https URL')
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), options.timeoutMs)
  try {
    return await Promise.race([
      connectAndRead(url, options, controller.signal),
      new Promise<never>((_resolve, reject) => {
        controller.signal.addEventListener('abort', () => reject(new DocumentFetchError(`no complete answer within ${options.timeoutMs} ms`)), { once: true })
      })
    ])
  } finally {
    clearTimeout(timer)
    controller.abort()
  }
}

async function connectAndRead (url: URL, options: DocumentFetchOptions, signal: AbortSignal): Promise<FetchedDocument> {
  const pinned = await pinnedAddress(url, options)
  if (signal.aborted) throw new DocumentFetchError('aborted')
  // The connection goes to the checked address whatever the resolver says now; TLS still checks the URL's host name.
  const lookup: LookupFunction = (_hostname, lookupOptions, callback) => {
    if (lookupOptions.all === true) (callback as unknown as (err: null, all: Array<{ address: string, family: number }>) => void)(null, [pinned])
    else callback(null, pinned.address, pinned.family)
  }
  const send = url.protocol === 'http:' ? httpRequest : request
  return await new Promise<FetchedDocument>((resolve, reject) => {
    const req = send(url, {
      method: 'GET',
      lookup,
      signal,
      agent: false,
      ...(options.extraCa === undefined ? {} : { ca: [...rootCertificates, options.extraCa] }),
      headers: { accept: (options.contentTypes ?? ['application/json']).join(', '), 'user-agent': `Gatehouse (${options.purpose ?? 'client metadata document'})` }
    }, (res) => {
      const status = res.statusCode ?? 0
      const fail = (reason: string) => { res.destroy(); reject(new DocumentFetchError(reason)) }
      // §4: the document is at the URL itself; a redirect is never followed (it could lead anywhere).
      if (status >= 300 && status < 400) return fail(`it answered a redirect (HTTP ${status}), which is not followed`)
      if (status !== 200) return fail(`it answered HTTP ${status}`)
      const type = String(res.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
      const accepted = options.contentTypes ?? ['application/json']
      if (type === undefined || !accepted.includes(type)) return fail(`its content type is not ${accepted.join(' or ')}`)
      const declared = Number(res.headers['content-length'])
      if (Number.isFinite(declared) && declared > options.maxBytes) return fail(`it is larger than ${options.maxBytes} bytes`)
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > options.maxBytes) return fail(`it is larger than ${options.maxBytes} bytes`)
        chunks.push(chunk)
      })
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', () => reject(new DocumentFetchError('the connection failed while reading it')))
    })
    req.on('error', (err: NodeJS.ErrnoException) => {
      reject(err instanceof DocumentFetchError ? err : new DocumentFetchError(`it could not be fetched (${err.code ?? 'connection failed'})`))
    })
    req.end()
  })
}

import { allowsPlainHttp } from './loopback-hosts.js'
import type { Client } from '../stores/types.js'

/**
 * What the sign-in pages show of a client an administrator made (admin API, CLI): its name and its logo. The
 * operator vouches for them, so the pages show them plainly (a self-registered client's own words are shown marked as
 * not verified: lib/oauth/registration-metadata.ts has their rules).
 */

/** The bounds of an administrator's client name and logo URL. */
export const CLIENT_DISPLAY_LIMITS = { nameLength: 100, uriLength: 2000 } as const

/** Control and direction-override characters: they could make a name look like another. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const NAME_REFUSED = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const URI_REFUSED = /[\s\u0000-\u001f\u007f'"<>\\]/

/** Why a client name cannot be shown (undefined: it can): 1 to 100 characters once trimmed, no control characters. */
export function clientNameProblem (name: string): string | undefined {
  const trimmed = name.trim()
  if (trimmed === '' || trimmed.length > CLIENT_DISPLAY_LIMITS.nameLength || NAME_REFUSED.test(name)) {
    return `client_name: 1 to ${CLIENT_DISPLAY_LIMITS.nameLength} characters, no control or direction characters`
  }
  return undefined
}

/**
 * Why a logo URL cannot be shown (undefined: it can): an absolute https URL (plain http only on loopback, as redirect
 * URIs), no credentials, no fragment, at most 2000 characters, and nothing a CSP source list or an HTML attribute
 * would read another way (white space, quotes, `;`, `,`): the page's CSP names it exactly (plugins/views.ts).
 */
export function logoUriProblem (uri: string): string | undefined {
  const refused = `logo_uri: an https URL (http only on localhost, 127.0.0.1 or [::1]) of at most ${CLIENT_DISPLAY_LIMITS.uriLength} characters, without credentials, fragment, white space, quotes, ; or ,`
  if (uri.length > CLIENT_DISPLAY_LIMITS.uriLength || URI_REFUSED.test(uri) || /[;,#]/.test(uri)) return refused
  let url: URL
  try { url = new URL(uri) } catch { return refused }
  if (url.username !== '' || url.password !== '' || url.hostname === '') return refused
  if (url.protocol === 'https:') return undefined
  if (url.protocol === 'http:' && allowsPlainHttp(url.hostname)) return undefined
  return refused
}

/** The name as stored: trimmed. */
export const normalClientName = (name: string): string => name.trim()

/**
 * The CSP source that lets a page show this logo and nothing else from its host: its origin and exact path (CSP 3
 * §6.7.2.12 matches a source without a trailing slash against the whole path; a query is not part of a source). Any
 * `;`, `,`, quote or white space a registered client's URL may hold is percent-encoded, so it cannot end the directive.
 */
export function logoSource (logoUri: string): string {
  const url = new URL(logoUri)
  return `${url.origin}${url.pathname}`.replace(/[;,\s'"]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
}

/** What the login and consent pages say about a client. */
export interface ShownClient {
  /** Its name, or its id when it has none (or when the name is a self-registered client's claim: see `verified`). */
  name: string
  /** Its logo's URL, or undefined. */
  logo: string | undefined
}

/**
 * What the pages show of a client: for one an administrator made, its name (else its id) and logo. A client that
 * registered itself (RFC 7591) or is described by a metadata document shows only its id here: its own name and logo
 * are claims, which the consent page alone shows, marked as not verified (views/consent.eta).
 */
export function shownClient (client: Pick<Client, 'id' | 'registration' | 'clientName' | 'logoUri'>): ShownClient {
  if (client.registration !== null) return { name: client.id, logo: undefined }
  return { name: client.clientName ?? client.id, logo: client.logoUri ?? undefined }
}

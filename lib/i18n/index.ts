import { en, type Catalogue, type MessageKey } from './en.js'
import { fr } from './fr.js'

/**
 * The pages' languages (lib/i18n/en.ts, fr.ts: one catalogue each, the same keys), which one a page is in, and its
 * messages as text or as escaped HTML. Which language: the first of the authorization request's `ui_locales` (OIDC
 * Core §3.1.2.1) that Gatehouse has, then the browser's `Accept-Language` (RFC 9110 §12.5.4) by weight, else English.
 */

export const CATALOGUES = { en, fr } as const satisfies Record<string, Catalogue>
export type Locale = keyof typeof CATALOGUES
export const LOCALES = Object.keys(CATALOGUES) as Locale[]
export const DEFAULT_LOCALE: Locale = 'en'
export type { MessageKey }

/** How many language tags are read from either source: a header of a thousand tags costs no more than this. */
const MAX_TAGS = 20
const TAG = /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/

/** The language a tag names, when Gatehouse has it: exactly, or by its primary subtag (`fr-CA` → `fr`). */
function supported (tag: string): Locale | undefined {
  if (!TAG.test(tag)) return undefined
  const primary = tag.toLowerCase().split('-')[0] as string
  return (LOCALES as string[]).includes(primary) ? primary as Locale : undefined
}

/** The tags of an Accept-Language header, best first (a stable sort by `q`; q=0 means "not this one"). */
function acceptedTags (header: string): string[] {
  return header.split(',').slice(0, MAX_TAGS).map((part, index) => {
    const [tag = '', ...params] = part.trim().split(';')
    const q = params.map((p) => /^\s*q=([01](?:\.\d{0,3})?)\s*$/i.exec(p)?.[1]).find((v) => v !== undefined)
    return { tag: tag.trim(), q: q === undefined ? 1 : Number(q), index }
  }).filter((e) => e.q > 0).sort((a, b) => b.q - a.q || a.index - b.index).map((e) => e.tag)
}

/** The page's language: from `ui_locales` (space-separated, in order), then `Accept-Language`, else English. */
export function chooseLocale (sources: { uiLocales?: string | undefined, acceptLanguage?: string | undefined }): Locale {
  for (const tag of (sources.uiLocales ?? '').split(' ').filter(Boolean).slice(0, MAX_TAGS)) {
    const found = supported(tag)
    if (found !== undefined) return found
  }
  for (const tag of acceptedTags(sources.acceptLanguage ?? '')) {
    const found = supported(tag)
    if (found !== undefined) return found
  }
  return DEFAULT_LOCALE
}

/**
 * The `ui_locales` a browser request carries: its own parameter (GET or POST /authorize), else the one in the pending
 * authorization request it carries as `return_to` (a path of ours, with the request's query), which every page of the
 * sign-in (login, second factor, consent) passes on: so the language chosen by the client stays through the sign-in.
 */
export function uiLocalesOf (...fields: Array<Record<string, unknown> | undefined>): string | undefined {
  for (const f of fields) if (typeof f?.ui_locales === 'string') return f.ui_locales
  for (const f of fields) {
    const returnTo = f?.return_to
    if (typeof returnTo !== 'string' || !returnTo.startsWith('/')) continue
    try {
      const value = new URL(returnTo, 'http://gatehouse.invalid').searchParams.get('ui_locales')
      if (value !== null) return value
    } catch {}
  }
  return undefined
}

/** As Eta's own escaping (the templates' `<%= %>`). */
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ENTITIES[c] as string)

/** A value put into a message as HTML: its text, in an element (`strong`, `code`, or `span` with a class). */
export interface Wrapped { text: string, tag: 'strong' | 'code' | 'span', class?: string }

export interface Translator {
  locale: Locale
  /** A message as text, its `{name}`s filled in (the template escapes it). */
  t: (key: MessageKey, values?: Record<string, string | number>) => string
  /** A message as HTML: every part escaped, each value in its element (for `<%~ %>`). */
  th: (key: MessageKey, values: Record<string, Wrapped>) => string
}

/** The messages of one language. A key missing from it (a VIEWS_DIR template newer than the catalogue) falls back to English. */
export function translator (locale: Locale): Translator {
  const catalogue: Catalogue = CATALOGUES[locale]
  const message = (key: MessageKey): string => catalogue[key] ?? en[key] ?? key
  return {
    locale,
    t: (key, values = {}) => message(key).replace(/\{(\w+)\}/g, (all, name: string) => name in values ? String(values[name]) : all),
    th: (key, values) => message(key).split(/(\{\w+\})/).map((part) => {
      const value = /^\{(\w+)\}$/.exec(part)?.[1]
      const wrapped = value === undefined ? undefined : values[value]
      if (wrapped === undefined) return escapeHtml(part)
      const cls = wrapped.class === undefined ? '' : ` class="${escapeHtml(wrapped.class)}"`
      return `<${wrapped.tag}${cls}>${escapeHtml(wrapped.text)}</${wrapped.tag}>`
    }).join('')
  }
}

/** The `{name}`s a message holds (the catalogue test checks every language has the same ones). */
export const placeholders = (text: string): string[] => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string).sort()

import { createHash } from 'node:crypto'
import { lstatSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Asset } from './assets.js'

/**
 * The operator's own files for the pages (ASSETS_DIR): a stylesheet and a logo, and the images the stylesheet
 * loads, served under /assets/ by routes/assets/. Read once at start into memory, so a request names a key of a map
 * and never a path: no `..`, no symlink out of the folder, nothing that appears later. Only plain files with a flat,
 * plain name and a type of the list below; the rest is skipped (and named, so the operator can see why).
 */

/** The types served, by extension: a stylesheet and images; never a script or a page. */
const TYPES: Record<string, string> = {
  css: 'text/css; charset=utf-8',
  png: 'image/png',
  svg: 'image/svg+xml',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  ico: 'image/x-icon'
}
/** A flat name: letters, digits, `.`, `_`, `-`; not starting with a dot. */
const NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/
export const OPERATOR_ASSET_LIMITS = { files: 100, bytes: 2 * 1024 * 1024 } as const
/** The logo names looked for, in this order. */
const LOGOS = ['logo.svg', 'logo.png', 'logo.webp', 'logo.jpg'] as const
export const STYLESHEET = 'theme.css'

export interface OperatorAssets {
  files: Map<string, Asset>
  /** What the layout adds: the stylesheet's and the logo's URLs (with a digest, so a new file is a new URL). */
  brand: { stylesheet?: string, logo?: string }
  /** Files skipped, and why. */
  skipped: string[]
}

const typeOf = (name: string): string | undefined => TYPES[name.slice(name.lastIndexOf('.') + 1).toLowerCase()]

/** The folder's files as served; an empty set without a folder. Throws when the folder cannot be read. */
export function loadOperatorAssets (dir: string | undefined): OperatorAssets {
  const files = new Map<string, Asset>()
  const skipped: string[] = []
  const digests = new Map<string, string>()
  if (dir === undefined) return { files, brand: {}, skipped }
  for (const name of readdirSync(dir).sort()) {
    const type = typeOf(name)
    const stat = lstatSync(join(dir, name))
    if (!NAME.test(name) || type === undefined) { skipped.push(`${name}: not a served name or type`); continue }
    if (!stat.isFile()) { skipped.push(`${name}: not a plain file`); continue }
    if (stat.size > OPERATOR_ASSET_LIMITS.bytes) { skipped.push(`${name}: larger than ${OPERATOR_ASSET_LIMITS.bytes} bytes`); continue }
    if (files.size >= OPERATOR_ASSET_LIMITS.files) { skipped.push(`${name}: past ${OPERATOR_ASSET_LIMITS.files} files`); continue }
    const body = readFileSync(join(dir, name))
    files.set(name, { body, type })
    digests.set(name, createHash('sha256').update(body).digest('hex').slice(0, 12))
  }
  const url = (name: string): string | undefined => digests.has(name) ? `/assets/${name}?v=${digests.get(name) ?? ''}` : undefined
  const logo = LOGOS.find((n) => files.has(n))
  const stylesheet = url(STYLESHEET)
  const logoUrl = logo === undefined ? undefined : url(logo)
  return { files, brand: { ...(stylesheet === undefined ? {} : { stylesheet }), ...(logoUrl === undefined ? {} : { logo: logoUrl }) }, skipped }
}

/** An operator's file's own policy: an SVG opened by itself runs nothing and loads nothing. */
export const OPERATOR_ASSET_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
/** An hour: the pages name each file with its digest, but the file itself keeps its name. */
export const OPERATOR_ASSET_CACHE_CONTROL = 'public, max-age=3600'

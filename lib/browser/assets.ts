import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The scripts the pages load, served by Gatehouse itself (routes/assets/): nothing from a CDN, nothing inline. Each is
 * named with a digest of its content, so it can be cached for a year and a new version is a new URL. The pages load
 * them with their CSP nonce (plugins/views.ts `script: true`).
 */

/** Where the project's own browser scripts are: assets/ at the package root (from dist/lib/browser/). */
const OWN = fileURLToPath(new URL('../../../assets/', import.meta.url))

export interface Asset { body: Buffer, type: string }

/** The passkey pages' two scripts: @simplewebauthn/browser's UMD bundle (global SimpleWebAuthnBrowser), then ours. */
const SOURCES = {
  webauthn: () => join(dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')), '..', 'dist', 'bundle', 'index.umd.min.js'),
  passkeys: () => join(OWN, 'passkeys.js')
} as const
export type AssetName = keyof typeof SOURCES

let loaded: { byFile: Map<string, Asset>, urls: Record<AssetName, string> } | undefined

function load (): NonNullable<typeof loaded> {
  const byFile = new Map<string, Asset>()
  const urls = {} as Record<AssetName, string>
  for (const [name, path] of Object.entries(SOURCES) as Array<[AssetName, () => string]>) {
    const body = readFileSync(path())
    const file = `${name}.${createHash('sha256').update(body).digest('hex').slice(0, 12)}.js`
    byFile.set(file, { body, type: 'text/javascript; charset=utf-8' })
    urls[name] = `/assets/${file}`
  }
  return { byFile, urls }
}

/** The asset a file name under /assets/ names (read once, on first use). */
export const assetFile = (file: string): Asset | undefined => (loaded ??= load()).byFile.get(file)

/** The URL of each script, for the page templates. */
export const assetUrls = (): Record<AssetName, string> => (loaded ??= load()).urls

/** A year: the name changes with the content. */
export const ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable'

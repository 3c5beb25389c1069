import type { Clock } from '../clock.js'
import type { ClientStore } from '../stores/types.js'

/**
 * Which browser origins may call the endpoints single-page apps need (/token, /revoke, /userinfo, the JWKS
 * and the metadata): exactly the origins of the redirect URIs registered by public clients, plus CORS_ORIGINS.
 * Never `*`, never a reflected stranger. The list is read from the store at most every REFRESH_MS (a client
 * registered or removed takes effect within that time on every instance).
 */
const REFRESH_MS = 5_000

/** `scheme://host[:port]`, exactly as browsers send it in `Origin` (RFC 6454 serialisation). */
export function parseOrigins (value: string): string[] {
  const origins = value.split(',').map((o) => o.trim()).filter(Boolean)
  for (const origin of origins) {
    let url: URL | undefined
    try { url = new URL(origin) } catch {}
    if (!url || url.origin !== origin || !/^https?:$/.test(url.protocol)) {
      throw new Error(`not an origin (scheme://host[:port], nothing after it): ${JSON.stringify(origin)}`)
    }
  }
  return origins
}

export function originOf (uri: string): string | undefined {
  try {
    const origin = new URL(uri).origin
    return origin === 'null' ? undefined : origin
  } catch {
    return undefined
  }
}

export class CorsPolicy {
  readonly #clients: ClientStore
  readonly #extra: ReadonlySet<string>
  readonly #clock: Clock
  #origins: ReadonlySet<string> = new Set()
  #readAt = -Infinity
  #reading: Promise<void> | undefined

  constructor (deps: { clients: ClientStore, extraOrigins: string[], clock: Clock }) {
    this.#clients = deps.clients
    this.#extra = new Set(deps.extraOrigins)
    this.#clock = deps.clock
  }

  /** Whether `origin` may read replies of the CORS-enabled endpoints. A store failure keeps the last list. */
  async allows (origin: string): Promise<boolean> {
    if (this.#extra.has(origin)) return true
    if (this.#clock.nowMs() - this.#readAt >= REFRESH_MS) await (this.#reading ??= this.#refresh())
    return this.#origins.has(origin)
  }

  async #refresh (): Promise<void> {
    try {
      const uris = await this.#clients.publicRedirectUris()
      this.#origins = new Set(uris.map(originOf).filter((o): o is string => o !== undefined))
      this.#readAt = this.#clock.nowMs()
    } catch {
      // Keep the last list; the next request tries again.
    } finally {
      this.#reading = undefined
    }
  }
}

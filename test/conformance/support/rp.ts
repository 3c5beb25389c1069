import https from 'node:https'
import type { IncomingHttpHeaders } from 'node:http'
import type { Test } from 'tap'
import { listenOn, TLS } from './tls.js'

/** A request the conformance RP received: a redirect back from the OP (a callback, a post-logout redirect). */
export interface Arrival {
  method: string
  /** The path below the RP's base URL: `callback`, `post_logout_redirect`, `callback/<random>`… */
  path: string
  query: Record<string, string>
  headers: IncomingHttpHeaders
  /** The body's form fields, when the body is a form (response_mode=form_post). */
  form: Record<string, string> | undefined
  /** The URL fragment the browser kept (a server never sees it; the user agent reports it). */
  fragment: Record<string, string>
}

const BLANK = '_blank'

/** The fields of a query string or form body, the first value of each (as the suite's environment keeps them). */
export function fieldsOf (params: URLSearchParams): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const [name, value] of params) if (!(name in fields)) fields[name] = value
  return fields
}

/**
 * The conformance RP's web server (the suite's `https://…/test/a/<alias>/` endpoints): every request under its base
 * URL is recorded and answered with a small page, so a browser can land on it. The modules then read what arrived,
 * as the suite's `handleHttp` does.
 */
export class RelyingParty {
  readonly arrivals: Arrival[] = []
  #port = 0
  readonly #documents = new Map<string, { contentType: string, body: string }>()

  /** Serves `body` at `path` below the base URL (the suite's handleHttp for a request_uri). */
  serve (path: string, contentType: string, body: string): void {
    this.#documents.set(path, { contentType, body })
  }

  get origin (): string { return `https://127.0.0.1:${this.#port}` }
  /** The suite's base URL shape: https://…/test/a/<alias>. */
  get baseUrl (): string { return `${this.origin}/test/a/gatehouse` }

  static async start (t: Test): Promise<RelyingParty> {
    const rp = new RelyingParty()
    const server = https.createServer(TLS, (req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        const url = new URL(req.url ?? '/', rp.origin)
        const prefix = new URL(rp.baseUrl).pathname + '/'
        if (!url.pathname.startsWith(prefix)) {
          res.statusCode = 404
          res.end()
          return
        }
        res.setHeader('content-type', 'text/html; charset=utf-8')
        // A blank page of the RP's own (a browser starts a POST authorization request from it): not a redirect back.
        if (url.pathname === `${prefix}${BLANK}`) {
          res.end('<!doctype html><title>conformance RP</title>')
          return
        }
        // A document the RP serves (a request object by reference): recorded, then answered with it.
        const served = rp.#documents.get(url.pathname.slice(prefix.length))
        const body = Buffer.concat(chunks).toString('utf8')
        const isForm = (req.headers['content-type'] ?? '').split(';')[0]?.trim() === 'application/x-www-form-urlencoded'
        rp.arrivals.push({
          method: req.method ?? 'GET',
          path: url.pathname.slice(prefix.length),
          query: fieldsOf(url.searchParams),
          headers: req.headers,
          form: isForm ? fieldsOf(new URLSearchParams(body)) : undefined,
          fragment: {}
        })
        if (served !== undefined) {
          res.setHeader('content-type', served.contentType)
          res.end(served.body)
          return
        }
        res.end('<!doctype html><title>conformance RP</title><p>The conformance RP received this request.</p>')
      })
    })
    rp.#port = await listenOn(server, 0)
    t.teardown(() => new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    }))
    return rp
  }

  /** A page of the RP's that it does not record (where a browser starts from). */
  get blankPage (): string { return `${this.baseUrl}/${BLANK}` }

  /** Whether a URL is the RP's (a browser reaching it is back at the client). */
  owns (url: string): boolean {
    try {
      return new URL(url).origin === this.origin
    } catch {
      return false
    }
  }

  /** How many requests have arrived so far: pass it to `since` after a browser visit. */
  mark (): number {
    return this.arrivals.length
  }

  since (mark: number): Arrival[] {
    return this.arrivals.slice(mark)
  }
}

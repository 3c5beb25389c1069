import https from 'node:https'
import type { IncomingHttpHeaders } from 'node:http'
import { TLS } from './tls.js'

/** An HTTP exchange as the suite's conditions read it: status, headers (lowercase names), the body as text. */
export interface HttpResult {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

export interface HttpRequest {
  method?: string
  headers?: Record<string, string>
  body?: string
}

/** One HTTPS request trusting the test certificate (tls.ts); no redirect is followed. */
export function httpsRequest (url: string, request: HttpRequest = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: request.method ?? 'GET', headers: request.headers ?? {}, ca: TLS.cert, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(request.body)
  })
}

/** The JSON of a response, or undefined when it is none. */
export function jsonOf (result: HttpResult): unknown {
  try {
    return JSON.parse(result.body) as unknown
  } catch {
    return undefined
  }
}

/** A header's value, the first one when repeated. */
export function header (result: { headers: IncomingHttpHeaders }, name: string): string | undefined {
  const value = result.headers[name.toLowerCase()]
  return Array.isArray(value) ? value[0] : value
}

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded'

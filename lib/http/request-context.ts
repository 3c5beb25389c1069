import { randomUUID } from 'node:crypto'
import { isIP } from 'node:net'
import type { IncomingMessage } from 'node:http'

/**
 * Who is asking, as far as the transport can tell: the request id every log line of a request carries,
 * and the client address behind a trusted reverse proxy.
 */

/** An incoming X-Request-Id is kept when it is this tame (so it can go into logs and headers as it is). */
const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/

/**
 * The id of a request (Fastify's `genReqId`): the caller's `X-Request-Id` when it is a short token of safe
 * characters (a proxy or a calling service then finds its own id in our logs), else a random UUID (never
 * a counter: ids from several instances or restarts must not collide).
 */
export function requestId (req: IncomingMessage): string {
  const given = req.headers['x-request-id']
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
}

/**
 * TRUST_PROXY as Fastify's `trustProxy` takes it: `true` (trust every hop), a hop count, or a comma-separated
 * list of addresses and CIDR ranges (and proxy-addr's names `loopback`, `linklocal`, `uniquelocal`). Undefined
 * means off: `request.ip` is the socket's address and X-Forwarded-For is ignored.
 */
export function parseTrustProxy (value: string): boolean | number | string[] {
  if (value === 'true') return true
  if (value === 'false') return false
  if (/^[0-9]+$/.test(value)) return Number(value)
  const entries = value.split(',').map((e) => e.trim()).filter(Boolean)
  const bad = entries.find((e) => !isAddressOrRange(e))
  if (bad !== undefined || entries.length === 0) throw new Error(`not an address, CIDR range or hop count: ${JSON.stringify(bad ?? value)}`)
  return entries
}

const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal'])

function isAddressOrRange (entry: string): boolean {
  if (NAMED_RANGES.has(entry)) return true
  const [address = '', bits, extra] = entry.split('/')
  const version = isIP(address)
  if (version === 0 || extra !== undefined) return false
  if (bits === undefined) return true
  return /^[0-9]{1,3}$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128)
}

import { randomUUID } from 'node:crypto'
import { BlockList, isIP } from 'node:net'
import type { IncomingMessage } from 'node:http'

/**
 * Who is asking, as far as the transport can tell: the request id every log line of a request carries,
 * and the client address behind a trusted reverse proxy.
 */

/** An incoming X-Request-Id is kept when it is this tame (so it can go into logs and headers as it is). */
const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/

/** TRUST_PROXY as parsed (parseTrustProxy), or undefined when unset. */
export type TrustProxy = boolean | number | string[] | undefined

/**
 * The request-id function (Fastify's `genReqId`) for a TRUST_PROXY setting: a caller's `X-Request-Id` is kept only
 * when the peer is a trusted proxy (TRUST_PROXY) and the id is a short token of safe characters (the proxy's id
 * then leads from its logs to ours); otherwise, and always without TRUST_PROXY, a random UUID (never a counter: ids
 * from several instances or restarts must not collide). A client's own id would let it plant lines under another
 * request's id in the logs, or collide with one on purpose.
 */
export function requestIdGenerator (trustProxy: TrustProxy): (req: IncomingMessage) => string {
  const trusted = peerTrusted(trustProxy)
  return (req) => {
    const given = req.headers['x-request-id']
    return typeof given === 'string' && REQUEST_ID.test(given) && trusted(req.socket?.remoteAddress) ? given : randomUUID()
  }
}

/**
 * Whether the peer (the socket's address) is a proxy TRUST_PROXY trusts, as Fastify decides for X-Forwarded-For:
 * `true` and a hop count of 1 or more trust the nearest hop whoever it is; a list trusts its addresses and ranges.
 */
export function peerTrusted (trustProxy: TrustProxy): (address: string | undefined) => boolean {
  if (trustProxy === undefined || trustProxy === false || trustProxy === 0) return () => false
  if (trustProxy === true || typeof trustProxy === 'number') return () => true
  const list = new BlockList()
  for (const entry of trustProxy.flatMap((e) => NAMED_RANGE_CIDRS[e] ?? [e])) {
    const [address = '', bits] = entry.split('/')
    const family = isIP(address) === 4 ? 'ipv4' : 'ipv6'
    if (bits === undefined) list.addAddress(address, family)
    else list.addSubnet(address, Number(bits), family)
  }
  return (address) => {
    if (address === undefined) return false
    const version = isIP(address)
    return version !== 0 && list.check(address, version === 4 ? 'ipv4' : 'ipv6')
  }
}

/** proxy-addr's named ranges (what Fastify's trustProxy accepts by name). */
const NAMED_RANGE_CIDRS: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']
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

const NAMED_RANGES = new Set(Object.keys(NAMED_RANGE_CIDRS))

function isAddressOrRange (entry: string): boolean {
  if (NAMED_RANGES.has(entry)) return true
  const [address = '', bits, extra] = entry.split('/')
  const version = isIP(address)
  if (version === 0 || extra !== undefined) return false
  if (bits === undefined) return true
  return /^[0-9]{1,3}$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128)
}

import { isIPv4, isIPv6 } from 'node:net'

/**
 * The one key every per-address limit counts under (sign-in failures, upstream starts, the hash queue's share).
 * An IPv4 address is itself. An IPv6 address is its network: one subscriber is routinely given a whole /64 (RFC
 * 6177, RFC 8273), so its 2^64 addresses are one client; keying on the full address would let one machine take a
 * fresh address per request and never be limited. An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a socket
 * listening on `::` reports for an IPv4 peer) is the IPv4 address it maps, so both spellings count together.
 */

/** How much of an IPv6 address names one client by default (IPV6_PREFIX_LENGTH, lib/config.ts). */
export const DEFAULT_IPV6_PREFIX_LENGTH = 64

/**
 * `ip` as the limits see it: an IPv4 address as it is; an IPv6 address as its first `prefixLength` bits, written
 * `2001:db8:1:2::/64`; anything that is not an address (no socket address at all) as it is.
 */
export function addressKey (ip: string, prefixLength = DEFAULT_IPV6_PREFIX_LENGTH): string {
  if (isIPv4(ip)) return ip
  const zoneless = ip.includes('%') ? ip.slice(0, ip.indexOf('%')) : ip
  if (!isIPv6(zoneless)) return ip
  const groups = ipv6Groups(zoneless)
  if (isMappedIPv4(groups)) return `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`
  const bits = Math.max(0, Math.min(128, prefixLength))
  const masked = groups.map((group, i) => {
    const keep = Math.max(0, Math.min(16, bits - i * 16))
    return keep === 0 ? 0 : group & (0xffff << (16 - keep)) & 0xffff
  })
  return `${compress(masked)}/${bits}`
}

/** `::ffff:a.b.c.d`: the first 80 bits zero, the next 16 ones. */
const isMappedIPv4 = (groups: number[]): boolean => groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted IPv4 tail as its two groups). */
function ipv6Groups (ip: string): number[] {
  let text = ip
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const parse = (part: string) => part === '' ? [] : part.split(':').map((g) => parseInt(g, 16))
  const front = parse(head)
  if (tail === undefined) return front
  const back = parse(tail)
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back]
}

/** RFC 5952 text: lower-case hex without leading zeros, the longest run of two or more zero groups as `::`. */
function compress (groups: number[]): string {
  let best = { start: -1, length: 0 }
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== 0) { i++; continue }
    let j = i
    while (j < groups.length && groups[j] === 0) j++
    if (j - i > best.length && j - i >= 2) best = { start: i, length: j - i }
    i = j
  }
  const hex = groups.map((g) => g.toString(16))
  if (best.start < 0) return hex.join(':')
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`
}

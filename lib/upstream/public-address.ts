import { BlockList, isIP } from 'node:net'

/**
 * Which addresses Gatehouse may connect to when a request makes it fetch a URL (a Client ID Metadata Document:
 * draft-ietf-oauth-client-id-metadata-document §6, server-side request forgery). Only public unicast addresses:
 * never the machine itself, its private networks, link-local ones (169.254.169.254 is the cloud metadata service),
 * carrier-grade NAT, multicast or reserved ranges. Loopback is allowed only when the issuer itself is on loopback
 * (development and tests), and then only loopback, never the private ranges.
 */

const loopback = new BlockList()
loopback.addSubnet('127.0.0.0', 8, 'ipv4')
loopback.addAddress('::1', 'ipv6')

/** Every range refused whatever the issuer (RFC 6890 special-purpose registries, the ones that are not global). */
const refused = new BlockList()
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network", 0.0.0.0 the unspecified address
  ['10.0.0.0', 8], // RFC 1918 private
  ['100.64.0.0', 10], // RFC 6598 carrier-grade NAT
  ['169.254.0.0', 16], // RFC 3927 link-local, the cloud metadata address among them
  ['172.16.0.0', 12], // RFC 1918
  ['192.0.0.0', 24], // RFC 6890 IETF protocol assignments
  ['192.0.2.0', 24], // RFC 5737 documentation
  ['192.168.0.0', 16], // RFC 1918
  ['198.18.0.0', 15], // RFC 2544 benchmarking
  ['198.51.100.0', 24], // RFC 5737
  ['203.0.113.0', 24], // RFC 5737
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4] // reserved, and the broadcast address
] as const) refused.addSubnet(network, prefix, 'ipv4')
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['100::', 64], // RFC 6666 discard
  ['2001:db8::', 32], // RFC 3849 documentation
  ['fc00::', 7], // RFC 4193 unique local (private)
  ['fe80::', 10], // link-local
  ['ff00::', 8] // multicast
] as const) refused.addSubnet(network, prefix, 'ipv6')

/** The IPv4 address an IPv6 one carries (IPv4-mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96), judged as that address. */
function embeddedIpv4 (address: string): string | undefined {
  const lower = address.toLowerCase()
  const mapped = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower)
  if (mapped) return mapped[1]
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower)
  if (!hex) return undefined
  const high = parseInt(hex[1] ?? '0', 16)
  const low = parseInt(hex[2] ?? '0', 16)
  return [high >> 8, high & 255, low >> 8, low & 255].join('.')
}

/**
 * Why Gatehouse must not connect to `address` (an IP literal, v4 or v6), or undefined when it may. `allowLoopback`:
 * the issuer is on loopback, so loopback addresses are allowed too.
 */
export function refusedAddress (address: string, options: { allowLoopback: boolean }): string | undefined {
  const family = isIP(address)
  if (family === 0) return 'not an IP address'
  if (family === 6) {
    const inner = embeddedIpv4(address)
    if (inner !== undefined) return refusedAddress(inner, options)
  }
  const type = family === 4 ? 'ipv4' : 'ipv6'
  if (loopback.check(address, type)) return options.allowLoopback ? undefined : 'a loopback address'
  if (refused.check(address, type)) return 'a private, link-local or reserved address'
  return undefined
}

/** Whether a URL host (as URL.hostname gives it: IPv6 in brackets) is the machine itself: localhost or a loopback literal. */
export function isLoopbackHost (hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '')
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true
  return isIP(bare) !== 0 && refusedAddress(bare, { allowLoopback: false }) === 'a loopback address'
}

import t from 'tap'
import fc from 'fast-check'
import { BlockList } from 'node:net'
import { addressKey } from '../../../lib/limits/address-key.js'

// addressKey (lib/limits/address-key.ts): the key of every per-address limit. IPv6 by its network, IPv4-mapped
// IPv6 as the IPv4 address, IPv4 as it is.

t.test('IPv4 is its own key', async (t) => {
  t.equal(addressKey('192.0.2.1'), '192.0.2.1')
  t.equal(addressKey('203.0.113.255', 48), '203.0.113.255', 'the IPv6 prefix length does not apply')
})

t.test('IPv4-mapped IPv6 is the IPv4 address, in either spelling', async (t) => {
  t.equal(addressKey('::ffff:192.0.2.1'), '192.0.2.1')
  t.equal(addressKey('::FFFF:192.0.2.1'), '192.0.2.1')
  t.equal(addressKey('::ffff:c000:201'), '192.0.2.1')
  t.equal(addressKey('0:0:0:0:0:ffff:192.0.2.1'), '192.0.2.1')
  t.not(addressKey('64:ff9b::192.0.2.1'), '192.0.2.1', 'a NAT64 address is an IPv6 network, not the IPv4 address')
})

t.test('IPv6: every address of one /64 has one key, the next /64 another', async (t) => {
  const key = addressKey('2001:db8:1:2::1')
  t.equal(key, '2001:db8:1:2::/64')
  for (const same of ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002:abcd:0:0:1', '2001:DB8:1:2:1:2:3:4', '2001:db8:1:2::9%eth0']) {
    t.equal(addressKey(same), key, same)
  }
  t.equal(addressKey('2001:db8:1:3::1'), '2001:db8:1:3::/64', 'the neighbouring /64')
  t.equal(addressKey('::1'), '::/64')
  t.equal(addressKey('fe80::1%eth0'), 'fe80::/64', 'a zone id is not part of the key')
})

t.test('IPv6: the prefix length is configurable (IPV6_PREFIX_LENGTH)', async (t) => {
  t.equal(addressKey('2001:db8:1:2::1', 48), '2001:db8:1::/48')
  t.equal(addressKey('2001:db8:1:2::1', 56), '2001:db8:1::/56')
  t.equal(addressKey('2001:db8:1:2ff::1', 56), '2001:db8:1:200::/56', 'bits past the prefix are cleared inside a group')
  t.equal(addressKey('2001:db8:1:2:3:4:5:6', 128), '2001:db8:1:2:3:4:5:6/128', '128: every address on its own')
})

t.test('not an address: as it is (never thrown)', async (t) => {
  for (const odd of ['', 'unknown', '2001:db8::g', '1.2.3']) t.equal(addressKey(odd), odd, JSON.stringify(odd))
})

t.test('property: the key names a network that holds the address, and the whole /64 shares it', async (t) => {
  fc.assert(fc.property(fc.ipV6(), fc.integer({ min: 16, max: 128 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (ip, prefix, low) => {
    const key = addressKey(ip, prefix)
    if (!key.includes('/')) return key.includes('.') // an IPv4-mapped address
    const [network = '', bits] = key.split('/')
    const list = new BlockList()
    list.addSubnet(network, Number(bits), 'ipv6')
    if (!list.check(ip, 'ipv6')) return false
    if (prefix > 64) return true
    // Any address sharing the first 64 bits has the same key.
    const groups = key64Sibling(ip, low)
    return addressKey(groups, prefix) === key
  }), { numRuns: 2000, seed: 22 })
  t.pass('2,000 random addresses and prefix lengths')
})

/** `ip` with its low 64 bits replaced by `low`. */
function key64Sibling (ip: string, low: bigint): string {
  const head = expand(ip).slice(0, 4)
  const tail = [48n, 32n, 16n, 0n].map((shift) => Number((low >> shift) & 0xffffn).toString(16))
  return [...head, ...tail].join(':')
}

/** The eight groups of an IPv6 address, from Node's own parser (URL host canonicalisation). */
function expand (ip: string): string[] {
  const host = new URL(`http://[${ip}]/`).hostname.slice(1, -1)
  const [front = '', back] = host.split('::')
  const a = front === '' ? [] : front.split(':')
  if (back === undefined) return a
  const b = back === '' ? [] : back.split(':')
  return [...a, ...new Array<string>(8 - a.length - b.length).fill('0'), ...b]
}

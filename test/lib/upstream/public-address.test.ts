import t from 'tap'
import { isLoopbackHost, refusedAddress } from '../../../lib/upstream/public-address.js'
import { DocumentFetchError, pinnedAddress } from '../../../lib/upstream/document-fetch.js'

// lib/upstream/public-address.ts: the addresses a Client ID Metadata Document fetch may connect to (SECURITY-CASES D3).

const strict = { allowLoopback: false }

t.test('private, link-local, CGNAT, multicast, reserved and unspecified addresses are refused', async (t) => {
  for (const address of ['10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.255.254', '192.168.1.1', '169.254.169.254', '169.254.0.1',
    '100.64.0.1', '100.127.255.254', '0.0.0.0', '224.0.0.1', '239.255.255.250', '255.255.255.255', '198.18.0.1',
    'fc00::1', 'fd12:3456::1', 'fe80::1', 'ff02::1', '::', '::ffff:10.0.0.1', '::ffff:a9fe:a9fe', '64:ff9b::a9fe:a9fe']) {
    t.equal(refusedAddress(address, strict), 'a private, link-local or reserved address', address)
    t.equal(refusedAddress(address, { allowLoopback: true }), 'a private, link-local or reserved address', `${address}, issuer on loopback too`)
  }
})

t.test('loopback is refused unless the issuer is on loopback', async (t) => {
  for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) {
    t.equal(refusedAddress(address, strict), 'a loopback address', address)
    t.equal(refusedAddress(address, { allowLoopback: true }), undefined, `${address} with the issuer on loopback`)
  }
})

t.test('public addresses are allowed', async (t) => {
  for (const address of ['93.184.216.34', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
    t.equal(refusedAddress(address, strict), undefined, address)
  }
  t.equal(refusedAddress('example.com', strict), 'not an IP address')
})

t.test('the issuer is on loopback: localhost and loopback literals', async (t) => {
  for (const host of ['localhost', 'app.localhost', '127.0.0.1', '[::1]']) t.ok(isLoopbackHost(host), host)
  for (const host of ['gatehouse.test', '10.0.0.1', 'example.com', '[fe80::1]']) t.notOk(isLoopbackHost(host), host)
})

t.test('a host is refused when any of its addresses is (the connection is pinned to a checked one)', async (t) => {
  const resolve = async () => [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.5', family: 4 }]
  await t.rejects(pinnedAddress(new URL('https://mixed.test/x'), { allowLoopback: false, resolve }), DocumentFetchError)
  const ok = await pinnedAddress(new URL('https://public.test/x'), { allowLoopback: false, resolve: async () => [{ address: '93.184.216.34', family: 4 }] })
  t.same(ok, { address: '93.184.216.34', family: 4 })
  await t.rejects(pinnedAddress(new URL('https://[fd00::1]/x'), { allowLoopback: false }), { message: 'its host resolves to a private, link-local or reserved address' })
  await t.rejects(pinnedAddress(new URL('https://nowhere.test/x'), { allowLoopback: false, resolve: async () => { throw new Error('ENOTFOUND') } }), { message: 'its host name does not resolve' })
})

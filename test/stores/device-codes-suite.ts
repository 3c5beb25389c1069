import type { Test } from 'tap'
import { ConflictError, type DeviceApproval, type DeviceCode, type Storage } from '../../lib/stores/types.js'

/** The device code store (RFC 8628): one behavioural suite run unchanged against SQLite and PostgreSQL. */
export function deviceCodeStoreSuite (t: Test, open: () => Promise<Storage>): void {
  const now = 1_800_000_000
  const code = (hash: string, userCode: string, over: Partial<DeviceCode> = {}): DeviceCode => ({
    hash, userCode, clientId: 'tv', scope: 'openid items:read', resources: [], status: 'pending', approval: null, interval: 5, lastPollAt: null, createdAt: now, expiresAt: now + 600, ...over
  })
  async function setup (t: Test): Promise<Storage> {
    const s = await open()
    t.teardown(() => s.close())
    await s.clients.create({ id: 'tv', secretHash: null, isPublic: true, grantTypes: ['urn:ietf:params:oauth:grant-type:device_code'], scope: null, redirectUris: [] })
    return s
  }

  t.test('device codes: stored, found by digest and by live pending user code; user codes unique', async (t) => {
    const s = await setup(t)
    await s.deviceCodes.create(code('d1', 'BCDFGHJK', { resources: ['https://api.test/'] }))
    t.same(await s.deviceCodes.find('d1'), code('d1', 'BCDFGHJK', { resources: ['https://api.test/'] }))
    t.equal((await s.deviceCodes.findPending('BCDFGHJK', now))?.hash, 'd1')
    t.equal(await s.deviceCodes.findPending('BCDFGHJK', now + 600), undefined, 'expired: not found')
    t.equal(await s.deviceCodes.findPending('bcdfghjk', now), undefined, 'compared byte for byte')
    await t.rejects(s.deviceCodes.create(code('d2', 'BCDFGHJK')), ConflictError, 'a user code is taken once')
    t.equal(await s.deviceCodes.find('d\u0000'), undefined, 'a NUL finds nothing')
    t.equal(await s.deviceCodes.findPending('B\u0000', now), undefined)
  })

  t.test('device codes: polls on time pass, sooner ones grow the interval by the step, atomically', async (t) => {
    const s = await setup(t)
    await s.deviceCodes.create(code('d1', 'BCDFGHJK'))
    t.match(await s.deviceCodes.poll('d1', now, 5), { tooSoon: false, code: { interval: 5, lastPollAt: now } }, 'the first poll is on time')
    t.match(await s.deviceCodes.poll('d1', now + 4, 5), { tooSoon: true, code: { interval: 10, lastPollAt: now + 4 } }, '4 s later: too soon, +5 s')
    t.match(await s.deviceCodes.poll('d1', now + 13, 5), { tooSoon: true, code: { interval: 15 } }, '9 s after: too soon for 10 s')
    t.match(await s.deviceCodes.poll('d1', now + 28, 5), { tooSoon: false, code: { interval: 15 } }, '15 s after: on time')
    const polls = await Promise.all(Array.from({ length: 6 }, () => s.deviceCodes.poll('d1', now + 100, 5)))
    t.equal(polls.filter((p) => p?.tooSoon === false).length, 1, 'of six at once, one is on time')
    t.equal((await s.deviceCodes.find('d1'))?.interval, 15 + 5 * 5, 'each of the others grew it')
    t.equal(await s.deviceCodes.poll('nope', now, 5), undefined)
  })

  t.test('device codes: decided once while pending and live; redeemed once', async (t) => {
    const s = await setup(t)
    const alice = await s.users.create({ username: 'alice', passwordHash: null })
    const approval: DeviceApproval = { userId: alice.id, scope: 'openid', authTime: now - 5, amr: ['pwd', 'otp'], sid: 'sid-1', credentialVersion: 0 }
    await s.deviceCodes.create(code('d1', 'BCDFGHJK'))
    await s.deviceCodes.create(code('d2', 'CDFGHJKL'))
    await s.deviceCodes.create(code('d3', 'DFGHJKLM', { expiresAt: now + 10 }))
    t.equal(await s.deviceCodes.redeem('d1', now), undefined, 'pending: nothing to redeem')
    t.ok(await s.deviceCodes.decide('BCDFGHJK', now, { approval }))
    t.notOk(await s.deviceCodes.decide('BCDFGHJK', now, 'denied'), 'decided already')
    t.equal(await s.deviceCodes.findPending('BCDFGHJK', now), undefined, 'no longer pending')
    t.same((await s.deviceCodes.find('d1'))?.approval, approval)
    t.ok(await s.deviceCodes.decide('CDFGHJKL', now, 'denied'))
    t.match(await s.deviceCodes.find('d2'), { status: 'denied', approval: null })
    t.notOk(await s.deviceCodes.decide('DFGHJKLM', now + 10, { approval }), 'expired: cannot be approved')
    const redeemed = await Promise.all(Array.from({ length: 8 }, () => s.deviceCodes.redeem('d1', now + 1)))
    t.equal(redeemed.filter((r) => r !== undefined).length, 1, 'of eight at once, exactly one redeems it')
    t.match(await s.deviceCodes.find('d1'), { status: 'used' })
    t.equal(await s.deviceCodes.redeem('d2', now), undefined, 'denied: nothing to redeem')
  })

  t.test('device codes: purged once expired; gone with their client', async (t) => {
    const s = await setup(t)
    await s.deviceCodes.create(code('old', 'BCDFGHJK', { expiresAt: now }))
    await s.deviceCodes.create(code('live', 'CDFGHJKL'))
    t.equal(await s.deviceCodes.purgeExpired(now), 1)
    t.match(await s.housekeeping.tableRows(), { device_codes: 1 })
    await s.clients.delete('tv')
    t.equal(await s.deviceCodes.find('live'), undefined, 'a deleted client\'s requests go with it')
  })
}

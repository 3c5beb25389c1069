import t from 'tap'
import { eventRecord, EventRecorder, type DropReason } from '../../../lib/ops/event-records.js'
import { usernameDigest, type SecurityEvent } from '../../../lib/ops/events.js'
import type { NewSecurityEvent } from '../../../lib/stores/types.js'

t.test('eventRecord: user by id or by the username\'s digest (never the name as typed), actor/target, the rest as details', async (t) => {
  t.same(eventRecord({ type: 'login_failed', username: 'my secret password', clientId: 'app', ip: '192.0.2.1' }, 5),
    { at: 5, type: 'login_failed', user: usernameDigest('my secret password'), clientId: 'app', actor: null, target: null, ip: '192.0.2.1', details: {} })
  t.notMatch(JSON.stringify(eventRecord({ type: 'login_failed', username: 'my secret password', clientId: 'app', ip: '192.0.2.1' }, 5)), /secret/)
  t.same(eventRecord({ type: 'consent_revoked', userId: 'u1', clientId: 'app', ip: '::1', grants: 2 }, 6),
    { at: 6, type: 'consent_revoked', user: 'u1', clientId: 'app', actor: null, target: null, ip: '::1', details: { grants: 2 } })
  t.same(eventRecord({ type: 'admin_change', actor: 'root', action: 'POST /admin/users', target: 'dora', fields: ['username'] }, 7),
    { at: 7, type: 'admin_change', user: null, clientId: null, actor: 'root', target: 'dora', ip: null, details: { action: 'POST /admin/users', fields: ['username'] } })
  t.match(eventRecord({ type: 'invitation_sent', actor: 'root', invitationId: 'inv-1' }, 8), { actor: 'root', target: 'inv-1', details: {} })
  t.match(eventRecord({ type: 'factors_reset', actor: 'root', userId: 'u2', scope: 'all', count: 3 }, 9), { actor: 'root', user: 'u2', target: null, details: { scope: 'all', count: 3 } })
  const odd = eventRecord({ type: 'client_auth_failed', clientId: `a\u0000${'x'.repeat(2000)}`, method: 'none', endpoint: '/token', reason: 'r\u0000', ip: '192.0.2.1' }, 1)
  t.equal(odd.clientId, 'a' + 'x'.repeat(511), 'no NUL, at most 512 characters')
  t.same(odd.details, { method: 'none', endpoint: '/token', reason: 'r' })
})

function recorder (options: { bufferMax?: number, perAddressPerMinute?: number, append?: (events: NewSecurityEvent[]) => Promise<void> } = {}) {
  let now = 1_000_000
  const stored: NewSecurityEvent[] = []
  const drops: Record<DropReason, number> = { buffer: 0, address: 0, store: 0 }
  const failures: unknown[] = []
  const r = new EventRecorder({
    append: options.append ?? (async (events) => { stored.push(...events) }),
    nowMs: () => now,
    dropped: (reason, count) => { drops[reason] += count },
    failed: (err) => failures.push(err),
    bufferMax: options.bufferMax,
    perAddressPerMinute: options.perAddressPerMinute
  })
  return { r, stored, drops, failures, tick: (ms: number) => { now += ms } }
}

const failed = (ip: string): SecurityEvent => ({ type: 'login_failed', username: 'x', clientId: 'app', ip })

t.test('per address: at most so many a minute, then dropped (counted); other addresses and events without one go on', async (t) => {
  const { r, stored, drops, tick } = recorder({ perAddressPerMinute: 3 })
  for (let i = 0; i < 10; i++) r.record(failed('198.51.100.7'))
  r.record(failed('198.51.100.8'))
  r.record({ type: 'key_rotated', kid: 'k', activatesAt: 1 })
  for (let i = 0; i < 5; i++) r.record(failed(`2001:db8:1:2::${i + 1}`))
  await r.flush()
  t.equal(drops.address, 7 + 2, 'seven of one IPv4 address, two of one IPv6 /64')
  t.same(stored.map((e) => e.ip ?? e.type), ['198.51.100.7', '198.51.100.7', '198.51.100.7', '198.51.100.8', 'key_rotated', '2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2::3'])
  tick(60_000)
  r.record(failed('198.51.100.7'))
  await r.flush()
  t.equal(stored.length, 9, 'a minute later the address may record again')
})

t.test('the buffer: bounded; beyond it dropped and counted; flush empties it in order', async (t) => {
  const { r, stored, drops } = recorder({ bufferMax: 5 })
  for (let i = 0; i < 8; i++) r.record({ type: 'key_rotated', kid: `k${i}`, activatesAt: i })
  t.equal(r.pending, 5)
  t.equal(drops.buffer, 3)
  await r.flush()
  t.equal(r.pending, 0)
  t.same(stored.map((e) => e.details.kid), ['k0', 'k1', 'k2', 'k3', 'k4'])
})

t.test('a failing store: the batch dropped and counted, reported once until a batch is written again; never thrown', async (t) => {
  let down = true
  const written: NewSecurityEvent[] = []
  const { r, drops, failures } = recorder({ append: async (events) => { if (down) throw new Error('down'); written.push(...events) } })
  r.record({ type: 'key_rotated', kid: 'a', activatesAt: 1 })
  await r.flush()
  r.record({ type: 'key_rotated', kid: 'b', activatesAt: 1 })
  r.record({ type: 'key_rotated', kid: 'c', activatesAt: 1 })
  await r.flush()
  t.equal(drops.store, 3)
  t.equal(failures.length, 1, 'reported once')
  down = false
  r.record({ type: 'key_rotated', kid: 'd', activatesAt: 1 })
  await r.flush()
  t.same(written.map((e) => e.details.kid), ['d'])
  down = true
  r.record({ type: 'key_rotated', kid: 'e', activatesAt: 1 })
  await r.flush()
  t.equal(failures.length, 2, 'reported again after it had recovered')
})

t.test('flush during a flush shares it and writes what came meanwhile', async (t) => {
  let release: () => void = () => {}
  const batches: number[] = []
  const { r } = recorder({ append: async (events) => { batches.push(events.length); if (batches.length === 1) await new Promise<void>((resolve) => { release = resolve }) } })
  r.record({ type: 'key_rotated', kid: 'a', activatesAt: 1 })
  const first = r.flush()
  r.record({ type: 'key_rotated', kid: 'b', activatesAt: 1 })
  r.record({ type: 'key_rotated', kid: 'c', activatesAt: 1 })
  const second = r.flush()
  t.equal(first, second, 'one flush at a time')
  release()
  await second
  t.same(batches, [1, 2])
})

import type { Test } from 'tap'
import type { NewSecurityEvent, Storage } from '../../lib/stores/types.js'

/** Stored security events (security_events): one behavioural suite run unchanged against SQLite and PostgreSQL. */
export function securityEventStoreSuite (t: Test, open: () => Promise<Storage>): void {
  const at = 1_800_000_000_000
  async function setup (t: Test): Promise<Storage> {
    const s = await open()
    t.teardown(() => s.close())
    return s
  }
  const event = (n: number, extra: Partial<NewSecurityEvent> = {}): NewSecurityEvent =>
    ({ at: at + n, type: 'login_failed', user: null, clientId: null, actor: null, target: null, ip: '192.0.2.1', details: {}, ...extra })

  t.test('appended in order, read back newest first as written; ids grow', async (t) => {
    const s = await setup(t)
    t.same(await s.securityEvents.list({ limit: 10 }), [], 'none at first')
    await s.securityEvents.append([])
    await s.securityEvents.append([
      event(1, { type: 'admin_change', actor: 'root', target: 'dora', ip: null, details: { action: 'POST /admin/users', fields: ['username'] } }),
      event(2, { user: 'u-1', clientId: 'app', details: { nested: { n: 1, ok: true, list: ['a'] } } })
    ])
    await s.securityEvents.append([event(3, { type: 'key_rotated', ip: null, details: { kid: 'k1', activatesAt: 5 } })])
    const all = await s.securityEvents.list({ limit: 10 })
    t.same(all.map((e) => e.type), ['key_rotated', 'login_failed', 'admin_change'])
    t.ok(all[0]!.id > all[1]!.id && all[1]!.id > all[2]!.id, 'newest has the highest id')
    t.same(all[2], { id: all[2]!.id, at: at + 1, type: 'admin_change', user: null, clientId: null, actor: 'root', target: 'dora', ip: null, details: { action: 'POST /admin/users', fields: ['username'] } })
    t.same(all[1], { id: all[1]!.id, at: at + 2, type: 'login_failed', user: 'u-1', clientId: 'app', actor: null, target: null, ip: '192.0.2.1', details: { nested: { n: 1, ok: true, list: ['a'] } } })
  })

  t.test('filters by type, users (any of), client; pages by id', async (t) => {
    const s = await setup(t)
    await s.securityEvents.append([
      event(1, { user: 'id-dora', clientId: 'app' }),
      event(2, { user: 'digest-dora', clientId: 'app' }),
      event(3, { type: 'signup', user: 'id-eve', clientId: null }),
      event(4, { type: 'consent_revoked', user: 'id-dora', clientId: 'other' }),
      event(5, { type: 'signup', user: 'id-dora' })
    ])
    const types = async (filter: Parameters<Storage['securityEvents']['list']>[0]) => (await s.securityEvents.list(filter)).map((e) => e.at - at)
    t.same(await types({ limit: 10, type: 'signup' }), [5, 3])
    t.same(await types({ limit: 10, users: ['id-dora', 'digest-dora'] }), [5, 4, 2, 1], 'a user by id or by digest')
    t.same(await types({ limit: 10, users: ['id-dora'] }), [5, 4, 1])
    t.same(await types({ limit: 10, users: [] }), [], 'no value matches nothing')
    await s.securityEvents.append([event(6, { type: 'admin_change', actor: 'root', target: 'dora', ip: null })])
    t.same(await types({ limit: 10, users: ['id-dora'], orTarget: 'dora' }), [6, 5, 4, 1], 'or the target of a change')
    t.same(await types({ limit: 10, users: [], orTarget: 'dora', type: 'admin_change' }), [6])
    t.same(await types({ limit: 10, users: ['id-dora'], orTarget: 'nobody' }), [5, 4, 1])
    t.same(await types({ limit: 10, clientId: 'app' }), [2, 1])
    t.same(await types({ limit: 10, users: ['id-dora'], type: 'signup' }), [5], 'filters together')
    t.same(await types({ limit: 10, users: ['id-dora'], clientId: 'other' }), [4])
    t.same(await types({ limit: 10, type: 'nothing' }), [])
    t.same(await types({ limit: 10, clientId: 'a\u0000pp' }), [], 'a NUL matches nothing')
    const first = await s.securityEvents.list({ limit: 3 }).then((page) => page.slice(1))
    t.same(first.map((e) => e.at - at), [5, 4])
    const second = await s.securityEvents.list({ limit: 2, before: first[1]!.id })
    t.same(second.map((e) => e.at - at), [3, 2])
    const last = await s.securityEvents.list({ limit: 2, before: second[1]!.id })
    t.same(last.map((e) => e.at - at), [1])
    t.same(await s.securityEvents.list({ limit: 2, before: last[0]!.id }), [])
    t.same((await s.securityEvents.list({ limit: 10, users: ['id-dora'], before: first[1]!.id })).map((e) => e.at - at), [1], 'a filter pages too')
  })

  t.test('purge: older than a time, and all but the newest so many', async (t) => {
    const s = await setup(t)
    await s.securityEvents.append(Array.from({ length: 10 }, (_, i) => event(i)))
    t.equal(await s.securityEvents.purge(at + 3, 100), 3, 'at 0, 1, 2 are too old')
    t.equal(await s.securityEvents.purge(at + 3, 100), 0)
    t.equal(await s.securityEvents.purge(at, 4), 3, 'keep the newest 4 of 7')
    t.same((await s.securityEvents.list({ limit: 10 })).map((e) => e.at - at), [9, 8, 7, 6])
    t.equal(await s.securityEvents.purge(at, 10), 0, 'fewer than kept: none')
    t.equal(await s.securityEvents.purge(at, 0), 4, 'keep none')
    await s.securityEvents.append([event(20)])
    const [after] = await s.securityEvents.list({ limit: 1 })
    t.equal(after?.at, at + 20)
    t.ok(after!.id > 10, 'an id is never handed out again after a purge')
  })

  t.test('a batch of a thousand in one append', async (t) => {
    const s = await setup(t)
    await s.securityEvents.append(Array.from({ length: 1000 }, (_, i) => event(i, { details: { i } })))
    const page = await s.securityEvents.list({ limit: 3 })
    t.same(page.map((e) => e.details), [{ i: 999 }, { i: 998 }, { i: 997 }])
  })
}

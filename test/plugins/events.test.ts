import t from 'tap'
import { openStorage } from '../../lib/stores/index.js'
import { usernameDigest } from '../../lib/ops/events.js'
import { addUser, build, post, sharedDatabaseUrl } from '../support/helper.js'
import { parseExposition, sampleValue } from '../support/prometheus.js'

// The events plugin stores every security event (lib/ops/event-records.ts) without blocking or failing a request:
// read back through GET /admin/events. Runs on SQLite, and on PostgreSQL (test/postgres/list.ts).

async function setup (t: Parameters<typeof build>[0], env: Record<string, string> = {}) {
  const app = await build(t, env)
  await addUser(app, 'root', 'pw', { scope: 'admin' })
  const token = (await post(app, '/token', { grant_type: 'password', username: 'root', password: 'pw' })).json().access_token as string
  const list = async (query = '') => {
    await app.events.flush()
    const res = await app.inject({ url: `/admin/events${query}`, headers: { authorization: `Bearer ${token}` } })
    t.equal(res.statusCode, 200, `GET /admin/events${query}`)
    return res.json() as { events: Array<Record<string, any>>, next_before: number | null }
  }
  // The registry itself: GET /metrics serves one exposition for up to a second.
  const dropped = async (reason: string) => sampleValue(parseExposition(await app.metrics.scrape({ up: true, pingSeconds: 0 })), 'gatehouse_security_events_dropped_total', { reason })
  const failSignIn = (username: string, remoteAddress: string) =>
    app.inject({ method: 'POST', url: '/token', remoteAddress, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `grant_type=password&username=${username}&password=wrong` })
  return { app, list, dropped, failSignIn }
}

t.test('an event emitted is found by GET /admin/events once flushed; a user\'s by id and by the digest of the name typed', async (t) => {
  const { app, list, failSignIn } = await setup(t)
  const dora = await addUser(app, 'dora', 'dora pw')
  t.equal((await failSignIn('dora', '192.0.2.10')).statusCode, 400)
  app.events.emit({ type: 'consent_revoked', userId: dora.id, clientId: 'app', ip: '192.0.2.11', grants: 2 })
  app.events.emit({ type: 'admin_change', actor: 'root', action: 'POST /admin/users', target: 'eve', fields: ['username'] })
  const all = await list()
  t.match(all.events.map((e) => e.type), ['admin_change', 'consent_revoked', 'login_failed'])
  t.match(all.events[1], { type: 'consent_revoked', user: dora.id, username: 'dora', client_id: 'app', ip: '192.0.2.11', details: { grants: 2 } })
  t.match(all.events[2], { type: 'login_failed', user: usernameDigest('dora'), username: null, ip: '192.0.2.10' })
  t.notMatch(JSON.stringify(all), /wrong/, 'never the password')
  t.same((await list('?user=dora')).events.map((e) => e.type), ['consent_revoked', 'login_failed'], 'by id and by digest')
  t.same((await list('?type=admin_change')).events.map((e) => e.target), ['eve'])
  t.same((await list('?client_id=app')).events.map((e) => e.type), ['consent_revoked'])
  const first = await list('?limit=2')
  t.equal(first.events.length, 2)
  const second = await list(`?limit=2&before=${first.next_before!}`)
  t.same(second.events.map((e) => e.type), ['login_failed'])
  t.equal(second.next_before, null)
  t.equal((await app.inject({ url: '/admin/events?type=nothing', headers: {} })).statusCode, 401, 'scope admin')
})

t.test('what was emitted just before close is stored by the close', async (t) => {
  const url = await sharedDatabaseUrl(t)
  const app = await build(t, { DATABASE_URL: url })
  app.events.emit({ type: 'key_rotated', kid: 'k-last', activatesAt: 1 })
  await app.close()
  const storage = await openStorage(url)
  t.teardown(() => storage.close())
  t.match(await storage.securityEvents.list({ limit: 5, type: 'key_rotated' }), [{ details: { kid: 'k-last' } }])
})

t.test('a flood of failed sign-ins from one address does not push out another address\'s events', async (t) => {
  const { list, dropped, failSignIn } = await setup(t)
  const flood = '203.0.113.66'
  for (let i = 0; i < 140; i++) await failSignIn(`guess${i % 7}`, flood)
  await failSignIn('victim', '198.51.100.2')
  const fromFlood = async () => {
    let count = 0
    for (let page = await list('?limit=200'); ; page = await list(`?limit=200&before=${page.next_before!}`)) {
      count += page.events.filter((e) => e.ip === flood).length
      if (page.next_before === null) return count
    }
  }
  t.equal(await fromFlood(), 120, 'one address: 120 a minute stored')
  t.equal(await dropped('address'), 20, 'the rest dropped and counted')
  t.match((await list('?limit=1')).events, [{ ip: '198.51.100.2' }], 'the other address\'s event is there')
})

t.test('a full buffer drops and counts; a failing database fails no request and is counted', async (t) => {
  const { app, list, dropped, failSignIn } = await setup(t)
  await app.events.flush()
  for (let i = 0; i < 1005; i++) app.events.emit({ type: 'key_rotated', kid: `k${i}`, activatesAt: 1 })
  t.equal(await dropped('buffer'), 5)
  t.equal((await list('?type=key_rotated&limit=1')).events[0]?.details.kid, 'k999', 'the first thousand stored')

  const store = app.storage.securityEvents
  const append = store.append
  store.append = async () => { throw new Error('the database is down') }
  const res = await failSignIn('dora', '192.0.2.50')
  t.equal(res.statusCode, 400, 'the request answers as ever')
  t.equal(res.json().error, 'invalid_grant')
  await app.events.flush()
  t.equal(await dropped('store'), 1, 'the batch dropped and counted')
  store.append = append
  app.events.emit({ type: 'key_rotated', kid: 'back', activatesAt: 1 })
  t.equal((await list('?type=key_rotated&limit=1')).events[0]?.details.kid, 'back', 'stored again once the database takes it')
})

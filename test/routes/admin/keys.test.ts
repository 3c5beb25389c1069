import t from 'tap'
import { addUser, build, manualClock, post } from '../../support/helper.js'
import type { SecurityEvent } from '../../../lib/ops/events.js'

// GET /admin/keys and POST /admin/keys/rotate (routes/admin/keys.ts; lib/admin/keys.ts, the console's too): every key
// with its state, never a private key; the rotation's key_rotated and admin_change events. Runs on SQLite, and on
// PostgreSQL (test/postgres/list.ts). The states alone: test/lib/keys/key-states.test.ts.

async function setup (t: Parameters<typeof build>[0]) {
  const clock = manualClock()
  const app = await build(t, {}, { clock })
  await addUser(app, 'root', 'pw', { scope: 'admin' })
  await addUser(app, 'plain', 'pw', { scope: 'read' })
  const events: SecurityEvent[] = []
  const emit = app.events.emit
  app.events.emit = (event, log) => { events.push(event); emit.call(app.events, event, log) }
  const token = async (username: string) => (await post(app, '/token', { grant_type: 'password', username, password: 'pw' })).json().access_token as string
  const admin = { authorization: `Bearer ${await token('root')}` }
  const call = (method: 'GET' | 'POST', url: string, headers: Record<string, string> = admin) => app.inject({ method, url, headers })
  return { app, clock, events, call, token }
}

t.test('GET /admin/keys: each key\'s state (next, signing, retired until …), never a private key; scope admin only', async (t) => {
  const { app, clock, events, call, token } = await setup(t)
  t.equal((await call('GET', '/admin/keys', {})).statusCode, 401, 'no token')
  t.equal((await call('GET', '/admin/keys', { authorization: `Bearer ${await token('plain')}` })).statusCode, 403, 'no admin scope')

  const first = await call('GET', '/admin/keys')
  t.equal(first.statusCode, 200)
  const firstKeys = first.json() as Array<Record<string, unknown>>
  t.same(firstKeys.map((k) => [k.alg, k.state, k.retires_at, k.published_until]).sort(), [['ES256', 'signing', null, null], ['RS256', 'signing', null, null]])
  t.same(Object.keys(firstKeys[0]!).sort(), ['activates_at', 'alg', 'created_at', 'kid', 'published_until', 'retires_at', 'state'], 'only these members')

  const rotated = await call('POST', '/admin/keys/rotate')
  t.equal(rotated.statusCode, 200)
  const { kid, activates_at: activatesAt, keys: added } = rotated.json() as { kid: string, activates_at: number, keys: Array<{ kid: string }> }
  t.same(events.filter((e) => e.type === 'key_rotated'), [{ type: 'key_rotated', kid, activatesAt }])
  t.match(events.filter((e) => e.type === 'admin_change'), [{ actor: 'root', action: 'POST /admin/keys/rotate', target: kid }])

  const listed = (await call('GET', '/admin/keys')).json() as Array<Record<string, unknown>>
  t.same(listed.map((k) => k.kid), [...firstKeys.map((k) => k.kid), ...added.map((k) => k.kid)], 'in rotation order')
  t.same(listed.map((k) => k.state), ['signing', 'signing', 'next', 'next'])
  t.same(listed.slice(0, 2).map((k) => k.retires_at), [activatesAt, activatesAt], 'the old keys retire when the new ones sign')

  clock.advance(activatesAt - clock.now())
  const later = (await call('GET', '/admin/keys')).json() as Array<Record<string, unknown>>
  const retain = app.config.accessTokenTtl + 10 + 2
  t.same(later.map((k) => [k.state, k.published_until]), [['retired', activatesAt + retain], ['retired', activatesAt + retain], ['signing', null], ['signing', null]])
  const body = JSON.stringify(later)
  t.notMatch(body, /PRIVATE|privateKey|private_key|"d"/, 'no private key')
  t.equal(events.filter((e) => e.type === 'admin_change').length, 1, 'listing is not a change')
})

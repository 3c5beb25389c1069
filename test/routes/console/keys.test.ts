import t from 'tap'
import { manualClock } from '../../support/helper.js'
import { field, InjectBrowser, signedInAdmin } from '../../support/console.js'

// The console's signing-keys page (routes/console/keys.ts): every key with its state (lib/admin/keys.ts listKeys, as
// GET /admin/keys) and "Rotate keys" (rotateKeys, as POST /admin/keys/rotate). Runs on SQLite, and on PostgreSQL
// (test/postgres/list.ts).

const when = (s: number) => new Date(s * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC'

/** The rows of the keys table: [kid, alg, state] each. */
const rows = (body: string): string[][] =>
  [...body.matchAll(/<tr>\s*<td><code>([^<]+)<\/code><\/td>\s*<td>([^<]+)<\/td>\s*<td>([^<]+)<\/td>/g)].map((m) => [m[1]!, m[2]!, m[3]!])

t.test('the list shows each key\'s state; rotate adds keys in state next, then they sign and the old ones are retired', async (t) => {
  const clock = manualClock()
  const { app, browser, events, csrf } = await signedInAdmin(t, 'root password 1', {}, { clock })
  const first = await app.storage.keys.list()
  const page = await browser.get('/console/keys')
  t.equal(page.statusCode, 200)
  t.match(page.body, /<a href="\/console\/keys" aria-current="page">Signing keys<\/a>/, 'the nav link, current')
  t.match(page.body, /<caption class="muted">Keys in the store, oldest first<\/caption>/)
  t.same(rows(page.body), first.map((k) => [k.kid, k.alg, 'signing']), 'the first key of each algorithm signs')
  t.notMatch(page.body, /PRIVATE KEY/)

  const res = await browser.post('/console/keys/rotate', { csrf })
  t.equal(res.statusCode, 303)
  const stored = await app.storage.keys.list()
  t.equal(stored.length, 4, 'a new key of each algorithm')
  const added = stored.filter((k) => !first.some((f) => f.kid === k.kid))
  const es = added.find((k) => k.alg === 'ES256')!
  t.equal(res.headers.location, `/console/keys?rotated=${es.kid}`, 'the access tokens\' new key (ES256 by default)')
  t.ok(es.activatesAt > clock.now(), 'not signing yet')

  const after = await browser.get(res.headers.location as string)
  t.match(after.body, new RegExp(`role="status">Rotated\\. The new ES256 key <code>${es.kid}</code> \\(the access tokens' key\\) starts signing at ${when(es.activatesAt)}`))
  t.same(rows(after.body), [
    ...first.map((k) => [k.kid, k.alg, 'signing']),
    ...added.map((k) => [k.kid, k.alg, 'next (published, not signing yet)'])
  ])
  t.same(events.filter((e) => e.type === 'key_rotated'), [{ type: 'key_rotated', kid: es.kid, activatesAt: es.activatesAt }])
  t.same(events.filter((e) => e.type === 'admin_change'), [{ type: 'admin_change', actor: 'root', action: 'POST /console/keys/rotate', target: es.kid, fields: [] }])
  const jwks = (await app.inject({ url: '/.well-known/jwks.json' })).json().keys.map((k: { kid: string }) => k.kid)
  for (const k of added) t.ok(jwks.includes(k.kid), `the new ${k.alg} key is published at once`)

  clock.advance(es.activatesAt - clock.now())
  const later = await browser.get('/console/keys')
  const retiredUntil = when(es.activatesAt + app.config.accessTokenTtl + 10 + 2)
  t.same(rows(later.body), [
    ...first.map((k) => [k.kid, k.alg, `retired (published until ${retiredUntil})`]),
    ...added.map((k) => [k.kid, k.alg, 'signing'])
  ], 'at activates_at: the new keys sign; the old ones stay published for a token lifetime, the leeway and the margin')
  t.equal(later.body.includes('role="status"'), false, 'no rotation message without ?rotated')
  t.equal(rows((await browser.get('/console/keys?rotated=nope')).body).length, 4, 'an unknown kid in ?rotated: the page, no message')
})

t.test('rotate without the CSRF field, or without a console session, is refused and adds no key', async (t) => {
  const { app, browser, events } = await signedInAdmin(t)
  t.equal((await browser.post('/console/keys/rotate', {})).statusCode, 403, 'no CSRF field')
  t.equal((await browser.post('/console/keys/rotate', { csrf: 'A'.repeat(43) })).statusCode, 403, 'another CSRF field')
  const stranger = new InjectBrowser(app)
  t.equal((await stranger.get('/console/keys')).statusCode, 303, 'the page starts a sign-in')
  const login = await stranger.get('/login')
  t.equal((await stranger.post('/console/keys/rotate', { csrf: field(login.body, 'csrf') })).statusCode, 403, 'no session')
  t.equal((await app.storage.keys.list()).length, 2, 'still the first key of each algorithm')
  t.same(events.filter((e) => e.type === 'key_rotated' || e.type === 'admin_change'), [])
})

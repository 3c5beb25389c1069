import t from 'tap'
import { addUser, build } from '../../support/helper.js'
import { signedInAdmin } from '../../support/console.js'

// The console's events page (routes/console/events.ts): the stored events as GET /admin/events lists them (lib/admin/events.ts),
// filtered by type, user and client, paged by the Older link. Runs on SQLite, and on PostgreSQL (test/postgres/list.ts).

const rows = (body: string): string[] => [...body.matchAll(/<tr>\s*<td>[^<]*<\/td>\s*<td><code>([^<]+)<\/code>/g)].map((m) => m[1]!)
const older = (body: string): string | undefined => /<a href="([^"]+)">Older<\/a>/.exec(body)?.[1]?.replaceAll('&amp;', '&')

async function setup (t: Parameters<typeof build>[0]) {
  const { app, browser } = await signedInAdmin(t)
  const dora = await addUser(app, 'dora', 'dora pw')
  const eve = await addUser(app, 'eve', 'eve pw')
  const emit = app.events.emit.bind(app.events)
  emit({ type: 'consent_revoked', userId: dora.id, clientId: 'app', ip: '192.0.2.1', grants: 1 })
  emit({ type: 'login_failed', username: 'dora', clientId: 'other', ip: '192.0.2.2' })
  emit({ type: 'signup', userId: eve.id, ip: '192.0.2.3' })
  emit({ type: 'password_changed', userId: dora.id, ip: '192.0.2.4' })
  emit({ type: 'admin_change', actor: 'root', action: 'PATCH /admin/users/:username', target: 'eve', fields: ['scope'] })
  await app.events.flush()
  return { app, browser, dora }
}

t.test('the page: every event newest first, a filter form (type as a select of every type), the nav link', async (t) => {
  const { browser } = await setup(t)
  const res = await browser.get('/console/events')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /text\/html/)
  t.same(rows(res.body).slice(0, 5), ['admin_change', 'password_changed', 'signup', 'login_failed', 'consent_revoked'])
  t.match(res.body, /<td>root → eve<\/td>/, 'actor and target')
  t.ok(rows(res.body).includes('console_signin'), 'the administrator\'s own sign-in is there too')
  t.match(res.body, /<a href="\/console\/events" aria-current="page">Events<\/a><\/li>\s*<\/ul>/, 'the last nav link, current')
  t.match(res.body, /<label for="type">Type<\/label>\s*<select id="type" name="type">/)
  for (const type of ['login_failed', 'admin_change', 'console_signin_failed']) t.match(res.body, new RegExp(`<option value="${type}">`))
  t.match(res.body, /<label for="user">/)
  t.match(res.body, /<label for="client_id">/)
  t.match(res.body, /<caption[^>]*>The newest security events/)
  t.match(res.body, /<th scope="col">Actor \/ target<\/th>/)
  t.match(res.body, /<a href="\/console\/users\/dora">dora<\/a>/, 'a user id shown as the user, linked')
  t.match(res.body, /192\.0\.2\.4/)
  t.match(res.body, /<span class="muted">grants:<\/span> 1<br>/, 'details')
})

t.test('filters: by user (their id, and the digest of their name typed at a failed sign-in), by client, by type', async (t) => {
  const { browser } = await setup(t)
  t.same(rows((await browser.get('/console/events?user=dora')).body), ['password_changed', 'login_failed', 'consent_revoked'])
  t.same(rows((await browser.get('/console/events?user=eve')).body), ['admin_change', 'signup'], 'and an administrator\'s change to them')
  t.same(rows((await browser.get('/console/events?client_id=app')).body), ['consent_revoked'])
  const bySignup = await browser.get('/console/events?type=signup')
  t.same(rows(bySignup.body), ['signup'])
  t.match(bySignup.body, /<option value="signup" selected>/, 'the form keeps the filter')
  t.same(rows((await browser.get('/console/events?type=signup&user=dora')).body), [])
  t.match((await browser.get('/console/events?user=nobody')).body, /No event matches/)
  const bad = await browser.get('/console/events?type=nothing')
  t.equal(bad.statusCode, 400, 'a refused filter: the page with the rule\'s message')
  t.match(bad.body, /role="alert">type: not a security event type/)
  t.equal((await browser.get('/console/events?limit=0')).statusCode, 400)
})

t.test('pages: Older carries the cursor and the filters, until the oldest', async (t) => {
  const { browser } = await setup(t)
  const first = await browser.get('/console/events?user=dora&limit=2')
  t.same(rows(first.body), ['password_changed', 'login_failed'])
  const next = older(first.body)
  t.match(next, /^\/console\/events\?user=dora&limit=2&before=\d+$/)
  const second = await browser.get(next!)
  t.same(rows(second.body), ['consent_revoked'])
  t.match(second.body, /Older security events/)
  t.match(second.body, /<a href="\/console\/events\?user=dora&amp;limit=2">Newest<\/a>/)
  t.equal(older(second.body), undefined, 'the last page')
})

t.test('a user\'s page and a client\'s page link to their events', async (t) => {
  const { app, browser } = await setup(t)
  t.match((await browser.get('/console/users/dora')).body, /href="\/console\/events\?user=dora">/)
  await app.storage.clients.create({ id: 'web app', secretHash: null, isPublic: true, grantTypes: ['authorization_code'], scope: null, redirectUris: ['https://app.example/cb'] })
  t.match((await browser.get('/console/clients/web%20app')).body, /href="\/console\/events\?client_id=web%20app">/)
})

t.test('no console session: the page starts the sign-in', async (t) => {
  const app = await build(t)
  const res = await app.inject({ url: '/console/events?user=dora' })
  t.equal(res.statusCode, 303)
  t.match(res.headers.location, /\/authorize\?/)
})

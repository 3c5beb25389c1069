import t from 'tap'
import { addClient, basic, build, FORM, form } from '../../support/helper.js'
import { InjectBrowser, signedInAdmin } from '../../support/console.js'

// The console's resources page (routes/console/resources.ts): RFC 8707 resources added and removed through
// lib/admin/resources.ts, each an admin_change event naming the console user and the resource's URI. Runs on SQLite,
// and on PostgreSQL (test/postgres/list.ts).

const PW = 'root password 1'
const signedIn = (t: Parameters<typeof build>[0]) => signedInAdmin(t, PW)

const changes = (events: Array<{ type: string } & Record<string, unknown>>) =>
  events.filter((e) => e.type === 'admin_change').map((e) => [e.actor, e.action, e.target])

t.test('the list: pages by limit/offset, as GET /admin/resources', async (t) => {
  const { app, browser } = await signedIn(t)
  const empty = await browser.get('/console/resources')
  t.equal(empty.statusCode, 200)
  t.match(empty.body, /No resources on this page/)
  t.match(empty.body, /aria-current="page">Resources</)
  for (const uri of ['https://a.example.test', 'https://b.example.test', 'https://c.example.test']) await app.storage.resources.create({ uri, name: null, scope: 'items:read' })
  const first = await browser.get('/console/resources?limit=2')
  t.match(first.body, /a\.example\.test/)
  t.match(first.body, /b\.example\.test/)
  t.notMatch(first.body, /c\.example\.test/)
  t.match(first.body, /href="\/console\/resources\?limit=2&amp;offset=2">Next page/)
  const second = await browser.get('/console/resources?limit=2&offset=2')
  t.match(second.body, /c\.example\.test/)
  t.notMatch(second.body, /Next page/)
  t.match(second.body, /Previous page/)
  const bad = await browser.get('/console/resources?limit=0')
  t.equal(bad.statusCode, 400, 'the admin API\'s bounds')
  t.match(bad.headers['content-type'], /text\/html/)
})

t.test('add: through addResource (a token for it gets it as aud); refused ones show the rule\'s message; logged', async (t) => {
  const { app, browser, events, csrf } = await signedIn(t)
  const res = await browser.post('/console/resources', { csrf, uri: 'https://api.example.test', name: ' Items API ', scope: 'items:write items:read' })
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, '/console/resources?done=added')
  t.match(await app.storage.resources.find('https://api.example.test'), { name: 'Items API', scope: 'items:write items:read' })
  const page = await browser.get('/console/resources?done=added')
  t.match(page.body, /role="status">Added/)
  t.match(page.body, /<code>https:\/\/api\.example\.test<\/code>/)
  t.match(page.body, /Items API/)
  t.same(changes(events), [['root', 'POST /console/resources', 'https://api.example.test']])

  // It is a resource as the admin API's: a client gets a token for it, with it as aud.
  const secret = await addClient(app, 'svc', { grantTypes: ['client_credentials'], scope: 'items:read' }) as string
  const token = await app.inject({ method: 'POST', url: '/token', headers: { ...FORM, authorization: basic('svc', secret) }, payload: form({ grant_type: 'client_credentials', resource: 'https://api.example.test', scope: 'items:read' }) })
  t.equal(token.statusCode, 200, token.body)

  const fragment = await browser.post('/console/resources', { csrf, uri: 'https://api.example.test/#x', name: 'typed name', scope: 'items:read' })
  t.equal(fragment.statusCode, 400)
  t.match(fragment.body, /role="alert"[^>]*>[^<]*fragment/, 'lib/oauth/resources.ts\'s own words')
  t.match(fragment.body, /value="typed name"/, 'the form keeps what was typed')
  const openid = await browser.post('/console/resources', { csrf, uri: 'https://other.example.test', scope: 'openid' })
  t.equal(openid.statusCode, 400)
  t.match(openid.body, /role="alert"[^>]*>scope: /)
  const plainHttp = await browser.post('/console/resources', { csrf, uri: 'http://api.example.test' })
  t.equal(plainHttp.statusCode, 400)
  t.match(plainHttp.body, /role="alert"[^>]*>a resource URI must be https/)
  const taken = await browser.post('/console/resources', { csrf, uri: 'https://api.example.test' })
  t.equal(taken.statusCode, 409)
  t.match(taken.body, /already exists/)
  t.equal((await app.storage.resources.list({ limit: 10, offset: 0 })).length, 1, 'nothing else was made')
  t.equal(changes(events).length, 1, 'refusals are not changes')
})

t.test('remove: with a confirmation; its tokens stop being active; logged', async (t) => {
  const { app, browser, events, csrf } = await signedIn(t)
  t.equal((await browser.post('/console/resources', { csrf, uri: 'https://api.example.test', scope: 'items:read' })).statusCode, 303)
  const secret = await addClient(app, 'svc', { grantTypes: ['client_credentials'], scope: 'items:read' }) as string
  const auth = basic('svc', secret)
  const token = (await app.inject({ method: 'POST', url: '/token', headers: { ...FORM, authorization: auth }, payload: form({ grant_type: 'client_credentials', resource: 'https://api.example.test', scope: 'items:read' }) })).json().access_token as string
  const active = async () => (await app.inject({ method: 'POST', url: '/introspect', headers: { ...FORM, authorization: auth }, payload: form({ token }) })).json().active
  t.equal(await active(), true)
  t.match((await browser.get('/console/resources')).body, /name="uri" value="https:\/\/api\.example\.test"/, 'a remove form a row')

  const unconfirmed = await browser.post('/console/resources/remove', { csrf, uri: 'https://api.example.test' })
  t.equal(unconfirmed.statusCode, 400)
  t.match(unconfirmed.body, /role="alert"[^>]*>tick &quot;Yes, remove&quot;|role="alert"[^>]*>tick "Yes, remove"/)
  t.ok(await app.storage.resources.find('https://api.example.test'), 'not removed without the box')
  const removed = await browser.post('/console/resources/remove', { csrf, uri: 'https://api.example.test', confirm: 'on' })
  t.equal(removed.statusCode, 303)
  t.equal(removed.headers.location, '/console/resources?done=removed')
  t.equal(await app.storage.resources.find('https://api.example.test'), undefined)
  t.equal(await active(), false, 'its token is no longer active')
  t.match((await browser.get('/console/resources?done=removed')).body, /role="status">Removed/)
  t.equal((await browser.post('/console/resources/remove', { csrf, uri: 'https://api.example.test', confirm: 'on' })).statusCode, 404, 'no such resource')
  t.same(changes(events), [
    ['root', 'POST /console/resources', 'https://api.example.test'],
    ['root', 'POST /console/resources/remove', 'https://api.example.test']
  ], 'add and remove; the refusals are not changes')
})

t.test('a POST without the CSRF field, or with another one, is refused (403) and changes nothing', async (t) => {
  const { app, browser } = await signedIn(t)
  await app.storage.resources.create({ uri: 'https://api.example.test', name: null, scope: '' })
  for (const fields of [{}, { csrf: 'A'.repeat(43) }] as Array<Record<string, string>>) {
    t.equal((await browser.post('/console/resources/remove', { ...fields, uri: 'https://api.example.test', confirm: 'on' })).statusCode, 403)
    t.equal((await browser.post('/console/resources', { ...fields, uri: 'https://other.example.test' })).statusCode, 403)
  }
  t.ok(await app.storage.resources.find('https://api.example.test'))
  t.equal(await app.storage.resources.find('https://other.example.test'), undefined)
  t.equal((await new InjectBrowser(app).get('/console/resources')).statusCode, 303, 'no session: a sign-in first')
})

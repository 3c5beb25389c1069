import t from 'tap'
import { addClient, addUser, basic, build, FORM, form } from '../../support/helper.js'
import { field, InjectBrowser, signedInAdmin } from '../../support/console.js'

// The console's users pages (routes/console/users.ts): every action through lib/admin, each an admin_change event
// naming the console user and the target. Runs on SQLite, and on PostgreSQL (test/postgres/list.ts).

const PW = 'root password 1'

const signedIn = (t: Parameters<typeof build>[0]) => signedInAdmin(t, PW)

t.test('the list: pages by limit/offset, search by exact username or e-mail', async (t) => {
  const { app, browser } = await signedIn(t)
  for (const name of ['amy', 'bob', 'cat']) await addUser(app, name, 'pw', { email: `${name}@example.test` })
  const first = await browser.get('/console/users?limit=2')
  t.equal(first.statusCode, 200)
  t.match(first.body, />amy</)
  t.match(first.body, />bob</)
  t.notMatch(first.body, />cat</)
  t.match(first.body, /href="\/console\/users\?limit=2&amp;offset=2">Next page/)
  const second = await browser.get('/console/users?limit=2&offset=2')
  t.match(second.body, />cat</)
  t.match(second.body, />root</)
  t.match((await browser.get('/console/users?q=BOB')).body, />bob</, 'usernames are lowercase')
  const byEmail = await browser.get('/console/users?q=Cat%40Example.test')
  t.match(byEmail.body, />cat</)
  t.notMatch(byEmail.body, />amy</)
  t.match((await browser.get('/console/users?q=nobody')).body, /No user matches/)
  const bad = await browser.get('/console/users?limit=0')
  t.equal(bad.statusCode, 400, 'the admin API\'s bounds')
  t.match(bad.headers['content-type'], /text\/html/)
})

t.test('create: through createUser; a refused one shows the rule\'s message; logged with actor and target', async (t) => {
  const { app, browser, events, csrf } = await signedIn(t)
  const refused = await browser.post('/console/users', { csrf, username: 'Bad Name', password: 'x' })
  t.equal(refused.statusCode, 400)
  t.match(refused.body, /username: must match/)
  const res = await browser.post('/console/users', { csrf, username: 'dora', password: 'dora password', full_name: 'Dora', email: 'dora@example.test', scope: 'items:read' })
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, '/console/users/dora?done=created')
  const user = await app.storage.users.findByUsername('dora')
  t.match(user, { fullName: 'Dora', email: 'dora@example.test', scope: 'items:read', disabled: false })
  t.match(events.find((e) => e.type === 'admin_change'), { actor: 'root', action: 'POST /console/users', target: 'dora', fields: ['username', 'password', 'full_name', 'email', 'scope'] })
  t.equal((await browser.post('/console/users', { csrf, username: 'dora', password: 'x' })).statusCode, 409, 'taken: the conflict, on the page')
})

t.test('edit, disable (tokens die: introspection inactive), enable, end sessions; each an admin_change', async (t) => {
  const { app, browser, events, csrf } = await signedIn(t)
  await addUser(app, 'eve', 'eve password', { scope: 'items:read' })
  const token = await app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'password', username: 'eve', password: 'eve password' }) })
  const accessToken = token.json().access_token as string
  const rs = basic('rs', await addClient(app, 'rs', { grantTypes: ['client_credentials'] }) as string)
  const introspect = async () => (await app.inject({ method: 'POST', url: '/introspect', headers: { ...FORM, authorization: rs }, payload: form({ token: accessToken }) })).json()
  t.equal((await introspect()).active, true)

  const edited = await browser.post('/console/users/eve/update', { csrf, full_name: 'Eve E.', email: 'eve@example.test', scope: 'items:read items:write' })
  t.equal(edited.statusCode, 303)
  t.match(await app.storage.users.findByUsername('eve'), { fullName: 'Eve E.', email: 'eve@example.test', scope: 'items:read items:write' })
  const badEmail = await browser.post('/console/users/eve/update', { csrf, email: 'not an address', scope: '' })
  t.equal(badEmail.statusCode, 400)
  t.match(badEmail.body, /email: not an email address/)

  t.equal((await browser.post('/console/users/eve/disable', { csrf })).statusCode, 303)
  t.equal((await app.storage.users.findByUsername('eve'))?.disabled, true)
  t.equal((await introspect()).active, false, 'their token is inactive')
  const page = await browser.get('/console/users/eve?done=disable')
  t.match(page.body, /Disabled: their sessions ended/)
  t.match(page.body, /action="\/console\/users\/eve\/enable"/)
  t.equal((await browser.post('/console/users/eve/enable', { csrf })).statusCode, 303)
  t.equal((await app.storage.users.findByUsername('eve'))?.disabled, false)
  t.equal((await browser.post('/console/users/eve/end-sessions', { csrf })).statusCode, 303)
  t.equal((await browser.post('/console/users/nobody/disable', { csrf })).statusCode, 404, 'no such user')

  const changes = events.filter((e) => e.type === 'admin_change')
  t.same(changes.map((e) => [e.actor, e.action, e.target]), [
    ['root', 'POST /console/users/:username/:action', 'eve'],
    ['root', 'POST /console/users/:username/:action', 'eve'],
    ['root', 'POST /console/users/:username/:action', 'eve'],
    ['root', 'POST /console/users/:username/:action', 'eve']
  ], 'the refused edit and the unknown user are not changes')
})

t.test('a POST without the CSRF field, or with another one, is refused (403) and changes nothing', async (t) => {
  const { app, browser } = await signedIn(t)
  await addUser(app, 'fay', 'fay password')
  for (const fields of [{}, { csrf: 'A'.repeat(43) }] as Array<Record<string, string>>) {
    const res = await browser.post('/console/users/fay/disable', fields)
    t.equal(res.statusCode, 403)
    t.match(res.body, /did not come from this site/)
  }
  t.equal((await browser.post('/console/users', { username: 'gus', password: 'gus password' })).statusCode, 403)
  t.equal(await app.storage.users.findByUsername('gus'), undefined)
  t.equal((await app.storage.users.findByUsername('fay'))?.disabled, false)
})

t.test('no console route without a session: pages start a sign-in, forms are refused', async (t) => {
  const { app } = await signedIn(t)
  const stranger = new InjectBrowser(app)
  for (const path of ['/console', '/console/users', '/console/users/new', '/console/users/root']) t.equal((await stranger.get(path)).statusCode, 303, path)
  const page = await stranger.get('/login')
  const res = await stranger.post('/console/users/root/disable', { csrf: field(page.body, 'csrf') })
  t.equal(res.statusCode, 403)
  t.equal((await app.storage.users.findByUsername('root'))?.disabled, false)
})

t.test('the admin API names the created record too (issue 28: creates logged an empty target)', async (t) => {
  const { app, events } = await signedIn(t)
  const token = await app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'password', username: 'root', password: PW }) })
  const auth = { authorization: `Bearer ${token.json().access_token as string}` }
  const created = await app.inject({ method: 'POST', url: '/admin/users', headers: auth, payload: { username: 'hal', password: 'hal password' } })
  t.equal(created.statusCode, 201)
  await app.inject({ method: 'POST', url: '/admin/clients', headers: auth, payload: { client_id: 'svc', grant_types: ['client_credentials'] } })
  await app.inject({ method: 'PATCH', url: '/admin/users/hal', headers: auth, payload: { full_name: 'Hal' } })
  t.same(events.filter((e) => e.type === 'admin_change').map((e) => [e.action, e.target]), [
    ['POST /admin/users', 'hal'],
    ['POST /admin/clients', 'svc'],
    ['PATCH /admin/users/:username', 'hal']
  ])
})

t.test('a done query the page does not know says nothing (an inherited name is not a message)', async (t) => {
  const { browser } = await signedIn(t)
  for (const path of ['/console/users/root', '/console/clients/gatehouse-console']) {
    for (const done of ['toString', 'constructor', 'nope']) {
      const res = await browser.get(`${path}?done=${done}`)
      t.equal(res.statusCode, 200, `${path}?done=${done}`)
      t.notMatch(res.body, /role="status"|native code|function/, 'no status message, no function source')
    }
  }
})

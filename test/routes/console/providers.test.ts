import t, { type Test } from 'tap'
import { build } from '../../support/helper.js'
import { browserFixtures, InjectBrowser, webRequest } from '../../support/browser.js'
import { signedInAdmin } from '../../support/console.js'
import { startUpstreamOp, type UpstreamOp } from '../../support/upstream/op.js'
import { callbackUrl, deliver, onToClient, startAt, whoGotIn } from '../../support/upstream/flow.js'
import { startBadIssuers } from '../../support/upstream/documents.js'

// The console's upstream providers pages (routes/console/providers.ts): every action through lib/admin/providers.ts,
// each an admin_change event naming the console user and the provider; the client secret never shown. A provider
// added here is tried for real against node-oidc-provider on loopback (test/support/upstream/op.ts). Runs on SQLite,
// and on PostgreSQL (test/postgres/list.ts).

const PW = 'root password 1'
const signedIn = (t: Parameters<typeof build>[0]) => signedInAdmin(t, PW)

async function realOp (t: Test, name: string): Promise<UpstreamOp> {
  const op = await startUpstreamOp({ redirectUris: callbackUrl(name) })
  t.teardown(() => op.close())
  return op
}

const changes = (events: Array<{ type: string } & Record<string, unknown>>) =>
  events.filter((e) => e.type === 'admin_change').map((e) => [e.actor, e.action, e.target])

t.test('add an OpenID provider: its page shows the redirect URI, never the secret; a sign-in through it works; logged', async (t) => {
  const { app, browser, events, csrf } = await signedIn(t)
  const { webAuth } = await browserFixtures(app)
  const op = await realOp(t, 'corp')
  const empty = await browser.get('/console/providers')
  t.equal(empty.statusCode, 200)
  t.match(empty.body, /No upstream providers/)
  t.match(empty.body, /aria-current="page">Providers</, 'the nav says where we are')
  t.equal((await browser.get('/console/providers/new')).statusCode, 200)

  const res = await browser.post('/console/providers', { csrf, name: 'corp', issuer: op.issuer, client_id: op.clientId, client_secret: op.clientSecret, display_name: 'Corp SSO', create_users: 'on', link_by_email: 'on' })
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, '/console/providers/corp?done=created')
  t.match(await app.storage.providers.find('corp'), { issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret, scope: 'openid email profile', displayName: 'Corp SSO', linkByEmail: true, createUsers: true, authorizationEndpoint: null })
  const page = await browser.get('/console/providers/corp?done=created')
  t.equal(page.statusCode, 200)
  t.match(page.body, /role="status">Added/)
  t.match(page.body, '<code data-redirect-uri>http://gatehouse.test/login/corp/callback</code>', 'the redirect URI to register')
  t.notMatch(page.body, op.clientSecret, 'the secret is never shown')
  t.match(page.body, /id="client_secret" name="client_secret" value=""/)
  const list = await browser.get('/console/providers')
  t.match(list.body, /href="\/console\/providers\/corp">corp</)
  t.match(list.body, /Corp SSO/)
  t.match(list.body, /http:\/\/gatehouse\.test\/login\/corp\/callback/)
  t.same(changes(events), [['root', 'POST /console/providers', 'corp']])
  t.notMatch(JSON.stringify(events), op.clientSecret, 'the secret is in no event')

  // What was added works: the login page offers it and a sign-in through the real provider makes a user.
  const user = new InjectBrowser(app)
  const request = webRequest()
  const { providerUrl } = await startAt(user, request.url, 'corp')
  const back = await deliver(user, await op.signInAt(providerUrl, 'verified'))
  const code = (await onToClient(user, back)).get('code')
  t.ok(code, 'a code for the client')
  t.match(await whoGotIn(app, code!, request.verifier, webAuth), { username: 'vera', email: 'vera@upstream.test' })
})

t.test('a plain OAuth 2.0 provider by its endpoints; empty fields take the defaults', async (t) => {
  const { app, browser, csrf } = await signedIn(t)
  const res = await browser.post('/console/providers', {
    csrf,
    name: 'github',
    issuer: 'https://github.com',
    client_id: 'Iv1.abc',
    client_secret: 'gh secret',
    scope: 'read:user',
    create_users: 'on',
    authorization_endpoint: 'https://github.com/login/oauth/authorize',
    token_endpoint: 'https://github.com/login/oauth/access_token',
    userinfo_endpoint: 'https://api.github.com/user',
    claim_subject: 'id',
    claim_username: 'login',
    claim_email: '',
    claim_email_verified: '',
    claim_name: ''
  })
  t.equal(res.statusCode, 303)
  t.match(await app.storage.providers.find('github'), {
    displayName: 'github',
    scope: 'read:user',
    tokenEndpoint: 'https://github.com/login/oauth/access_token',
    claims: { subject: 'id', username: 'login', email: 'email', emailVerified: null, name: 'name' }
  })
  t.match((await browser.get('/console/providers/github')).body, /plain OAuth 2\.0/)
})

t.test('a refused provider: the rule\'s own message on the page (400, 409), what was typed kept but the secret; nothing made', async (t) => {
  const { app, browser, events, csrf } = await signedIn(t)
  const noOpenid = await browser.post('/console/providers', { csrf, name: 'corp', issuer: 'https://login.corp.example', client_id: 'gh', client_secret: 'typed secret', scope: 'email profile' })
  t.equal(noOpenid.statusCode, 400)
  t.match(noOpenid.body, /role="alert"[^>]*>scope: an OpenID provider needs the openid scope/, 'lib/admin/providers.ts\'s own words')
  t.match(noOpenid.body, /value="https:\/\/login\.corp\.example"/, 'the form keeps what was typed')
  t.notMatch(noOpenid.body, 'typed secret', 'but not the secret')
  const plainHttp = await browser.post('/console/providers', { csrf, name: 'corp', issuer: 'http://login.corp.example', client_id: 'gh', client_secret: 's' })
  t.equal(plainHttp.statusCode, 400)
  t.match(plainHttp.body, /issuer: plain http is only allowed for loopback hosts/)
  const badName = await browser.post('/console/providers', { csrf, name: 'Corp SSO', issuer: 'https://login.corp.example', client_id: 'gh', client_secret: 's' })
  t.equal(badName.statusCode, 400)
  t.match(badName.body, /provider name: must match/)
  const halfPlain = await browser.post('/console/providers', { csrf, name: 'gh', issuer: 'https://github.com', client_id: 'gh', client_secret: 's', authorization_endpoint: 'https://github.com/login/oauth/authorize' })
  t.equal(halfPlain.statusCode, 400)
  t.match(halfPlain.body, /a plain OAuth 2\.0 provider needs authorization_endpoint, token_endpoint and userinfo_endpoint/)
  t.same(await app.storage.providers.list(), [], 'nothing was made')

  t.equal((await browser.post('/console/providers', { csrf, name: 'corp', issuer: 'https://login.corp.example', client_id: 'gh', client_secret: 's' })).statusCode, 303)
  const taken = await browser.post('/console/providers', { csrf, name: 'corp', issuer: 'https://other.example', client_id: 'gh', client_secret: 's' })
  t.equal(taken.statusCode, 409)
  t.match(taken.body, /provider corp already exists/)
  t.same(changes(events), [['root', 'POST /console/providers', 'corp']], 'refusals are not changes')
})

t.test('edit (an empty secret keeps the stored one, a typed one replaces it), a refused edit, remove with a confirmation; each logged', async (t) => {
  const { app, browser, events, csrf } = await signedIn(t)
  await app.providers.add({ name: 'corp', issuer: 'https://login.corp.example', clientId: 'gatehouse', clientSecret: 'first secret' })
  const form = { csrf, issuer: 'https://sso.corp.example', client_id: 'gatehouse-2', client_secret: '', scope: 'openid email', display_name: 'Corp', link_by_email: 'on', claim_subject: 'sub', claim_email: 'email', claim_email_verified: 'email_verified', claim_name: '', claim_username: 'preferred_username' }
  const edited = await browser.post('/console/providers/corp/update', form)
  t.equal(edited.statusCode, 303)
  t.equal(edited.headers.location, '/console/providers/corp?done=update')
  t.match(await app.storage.providers.find('corp'), {
    issuer: 'https://sso.corp.example',
    clientId: 'gatehouse-2',
    clientSecret: 'first secret',
    scope: 'openid email',
    displayName: 'Corp',
    linkByEmail: true,
    createUsers: false,
    claims: { name: null }
  }, 'every field as sent; the secret kept; an unticked box is false; an empty claim is none')
  t.match((await browser.get('/console/providers/corp?done=update')).body, /role="status">Saved/)
  t.equal((await browser.post('/console/providers/corp/update', { ...form, client_secret: 'second secret' })).statusCode, 303)
  t.equal((await app.storage.providers.find('corp'))?.clientSecret, 'second secret', 'a typed secret replaces it')
  t.notMatch((await browser.get('/console/providers/corp')).body, 'second secret')

  const refused = await browser.post('/console/providers/corp/update', { ...form, scope: 'email' })
  t.equal(refused.statusCode, 400)
  t.match(refused.body, /role="alert">scope: an OpenID provider needs the openid scope/)
  t.equal((await app.storage.providers.find('corp'))?.scope, 'openid email', 'unchanged')
  t.equal((await browser.post('/console/providers/nobody/update', form)).statusCode, 404, 'no such provider')
  t.equal((await browser.get('/console/providers/nobody')).statusCode, 404)

  const unconfirmed = await browser.post('/console/providers/corp/delete', { csrf })
  t.equal(unconfirmed.statusCode, 400)
  t.match(unconfirmed.body, /Yes, remove this provider/)
  t.ok(await app.storage.providers.find('corp'), 'not removed without the box')
  const removed = await browser.post('/console/providers/corp/delete', { csrf, confirm: 'on' })
  t.equal(removed.statusCode, 303)
  t.equal(removed.headers.location, '/console/providers?done=deleted')
  t.equal(await app.storage.providers.find('corp'), undefined)
  t.match((await browser.get('/console/providers?done=deleted')).body, /role="status">Removed/)
  t.equal((await browser.get('/console/providers/corp')).statusCode, 404)
  t.same(changes(events), [
    ['root', 'POST /console/providers/:name/:action', 'corp'],
    ['root', 'POST /console/providers/:name/:action', 'corp'],
    ['root', 'POST /console/providers/:name/:action', 'corp']
  ], 'two edits and the removal; the refusals are not changes')
  t.same(events.filter((e) => e.type === 'admin_change').map((e) => (e as { fields?: unknown }).fields)[1], Object.keys(form).filter((k) => k !== 'csrf'), 'field names, never values')
})

t.test('"Check the provider\'s discovery document now": ticked on the add form; a failure is the form again (400), nothing saved', async (t) => {
  const { app, browser, events, csrf } = await signedIn(t)
  const op = await realOp(t, 'corp')
  const bad = await startBadIssuers(t)
  const form = await browser.get('/console/providers/new')
  t.match(form.body, /<label class="check"><input type="checkbox" name="check_discovery" checked> Check the provider's discovery document now/, 'ticked by default on add')
  const fields = { csrf, name: 'corp', client_id: op.clientId, client_secret: op.clientSecret, create_users: 'on', check_discovery: 'on' }
  for (const [label, issuer, why] of [
    ['a dead port', bad.dead, 'ECONNREFUSED'],
    ['another issuer', bad.wrongIssuer, `its issuer is ${bad.namedIssuer}`],
    ['not JSON', bad.notJson, 'OAUTH_RESPONSE_IS_NOT_JSON']
  ] as const) {
    const res = await browser.post('/console/providers', { ...fields, issuer })
    t.equal(res.statusCode, 400, `${label}: 400`)
    t.match(res.body, new RegExp(`role="alert"[^>]*>discovery failed: [^<]*${why.replace(/[.]/g, '\\.')}[^<]*\\(GET ${issuer.replace(/[.]/g, '\\.')}/\\.well-known/openid-configuration\\)`), `${label}: the service's message on the page`)
    t.match(res.body, /name="check_discovery" checked/, `${label}: the box stays ticked`)
    t.notMatch(res.body, op.clientSecret, `${label}: never the secret`)
  }
  t.same(await app.storage.providers.list(), [], 'nothing was saved')
  t.same(changes(events), [], 'refusals are not changes')

  const added = await browser.post('/console/providers', { ...fields, issuer: op.issuer })
  t.equal(added.statusCode, 303)
  t.equal(added.headers.location, '/console/providers/corp?done=created-checked')
  t.match((await browser.get(added.headers.location!)).body, /role="status">Added; its discovery document was read\./)
  t.same(changes(events), [['root', 'POST /console/providers', 'corp']])

  // A plain OAuth 2.0 provider has no document: nothing fetched, and the page says so.
  const hits = bad.hits()
  const plain = await browser.post('/console/providers', {
    ...fields, name: 'gh', issuer: bad.dead, authorization_endpoint: `${bad.dead}/a`, token_endpoint: `${bad.dead}/t`, userinfo_endpoint: `${bad.dead}/u`
  })
  t.equal(plain.headers.location, '/console/providers/gh?done=created-plain')
  t.match((await browser.get(plain.headers.location!)).body, /role="status">Added\. A plain OAuth 2\.0 provider has no discovery document/)
  t.equal(bad.hits(), hits)

  // The edit form: unticked; ticked, a new issuer is read before it is saved.
  const page = await browser.get('/console/providers/corp')
  t.match(page.body, /name="check_discovery">/, 'unticked on edit')
  const edit = { csrf, issuer: bad.wrongIssuer, client_id: op.clientId, client_secret: '', scope: 'openid email profile', display_name: 'Corp', create_users: 'on', check_discovery: 'on' }
  const refused = await browser.post('/console/providers/corp/update', edit)
  t.equal(refused.statusCode, 400)
  t.match(refused.body, /role="alert">discovery failed: its issuer is/)
  t.match(await app.storage.providers.find('corp'), { issuer: op.issuer, displayName: 'corp' }, 'nothing saved')
  const saved = await browser.post('/console/providers/corp/update', { ...edit, issuer: op.issuer })
  t.equal(saved.headers.location, '/console/providers/corp?done=update', 'the issuer unchanged: nothing to read')
  const { check_discovery: _ticked, ...unticked } = edit
  const moved = await browser.post('/console/providers/corp/update', { ...unticked, issuer: bad.dead })
  t.equal(moved.headers.location, '/console/providers/corp?done=update', 'unticked: saved unread')
  const back = await browser.post('/console/providers/corp/update', { ...edit, issuer: op.issuer })
  t.equal(back.headers.location, '/console/providers/corp?done=update-checked')
  t.match((await browser.get(back.headers.location!)).body, /role="status">Saved; its discovery document was read\./)
  t.equal(changes(events).length, 5, 'two adds, three saves; the refusals are not changes')
})

t.test('a POST without the CSRF field, or with another one, is refused (403) and changes nothing', async (t) => {
  const { app, browser } = await signedIn(t)
  await app.providers.add({ name: 'corp', issuer: 'https://login.corp.example', clientId: 'gatehouse', clientSecret: 's' })
  for (const fields of [{}, { csrf: 'A'.repeat(43) }] as Array<Record<string, string>>) {
    t.equal((await browser.post('/console/providers/corp/delete', { ...fields, confirm: 'on' })).statusCode, 403)
    t.equal((await browser.post('/console/providers/corp/update', { ...fields, issuer: 'https://evil.example', client_id: 'x' })).statusCode, 403)
    t.equal((await browser.post('/console/providers', { ...fields, name: 'other', issuer: 'https://login.other.example', client_id: 'x', client_secret: 's' })).statusCode, 403)
  }
  t.match(await app.storage.providers.find('corp'), { issuer: 'https://login.corp.example' })
  t.equal(await app.storage.providers.find('other'), undefined)
  const stranger = new InjectBrowser(app)
  for (const path of ['/console/providers', '/console/providers/new', '/console/providers/corp']) t.equal((await stranger.get(path)).statusCode, 303, `${path}: a sign-in first`)
})

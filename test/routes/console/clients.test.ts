import t from 'tap'
import { basic, build, FORM, form } from '../../support/helper.js'
import { signedInAdmin } from '../../support/console.js'

// The console's clients pages (routes/console/clients.ts): every action through lib/admin/clients.ts, each an
// admin_change event naming the console user and the client; a secret shown once. Runs on SQLite, and on PostgreSQL
// (test/postgres/list.ts).

const PW = 'root password 1'

const signedIn = (t: Parameters<typeof build>[0]) => signedInAdmin(t, PW)

const secretOn = (body: string): string | undefined => /<code class="secret" data-client-secret>([^<]+)<\/code>/.exec(body)?.[1]
const tokenWith = async (app: Awaited<ReturnType<typeof build>>, id: string, secret: string) =>
  (await app.inject({ method: 'POST', url: '/token', headers: { ...FORM, authorization: basic(id, secret) }, payload: form({ grant_type: 'client_credentials' }) })).statusCode

t.test('create: the secret shown once (it works at /token), never again; a public client has none; logged', async (t) => {
  const { app, browser, events, csrf } = await signedIn(t)
  const res = await browser.post('/console/clients', { csrf, client_id: 'billing', grant_client_credentials: 'on', scope: 'items:read' })
  t.equal(res.statusCode, 200, 'the answer to the post is the secret page, not a redirect')
  const secret = secretOn(res.body)
  t.ok(secret, 'the secret is on it')
  t.equal(await tokenWith(app, 'billing', secret!), 200, 'and it works')
  const page = await browser.get('/console/clients/billing')
  t.equal(page.statusCode, 200)
  t.notMatch(page.body, secret!, 'never shown again')
  t.notMatch(page.body, /data-client-secret/)
  t.match(await app.storage.clients.find('billing'), { grantTypes: ['client_credentials'], scope: 'items:read', isPublic: false })
  t.match(events.find((e) => e.type === 'admin_change'), { actor: 'root', action: 'POST /console/clients', target: 'billing' })
  t.notMatch(JSON.stringify(events), secret!, 'the secret is in no event')

  const pub = await browser.post('/console/clients', { csrf, client_id: 'spa', public: 'on', grant_authorization_code: 'on', redirect_uris: 'https://spa.example.test/cb' })
  t.equal(pub.statusCode, 303)
  t.equal(pub.headers.location, '/console/clients/spa?done=created')
  t.match(await app.storage.clients.find('spa'), { isPublic: true, secretHash: null, redirectUris: ['https://spa.example.test/cb'] })
  t.equal((await browser.post('/console/clients', { csrf, client_id: 'spa', public: 'on', grant_authorization_code: 'on', redirect_uris: 'https://spa.example.test/cb' })).statusCode, 409, 'taken')
  const list = await browser.get('/console/clients?limit=1')
  t.match(list.body, />billing</)
  t.notMatch(list.body, />spa</)
  t.match(list.body, /Next page/)
})

t.test('a bad redirect URI shows the service\'s own message; nothing is made', async (t) => {
  const { app, browser, csrf } = await signedIn(t)
  const res = await browser.post('/console/clients', { csrf, client_id: 'web', grant_authorization_code: 'on', redirect_uris: 'https://web.example.test/cb#frag' })
  t.equal(res.statusCode, 400)
  t.match(res.body, /role="alert"[^>]*>redirect URI must not have a fragment: https:\/\/web\.example\.test\/cb#frag</, 'lib/admin/clients.ts\'s own words')
  t.match(res.body, /web\.example\.test\/cb#frag/, 'the form keeps what was typed')
  t.equal(await app.storage.clients.find('web'), undefined)
})

t.test('edit, rotate the secret (shown once, the old one replaced), delete with a confirmation; each logged', async (t) => {
  const { app, browser, events, csrf } = await signedIn(t)
  const created = secretOn((await browser.post('/console/clients', { csrf, client_id: 'app', grant_authorization_code: 'on', redirect_uris: 'https://app.example.test/cb' })).body)!
  const edited = await browser.post('/console/clients/app/update', {
    csrf, grant_authorization_code: 'on', grant_refresh_token: 'on', grant_client_credentials: 'on', scope: 'items:read', redirect_uris: 'https://app.example.test/cb\r\nhttps://app.example.test/other', skip_consent: 'on', require_mfa: 'on', dpop: 'on', require_par: 'on'
  })
  t.equal(edited.statusCode, 303)
  t.match(await app.storage.clients.find('app'), {
    grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
    scope: 'items:read',
    redirectUris: ['https://app.example.test/cb', 'https://app.example.test/other'],
    skipConsent: true,
    requireMfa: true,
    dpopBoundAccessTokens: true,
    requirePar: true
  })
  const bad = await browser.post('/console/clients/app/update', { csrf, grant_authorization_code: 'on', redirect_uris: 'not a url' })
  t.equal(bad.statusCode, 400)
  t.match(bad.body, /role="alert"/)

  const hashBefore = (await app.storage.clients.find('app'))?.secretHash
  const rotated = await browser.post('/console/clients/app/rotate-secret', { csrf })
  t.not((await app.storage.clients.find('app'))?.secretHash, hashBefore, 'the old secret is replaced')
  t.equal(rotated.statusCode, 200)
  const fresh = secretOn(rotated.body)!
  t.not(fresh, created)
  t.notMatch((await browser.get('/console/clients/app')).body, fresh, 'shown once')
  t.equal((await app.storage.clients.find('app'))?.dpopBoundAccessTokens, true, 'the rotation changed nothing else')

  const unconfirmed = await browser.post('/console/clients/app/delete', { csrf })
  t.equal(unconfirmed.statusCode, 400)
  t.match(unconfirmed.body, /Yes, delete this client/)
  t.ok(await app.storage.clients.find('app'), 'not deleted without the box')
  const deleted = await browser.post('/console/clients/app/delete', { csrf, confirm: 'on' })
  t.equal(deleted.statusCode, 303)
  t.equal(await app.storage.clients.find('app'), undefined)
  t.equal((await browser.get('/console/clients/app')).statusCode, 404)
  t.same(events.filter((e) => e.type === 'admin_change').map((e) => [e.actor, e.action, e.target]), [
    ['root', 'POST /console/clients', 'app'],
    ['root', 'POST /console/clients/:clientId/:action', 'app'],
    ['root', 'POST /console/clients/:clientId/:action', 'app'],
    ['root', 'POST /console/clients/:clientId/:action', 'app']
  ], 'create, edit, rotate, delete; the refusals are not changes')
})

t.test('a POST without the CSRF field, or with another one, is refused (403) and changes nothing', async (t) => {
  const { app, browser, csrf } = await signedIn(t)
  await browser.post('/console/clients', { csrf, client_id: 'svc', grant_client_credentials: 'on' })
  for (const fields of [{}, { csrf: 'A'.repeat(43) }] as Array<Record<string, string>>) {
    t.equal((await browser.post('/console/clients/svc/delete', { ...fields, confirm: 'on' })).statusCode, 403)
    t.equal((await browser.post('/console/clients/svc/rotate-secret', fields)).statusCode, 403)
    t.equal((await browser.post('/console/clients', { ...fields, client_id: 'other', grant_client_credentials: 'on' })).statusCode, 403)
  }
  t.ok(await app.storage.clients.find('svc'))
  t.equal(await app.storage.clients.find('other'), undefined)
})

import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { addClient, basic, build, FORM, form } from '../../support/helper.js'
import { InjectBrowser, PASSWORD, REDIRECT, browserFixtures, callbackParams, exchange, field, signInAt, webRequest } from '../../support/browser.js'
import { startUpstreamOp, type UpstreamOp } from '../../support/upstream/op.js'
import { startPlainOAuth } from '../../support/upstream/plain-oauth.js'
import { startUnreachableIssuer } from '../../support/upstream/hostile-op.js'
import { CookieJar } from '../../support/upstream/jar.js'
import { adminAuth, addOidcProvider, callbackUrl, deliver, hasSession, identitiesOf, onToClient, providerLink, providers, startAt, whoGotIn } from '../../support/upstream/flow.js'

// Issue 14, the providers helper's own tests: sign-in through an upstream provider end to end (app.inject
// against real providers on loopback: node-oidc-provider, a GitHub-like stand-in), the account rules, the
// client `providers` restriction and the admin API for providers and identities. On SQLite here; on
// PostgreSQL (test/postgres/list.ts).

async function setup (t: Test, env: Record<string, string> = {}) {
  const app = await build(t, env)
  const fixtures = await browserFixtures(app)
  const admin = await adminAuth(t, app)
  return { app, admin, ...fixtures }
}

async function realOp (t: Test, name = 'corp', extra: Partial<Parameters<typeof startUpstreamOp>[0]> = {}): Promise<UpstreamOp> {
  const op = await startUpstreamOp({ redirectUris: callbackUrl(name), ...extra })
  t.teardown(() => op.close())
  return op
}

/** From /authorize through the provider and back to the client; the client's redirect query. */
async function throughProvider (app: FastifyInstance, name: string, signIn: (url: string) => Promise<string>, browser = new InjectBrowser(app), request = webRequest()) {
  const { providerUrl } = await startAt(browser, request.url, name)
  const back = await deliver(browser, await signIn(providerUrl))
  return { query: await onToClient(browser, back), request, back, browser }
}

/** A full good sign-in; the local user the client sees (/users/me). */
async function signInThrough (app: FastifyInstance, webAuth: string, name: string, signIn: (url: string) => Promise<string>) {
  const { query, request } = await throughProvider(app, name, signIn)
  const code = query.get('code')
  if (!code) throw new Error(`no code: ${query.toString()}`)
  return whoGotIn(app, code, request.verifier, webAuth)
}

t.test('first sign-in creates the user; the second is the same user, with the name refreshed and the local e-mail kept; the password grant refuses it', async (t) => {
  const { app, admin, webAuth } = await setup(t)
  const op = await realOp(t)
  await addOidcProvider(app, 'corp', op, { displayName: 'Corp SSO' })
  const jar = new CookieJar()

  const first = await signInThrough(app, webAuth, 'corp', (url) => op.signInAt(url, 'verified', jar))
  t.match(first, { username: 'vera', full_name: 'Vera Verified', email: 'vera@upstream.test', disabled: false })
  t.not(first.sub, op.accounts.verified.sub, 'sub is the local user\'s id, not the provider\'s')
  t.match(await identitiesOf(app, admin, 'vera'), [{ provider: 'corp', issuer: op.issuer, subject: op.accounts.verified.sub, email: 'vera@upstream.test', linked_at: Number }])
  const stored = await app.storage.users.findByUsername('vera')
  t.equal(stored?.passwordHash, '!upstream', 'no password can sign in as this user')

  op.accounts.verified.name = 'Vera Renamed'
  op.accounts.verified.email = 'vera.new@upstream.test'
  const second = await signInThrough(app, webAuth, 'corp', (url) => op.signInAt(url, 'verified', jar))
  t.equal(second.sub, first.sub, 'the same local user')
  t.equal(second.full_name, 'Vera Renamed', 'full_name follows the provider')
  t.equal(second.email, 'vera@upstream.test', 'the local e-mail does not follow the provider (22.6b)')
  t.match(await identitiesOf(app, admin, 'vera'), [{ provider: 'corp', email: 'vera.new@upstream.test' }], 'the link records the provider\'s new address')
  t.equal((await app.users.list({ limit: 100, offset: 0 })).filter((u) => u.username.startsWith('vera')).length, 1, 'no second user')

  // The password grant and the login form: the ordinary invalid_grant, as for a wrong password.
  for (const password of ['!upstream', '', 'anything']) {
    const res = await app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'password', username: 'vera', password: password || 'x' }) })
    t.equal(res.statusCode, 400)
    t.same(res.json(), { error: 'invalid_grant', error_description: 'invalid username or password' }, `password ${JSON.stringify(password)}: invalid_grant`)
  }
  const browser = new InjectBrowser(app)
  const page = await browser.get(webRequest().url)
  const login = await browser.post('/login', { username: 'vera', password: '!upstream', csrf: field(page.body, 'csrf'), return_to: field(page.body, 'return_to') })
  t.equal(login.statusCode, 401, 'the login form: invalid username or password')
})

t.test('the login page offers every provider by its display name; an unknown provider is a 404 page', async (t) => {
  const { app } = await setup(t)
  const op = await realOp(t)
  await addOidcProvider(app, 'corp', op, { displayName: 'Corp <SSO>' })
  const browser = new InjectBrowser(app)
  const request = webRequest()
  const page = await browser.get(request.url)
  t.match(page.body, 'Continue with Corp &lt;SSO&gt;', 'the display name, escaped')
  t.ok(page.body.includes('name="password"'), 'and the password form')
  const link = providerLink(page.body, 'corp')
  t.equal(link, `/login/corp?return_to=${encodeURIComponent(field(page.body, 'return_to'))}`)
  const plain = await browser.get('/login')
  t.ok(providerLink(plain.body, 'corp')?.startsWith('/login/corp'), 'the bare login page offers it too')
  const unknown = await browser.get('/login/nope')
  t.equal(unknown.statusCode, 404)
  t.match(String(unknown.headers['content-type']), /^text\/html/)
  t.equal((await browser.get('/login/nope/callback?state=x&code=y')).statusCode, 404)
  t.equal((await browser.get('/login/..%2Fadmin')).statusCode, 404)
})

t.test('--no-create-users: an unknown account goes back to the client with access_denied; a linked one still signs in', async (t) => {
  const { app, webAuth } = await setup(t)
  const op = await realOp(t)
  await addOidcProvider(app, 'corp', op)
  const vera = await signInThrough(app, webAuth, 'corp', (url) => op.signInAt(url, 'verified'))
  await providers(app).update('corp', { createUsers: false })
  const { query, back } = await throughProvider(app, 'corp', (url) => op.signInAt(url, 'unverified'))
  t.equal(back.statusCode, 303)
  t.equal(query.get('error'), 'access_denied')
  t.equal(query.get('state'), 'st-1')
  t.equal(query.get('iss'), 'http://gatehouse.test')
  t.notOk(back.headers['set-cookie']?.toString().includes('gatehouse-session=') ?? false, 'no session')
  t.equal(await app.storage.users.findByUsername('uma'), undefined, 'no user created')
  t.equal((await signInThrough(app, webAuth, 'corp', (url) => op.signInAt(url, 'verified'))).sub, vera.sub)
})

t.test('--link-by-email: links on a verified e-mail only; without the flag never', async (t) => {
  t.test('verified e-mail, flag on: the existing local user', async (t) => {
    const { app, admin, webAuth } = await setup(t)
    const op = await realOp(t, 'corp', { accounts: { verified: { sub: 'a-1', email: 'ALICE@example.test', email_verified: true, name: 'Alice From Corp', preferred_username: 'alice' } } })
    await addOidcProvider(app, 'corp', op, { linkByEmail: true })
    const me = await signInThrough(app, webAuth, 'corp', (url) => op.signInAt(url, 'verified'))
    t.equal(me.username, 'alice', 'linked to alice (e-mail compared case-insensitively)')
    t.equal(me.full_name, 'Alice From Corp', 'her name follows the provider')
    t.equal(me.email, 'alice@example.test', 'the same address in another case is not a change')
    t.same((await identitiesOf(app, admin, 'alice')).map((i) => i.subject), ['a-1'])
  })
  t.test('unverified e-mail, flag on: a new user, not alice', async (t) => {
    const { app, admin, webAuth } = await setup(t)
    const op = await realOp(t, 'corp', { accounts: { unverified: { sub: 'u-1', email: 'alice@example.test', email_verified: false, name: 'Mallory', preferred_username: 'mallory' } } })
    await addOidcProvider(app, 'corp', op, { linkByEmail: true })
    const me = await signInThrough(app, webAuth, 'corp', (url) => op.signInAt(url, 'unverified'))
    t.equal(me.username, 'mallory')
    t.equal(me.email, null, 'an unverified e-mail is never stored')
    t.same(await identitiesOf(app, admin, 'alice'), [])
  })
  t.test('verified e-mail, flag off: a new user (username taken: generated), alice untouched', async (t) => {
    const { app, admin, webAuth } = await setup(t)
    const op = await realOp(t, 'corp', { accounts: { verified: { sub: 'a-2', email: 'alice@example.test', email_verified: true, name: 'Other Alice', preferred_username: 'alice' } } })
    await addOidcProvider(app, 'corp', op)
    const me = await signInThrough(app, webAuth, 'corp', (url) => op.signInAt(url, 'verified'))
    t.match(me.username, /^corp-[0-9a-f]{10}$/, 'preferred_username and e-mail taken or not free: a generated name')
    t.equal(me.email, null, 'alice\'s e-mail is not given to another user')
    t.same(await identitiesOf(app, admin, 'alice'), [])
    t.equal((await app.storage.users.findByUsername('alice'))?.fullName, 'Alice Liddell')
  })
})

t.test('a disabled user is refused (access_denied back to the client), and signs in again once enabled', async (t) => {
  const { app, admin, webAuth } = await setup(t)
  const op = await realOp(t)
  await addOidcProvider(app, 'corp', op)
  const vera = await signInThrough(app, webAuth, 'corp', (url) => op.signInAt(url, 'verified'))
  const disable = await app.inject({ method: 'PATCH', url: '/admin/users/vera', headers: admin, payload: { disabled: true } })
  t.equal(disable.statusCode, 200)
  const { query } = await throughProvider(app, 'corp', (url) => op.signInAt(url, 'verified'))
  t.equal(query.get('error'), 'access_denied')
  await app.inject({ method: 'PATCH', url: '/admin/users/vera', headers: admin, payload: { disabled: false } })
  t.equal((await signInThrough(app, webAuth, 'corp', (url) => op.signInAt(url, 'verified'))).sub, vera.sub)
})

t.test('unlink through the admin API: the account\'s next sign-in is a first one', async (t) => {
  const { app, admin, webAuth } = await setup(t)
  const op = await realOp(t)
  await addOidcProvider(app, 'corp', op)
  const vera = await signInThrough(app, webAuth, 'corp', (url) => op.signInAt(url, 'verified'))
  const unlink = await app.inject({ method: 'DELETE', url: '/admin/users/vera/identities/corp', headers: admin })
  t.equal(unlink.statusCode, 204)
  t.same(await identitiesOf(app, admin, 'vera'), [])
  const again = await app.inject({ method: 'DELETE', url: '/admin/users/vera/identities/corp', headers: admin })
  t.equal(again.statusCode, 404)
  t.equal(again.json().error, 'not_found')
  t.equal((await app.inject({ method: 'GET', url: '/admin/users/nobody/identities', headers: admin })).statusCode, 404)
  const next = await signInThrough(app, webAuth, 'corp', (url) => op.signInAt(url, 'verified'))
  t.not(next.sub, vera.sub, 'a new local user')
  t.not(next.username, 'vera')
  t.equal(next.email, null, 'vera keeps her e-mail; the new user does not get it')
})

t.test('a client\'s providers: only those offered, no password form, POST /login refused, another provider refused', async (t) => {
  const { app, admin, webAuth } = await setup(t)
  const op = await realOp(t)
  const other = await realOp(t, 'other')
  await addOidcProvider(app, 'corp', op, { displayName: 'Corp SSO' })
  await addOidcProvider(app, 'other', other, { displayName: 'Other IdP' })
  const bad = await app.inject({ method: 'PATCH', url: '/admin/clients/web', headers: admin, payload: { providers: ['nope'] } })
  t.equal(bad.statusCode, 400, 'an unknown provider name')
  const set = await app.inject({ method: 'PATCH', url: '/admin/clients/web', headers: admin, payload: { providers: ['corp'] } })
  t.equal(set.statusCode, 200)
  t.same(set.json().providers, ['corp'])

  const browser = new InjectBrowser(app)
  const request = webRequest()
  const page = await browser.get(request.url)
  t.equal(page.statusCode, 200)
  t.notOk(page.body.includes('name="password"'), 'no password form')
  t.ok(providerLink(page.body, 'corp'), 'corp offered')
  t.notOk(providerLink(page.body, 'other'), 'other not offered')
  const login = await browser.post('/login', { username: 'alice', password: 'correct horse battery staple', csrf: browser.cookies.get('gatehouse-csrf') ?? '', return_to: request.url })
  t.equal(login.statusCode, 403, 'the password form is refused for this client')
  t.notOk(browser.cookies.has('gatehouse-session'))
  const viaOther = await browser.get(`/login/other?return_to=${encodeURIComponent(request.url)}`)
  t.equal(viaOther.statusCode, 403, 'a provider the client does not offer')

  const me = await signInThrough(app, webAuth, 'corp', (url) => op.signInAt(url, 'verified'))
  t.equal(me.username, 'vera', 'the offered provider works')

  const lifted = await app.inject({ method: 'PATCH', url: '/admin/clients/web', headers: admin, payload: { providers: null } })
  t.equal(lifted.json().providers, null)
  t.ok((await new InjectBrowser(app).get(webRequest().url)).body.includes('name="password"'), 'the password form is back')
})

t.test('22.4: a client restricted to corp accepts only a session signed in through corp (password form, bare /login, another provider: asked again)', async (t) => {
  const { app } = await setup(t)
  const op = await realOp(t)
  const other = await realOp(t, 'other')
  await addOidcProvider(app, 'corp', op, { displayName: 'Corp SSO' })
  await addOidcProvider(app, 'other', other, { displayName: 'Other IdP' })
  // Skip-consent, so an accepted session gives a code at once, even under prompt=none.
  const secret = (await addClient(app, 'corp-app', { grantTypes: ['authorization_code'], redirectUris: [REDIRECT] }))!
  await app.storage.clients.update('corp-app', { providers: ['corp'], skipConsent: true })
  const corpApp = (over: Record<string, string> = {}) => webRequest({ client_id: 'corp-app', ...over })

  /** What corp-app gets from this browser's session: prompt=none, then the page without it. */
  async function corpAppSees (browser: InjectBrowser) {
    const request = corpApp({ prompt: 'none' })
    const silent = callbackParams(await browser.get(request.url))
    const page = await browser.get(corpApp().url)
    return { silent, page, request }
  }
  const passwordSession = async () => {
    const browser = new InjectBrowser(app)
    t.equal((await signInAt(browser, webRequest().url)).statusCode, 303, 'signed in with a password through web')
    return browser
  }
  const bareLoginSession = async () => {
    const browser = new InjectBrowser(app)
    const page = await browser.get('/login')
    const res = await browser.post('/login', { username: 'alice', password: PASSWORD, csrf: field(page.body, 'csrf') })
    t.equal(res.headers.location, '/login', 'signed in on the bare /login')
    return browser
  }
  const providerSession = async (name: string, provider: UpstreamOp) => {
    const { browser, query } = await throughProvider(app, name, (url) => provider.signInAt(url, 'verified'))
    t.ok(query.get('code'), `signed in through ${name} for web`)
    return browser
  }

  for (const [how, session] of [['the password form', passwordSession], ['the bare /login', bareLoginSession], ['another provider', () => providerSession('other', other)]] as const) {
    const browser = await session()
    t.ok(hasSession(browser), `${how}: a session`)
    const { silent, page } = await corpAppSees(browser)
    t.equal(silent.get('error'), 'login_required', `${how}: prompt=none answers login_required`)
    t.equal(silent.get('code'), null, `${how}: no code`)
    t.equal(page.statusCode, 200, `${how}: the login page`)
    t.ok(providerLink(page.body, 'corp'), `${how}: offering corp`)
    t.notOk(providerLink(page.body, 'other'), `${how}: and nothing else`)
    t.notOk(page.body.includes('name="password"'), `${how}: no password form`)
    // Signing in through corp from there answers corp-app.
    const back = await deliver(browser, await op.signInAt((await startAt(browser, corpApp().url, 'corp')).providerUrl, 'verified'))
    t.ok((await onToClient(browser, back)).get('code'), `${how}: then corp signs in and corp-app gets its code`)
  }

  const browser = await providerSession('corp', op)
  const { silent, request } = await corpAppSees(browser)
  t.equal(silent.get('error'), null, 'a session from corp: accepted')
  const tokens = await exchange(app, { code: silent.get('code') ?? '', code_verifier: request.verifier }, basic('corp-app', secret))
  t.equal(tokens.statusCode, 200, 'and its code redeemed')
  const sessions = await app.storage.sessions.listForUser((await app.storage.users.findByUsername('vera'))!.id, app.clock.now())
  t.ok(sessions.some((s) => s.provider === 'corp'), 'the session says corp')
})

t.test('plain OAuth 2.0 (a GitHub-like stand-in): numeric subject, claim mapping, e-mail never verified without a claim', async (t) => {
  const { app, admin, webAuth } = await setup(t)
  const gh = await startPlainOAuth({ redirectUris: callbackUrl('gh') })
  t.teardown(() => gh.close())
  const view = await providers(app).add({
    name: 'gh',
    issuer: gh.issuer,
    clientId: gh.clientId,
    clientSecret: gh.clientSecret,
    displayName: 'GitHub',
    authorizationEndpoint: gh.endpoints.authorization,
    tokenEndpoint: gh.endpoints.token,
    userinfoEndpoint: gh.endpoints.userinfo,
    claims: { subject: 'id', username: 'login' }
  })
  t.notOk('client_secret' in view, 'the view has no secret')
  t.equal(view.redirect_uri, callbackUrl('gh'))
  const { query, request, browser } = await throughProvider(app, 'gh', (url) => gh.signInAt(url))
  const me = await whoGotIn(app, query.get('code') ?? '', request.verifier, webAuth)
  t.match(me, { username: 'octocat', full_name: 'The Octocat', email: null })
  t.same((await identitiesOf(app, admin, 'octocat')).map((i) => [i.provider, i.subject]), [['gh', '12345']], 'the number 12345 as text')
  t.ok(browser.cookies.has('gatehouse-session'))

  // With an email_verified mapping, a verified e-mail is taken at a first sign-in; an existing user's local
  // e-mail is not set later by the provider (22.6b), only recorded on the link.
  await providers(app).update('gh', { claims: { emailVerified: 'email_verified' } })
  gh.users.octocat!.email_verified = true
  const again = await signInThrough(app, webAuth, 'gh', (url) => gh.signInAt(url))
  t.equal(again.sub, me.sub)
  t.equal(again.email, null, 'octocat: still none locally')
  gh.users.hubot = { id: 67890, login: 'hubot', name: 'Hubot', email: 'hubot@plain.test', email_verified: true }
  const hubot = await signInThrough(app, webAuth, 'gh', (url) => gh.signInAt(url, 'hubot'))
  t.match(hubot, { username: 'hubot', email: 'hubot@plain.test' }, 'a first sign-in with a verified e-mail: kept')
})

t.test('ES256 ID tokens are accepted (the alg the provider advertises)', async (t) => {
  const { app, webAuth } = await setup(t)
  const op = await realOp(t, 'corp', { idTokenAlg: 'ES256', claimsInIdToken: true })
  await addOidcProvider(app, 'corp', op)
  t.equal((await signInThrough(app, webAuth, 'corp', (url) => op.signInAt(url, 'verified'))).username, 'vera')
})

t.test('a provider that never answers: 502 page within UPSTREAM_TIMEOUT_MS, and the next try asks again', async (t) => {
  const { app } = await setup(t, { UPSTREAM_TIMEOUT_MS: '300' })
  const silent = await startUnreachableIssuer('silent')
  t.teardown(() => silent.close())
  await providers(app).add({ name: 'slow', issuer: silent.issuer, clientId: 'x', clientSecret: 'y' })
  const browser = new InjectBrowser(app)
  for (const attempt of [1, 2]) {
    const res = await browser.get(`/login/slow?return_to=${encodeURIComponent(webRequest().url)}`)
    t.equal(res.statusCode, 502, `attempt ${attempt}: 502`)
    t.match(String(res.headers['content-type']), /^text\/html/)
    t.notOk(res.headers.location)
  }
})

t.test('admin API for providers: the secret never comes out; bad input is a 400; names are unique', async (t) => {
  const { app, admin } = await setup(t)
  const body = { name: 'corp', issuer: 'https://login.corp.example', client_id: 'gh-client', client_secret: 'top-secret-value' }
  const created = await app.inject({ method: 'POST', url: '/admin/providers', headers: admin, payload: body })
  t.equal(created.statusCode, 201)
  t.match(created.json(), { name: 'corp', issuer: body.issuer, client_id: 'gh-client', scope: 'openid email profile', display_name: 'corp', link_by_email: false, link_linked_accounts: false, create_users: true, redirect_uri: 'http://gatehouse.test/login/corp/callback' })
  t.notOk(created.body.includes('top-secret-value'), 'POST: no secret')
  const list = await app.inject({ method: 'GET', url: '/admin/providers', headers: admin })
  t.equal(list.statusCode, 200)
  t.same(list.json().map((p: { name: string }) => p.name), ['corp'])
  t.notOk(list.body.includes('top-secret-value'), 'list: no secret')
  const one = await app.inject({ method: 'GET', url: '/admin/providers/corp', headers: admin })
  t.equal(one.statusCode, 200)
  t.notOk(one.body.includes('secret'), 'GET: no secret field at all')
  const patched = await app.inject({ method: 'PATCH', url: '/admin/providers/corp', headers: admin, payload: { client_secret: 'rotated-secret', display_name: 'Corp', create_users: false, link_linked_accounts: true } })
  t.equal(patched.statusCode, 200)
  t.match(patched.json(), { display_name: 'Corp', create_users: false, link_linked_accounts: true })
  t.notOk(patched.body.includes('rotated-secret'))
  t.equal((await app.storage.providers.find('corp'))?.clientSecret, 'rotated-secret', 'the new secret is stored')
  t.equal((await app.inject({ method: 'POST', url: '/admin/providers', headers: admin, payload: body })).statusCode, 409)

  const refusals: Array<[string, Record<string, unknown>]> = [
    ['http issuer not on loopback', { ...body, name: 'a', issuer: 'http://login.corp.example' }],
    ['not a URL', { ...body, name: 'b', issuer: 'login.corp.example' }],
    ['a bad name', { ...body, name: 'Corp!' }],
    ['scope without openid', { ...body, name: 'c', scope: 'email' }],
    ['plain OAuth without userinfo', { ...body, name: 'd', authorization_endpoint: 'https://x.example/a', token_endpoint: 'https://x.example/t' }],
    ['an unknown field', { ...body, name: 'e', client_secret_hash: 'x' }],
    ['no secret', { name: 'f', issuer: body.issuer, client_id: 'x' }],
    ['a non-boolean flag', { ...body, name: 'g', link_by_email: 'yes' }],
    ['an empty secret', { ...body, name: 'h', client_secret: '' }]
  ]
  for (const [label, payload] of refusals) {
    const res = await app.inject({ method: 'POST', url: '/admin/providers', headers: admin, payload })
    t.equal(res.statusCode, 400, `${label}: 400`)
    t.equal(res.json().error, 'invalid_request', label)
  }
  t.equal((await app.inject({ method: 'GET', url: '/admin/providers/nope', headers: admin })).statusCode, 404)
  t.equal((await app.inject({ method: 'PATCH', url: '/admin/providers/nope', headers: admin, payload: { display_name: 'x' } })).statusCode, 404)
  t.equal((await app.inject({ method: 'DELETE', url: '/admin/providers/corp', headers: admin })).statusCode, 204)
  t.equal((await app.inject({ method: 'DELETE', url: '/admin/providers/corp', headers: admin })).statusCode, 404)
  t.equal((await app.inject({ method: 'GET', url: '/admin/providers' })).statusCode, 401, 'no token')
})

t.test('the pending sign-in is single use and bound to the browser; a provider\'s error=access_denied goes back to the client', async (t) => {
  const { app, webAuth } = await setup(t)
  const op = await realOp(t)
  await addOidcProvider(app, 'corp', op)
  const browser = new InjectBrowser(app)
  const request = webRequest()
  const { providerUrl } = await startAt(browser, request.url, 'corp')
  const callback = await op.signInAt(providerUrl, 'verified')
  const elsewhere = new InjectBrowser(app)
  const stranger = await deliver(elsewhere, callback)
  t.equal(stranger.statusCode, 400, 'another browser: 400')
  t.notOk(elsewhere.cookies.has('gatehouse-session'))
  const mine = await deliver(browser, callback)
  t.equal(mine.statusCode, 303, 'this browser: on (the stranger did not burn it)')
  const code = (await onToClient(browser, mine)).get('code')
  t.ok(code)
  t.equal((await whoGotIn(app, code ?? '', request.verifier, webAuth)).username, 'vera')
  const replay = await deliver(browser, callback)
  t.equal(replay.statusCode, 400, 'replayed: 400')

  const fresh = new InjectBrowser(app)
  const cancelled = await startAt(fresh, webRequest({ state: 'st-2' }).url, 'corp')
  const denied = await deliver(fresh, await op.cancelAt(cancelled.providerUrl))
  t.equal(denied.statusCode, 303)
  t.equal(callbackParams(denied).get('error'), 'access_denied')
  t.equal(callbackParams(denied).get('state'), 'st-2')
})

t.test('starting sign-ins is limited per address (429 page with Retry-After); other addresses go on', async (t) => {
  const { app } = await setup(t)
  const op = await realOp(t)
  await addOidcProvider(app, 'corp', op)
  const start = (remoteAddress: string) => app.inject({ method: 'GET', url: '/login/corp', remoteAddress })
  for (let i = 0; i < 60; i++) {
    const res = await start('192.0.2.7')
    if (res.statusCode !== 303) t.fail(`start ${i + 1}: ${res.statusCode}`)
  }
  const refused = await start('192.0.2.7')
  t.equal(refused.statusCode, 429, 'the 61st start in a minute: 429')
  t.match(String(refused.headers['content-type']), /^text\/html/)
  t.ok(Number(refused.headers['retry-after']) >= 1, 'Retry-After')
  t.equal((await start('192.0.2.8')).statusCode, 303, 'another address is not affected')
})

t.test('starts sent at once count one by one: exactly 60 pass per address, in memory and across two instances sharing Redis', async (t) => {
  const burst = async (apps: FastifyInstance[], count: number) => {
    const statuses = await Promise.all(Array.from({ length: count }, (_, i) =>
      apps[i % apps.length]!.inject({ method: 'GET', url: '/login/corp', remoteAddress: '192.0.2.9' }).then((res) => res.statusCode)))
    return { started: statuses.filter((s) => s === 303).length, refused: statuses.filter((s) => s === 429).length }
  }
  const op = await realOp(t)

  const { app } = await setup(t)
  await addOidcProvider(app, 'corp', op)
  t.same(await burst([app], 80), { started: 60, refused: 20 }, 'one instance: 60 started, 20 refused')

  // Both instances count in the same Redis keys (one REDIS_PREFIX); REDIS_TIMEOUT_MS as in the brute-force race test.
  const shared = { REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', REDIS_PREFIX: `starts-${Date.now()}-${Math.random().toString(36).slice(2)}:`, REDIS_TIMEOUT_MS: '1000' }
  const a = (await setup(t, shared)).app
  const b = (await setup(t, shared)).app
  await addOidcProvider(a, 'corp', op)
  await addOidcProvider(b, 'corp', op)
  t.same(await burst([a, b], 80), { started: 60, refused: 20 }, 'two instances sharing Redis: 60 started, 20 refused')
})

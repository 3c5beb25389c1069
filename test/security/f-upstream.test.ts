import t, { type Test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { addUser, build, manualClock, type ManualClock } from '../support/helper.js'
import { InjectBrowser, REDIRECT, browserFixtures, field, webRequest } from '../support/browser.js'
import { startUpstreamOp, type UpstreamOp } from '../support/upstream/op.js'
import { startHostileOp, startUnreachableIssuer, type HostileMode, type HostileOp } from '../support/upstream/hostile-op.js'
import { startPlainOAuth } from '../support/upstream/plain-oauth.js'
import { assertJsonLines, buildLogged } from '../support/security.js'
import { adminAuth, addOidcProvider, callbackUrl, deliver, hasSession, identitiesOf, onToClient, providers, startAt, whoGotIn } from '../support/upstream/flow.js'

// Issue 14's security cases for sign-in through an upstream provider (SECURITY-CASES.md F1, F2, and the
// failure answers of CONTRACT.md "Upstream providers"), through app.inject against real upstream servers on
// loopback (test/support/upstream/). On SQLite here; on PostgreSQL through test/postgres/upstream-security.test.ts.
// Every refusal must be an HTML error page with the exact status, no Location, and no Gatehouse session.

const ISSUER = 'http://gatehouse.test'

async function setup (t: Test, env: Record<string, string> = {}, clock?: ManualClock) {
  const app = await build(t, env, clock ? { clock } : {})
  const fixtures = await browserFixtures(app)
  return { app, ...fixtures }
}

async function realOp (t: Test, name = 'corp', extra: Partial<Parameters<typeof startUpstreamOp>[0]> = {}): Promise<UpstreamOp> {
  const op = await startUpstreamOp({ redirectUris: callbackUrl(name), ...extra })
  t.teardown(() => op.close())
  return op
}

async function hostileOp (t: Test, name = 'hostile', claims?: HostileOp['claims']): Promise<HostileOp> {
  const op = await startHostileOp({ redirectUris: callbackUrl(name), ...(claims ? { claims } : {}) })
  t.teardown(() => op.close())
  return op
}

/** An HTML error page with this status: no redirect, no session cookie set. */
function refused (t: Test, res: LightMyRequestResponse, status: number, label: string) {
  t.equal(res.statusCode, status, `${label}: ${status}`)
  t.notOk(res.headers.location, `${label}: no Location`)
  t.match(String(res.headers['content-type']), /^text\/html/, `${label}: an HTML page`)
  const cookies = [res.headers['set-cookie'] ?? []].flat().join('\n')
  t.notMatch(cookies, /gatehouse-session=[^;]/, `${label}: no session cookie`)
  t.notOk(res.body.includes('    at '), `${label}: no stack trace`)
  t.equal(res.headers['cache-control'], 'no-store', `${label}: Cache-Control: no-store`)
  t.equal(res.headers['x-frame-options'], 'DENY', `${label}: X-Frame-Options: DENY`)
  t.match(String(res.headers['content-security-policy']), /frame-ancestors 'none'/, `${label}: CSP frame-ancestors 'none'`)
}

/** Whether the browser is signed in at Gatehouse: /authorize shows the login page when it is not. */
async function signedIn (browser: InjectBrowser): Promise<boolean> {
  const page = await browser.get(webRequest().url)
  return !(page.statusCode === 200 && page.body.includes('name="password"'))
}

/** A full good sign-in at provider `name` through `op`; returns the local user the client sees. */
async function signInThrough (app: FastifyInstance, webAuth: string, name: string, signIn: (url: string) => Promise<string>, browser = new InjectBrowser(app)) {
  const request = webRequest()
  const { providerUrl } = await startAt(browser, request.url, name)
  const back = await deliver(browser, await signIn(providerUrl))
  const query = await onToClient(browser, back)
  const code = query.get('code')
  if (!code) throw new Error(`no code: ${query.toString()}`)
  return whoGotIn(app, code, request.verifier, webAuth)
}

t.test('the good path first (so every refusal below is a refusal of something that works)', async (t) => {
  const { app, webAuth } = await setup(t)
  const op = await realOp(t)
  await addOidcProvider(app, 'corp', op)
  const browser = new InjectBrowser(app)
  const request = webRequest()
  const { providerUrl, res } = await startAt(browser, request.url, 'corp')
  t.equal(res.statusCode, 303, '/login/corp: 303 to the provider')
  const sent = new URL(providerUrl).searchParams
  t.ok(providerUrl.startsWith(`${op.issuer}/auth?`), 'to the OP\'s authorization endpoint')
  t.equal(sent.get('redirect_uri'), callbackUrl('corp'))
  t.equal(sent.get('code_challenge_method'), 'S256', 'PKCE S256')
  t.ok(sent.get('state') && sent.get('nonce'), 'state and nonce')
  const me = await signInThrough(app, webAuth, 'corp', (url) => op.signInAt(url, 'verified'), browser)
  t.equal(me.email, op.accounts.verified.email)
})

t.test('F1: the callback opened in another browser (state not bound to it): 400, no session there', async (t) => {
  const { app } = await setup(t)
  const op = await realOp(t)
  await addOidcProvider(app, 'corp', op)
  const victim = new InjectBrowser(app)
  const { providerUrl } = await startAt(victim, webRequest().url, 'corp')
  const callback = await op.signInAt(providerUrl, 'verified')
  const attacker = new InjectBrowser(app)
  refused(t, await deliver(attacker, callback), 400, 'no binding cookie')
  t.notOk(hasSession(attacker))
  t.notOk(await signedIn(attacker), 'the other browser is not signed in')

  // An attacker who started a flow of their own holds a binding cookie, but not the one of the victim's state.
  const other = new InjectBrowser(app)
  t.ok((await startAt(other, webRequest().url, 'corp')).providerUrl)
  const victim2 = new InjectBrowser(app)
  const callback2 = await op.signInAt((await startAt(victim2, webRequest().url, 'corp')).providerUrl, 'verified')
  refused(t, await deliver(other, callback2), 400, 'another browser\'s state')
  t.notOk(await signedIn(other))
})

t.test('F1: a replayed state (the same callback twice): 400 the second time, no new session', async (t) => {
  const { app } = await setup(t)
  const op = await realOp(t)
  await addOidcProvider(app, 'corp', op)
  const browser = new InjectBrowser(app)
  const { providerUrl } = await startAt(browser, webRequest().url, 'corp')
  const callback = await op.signInAt(providerUrl, 'verified')
  const first = await deliver(browser, callback)
  t.equal(first.statusCode, 303, 'the first delivery signs in')
  refused(t, await deliver(browser, callback), 400, 'replayed')
  // And in a fresh browser carrying the binding cookie of the first (a stolen cookie + URL): still single use.
  const thief = new InjectBrowser(app)
  for (const [k, v] of browser.cookies) if (k !== 'gatehouse-session') thief.cookies.set(k, v)
  refused(t, await deliver(thief, callback), 400, 'replayed with the binding cookie')
  t.notOk(hasSession(thief))
})

t.test('F1: forged, missing or foreign state: 400, no session', async (t) => {
  const { app } = await setup(t)
  const op = await realOp(t)
  await addOidcProvider(app, 'corp', op)
  const browser = new InjectBrowser(app)
  const { providerUrl } = await startAt(browser, webRequest().url, 'corp')
  const callback = new URL(await op.signInAt(providerUrl, 'verified'))
  const forged = new URL(callback)
  forged.searchParams.set('state', 'forged-state-value-that-gatehouse-never-issued')
  refused(t, await deliver(browser, forged.href), 400, 'forged state')
  const missing = new URL(callback)
  missing.searchParams.delete('state')
  refused(t, await deliver(browser, missing.href), 400, 'no state')
  refused(t, await browser.get('/login/corp/callback'), 400, 'no parameters at all')
  refused(t, await browser.get('/login/corp/callback?state=&code='), 400, 'empty parameters')
  refused(t, await browser.get('/login/corp/callback?state=a&state=b&code=c'), 400, 'state twice')
  t.notOk(await signedIn(browser))
})

t.test('F1: an ID token with a wrong nonce, iss or aud, alg none, a bad RS256 signature, expired, or no nonce: 400, no session', async (t) => {
  const { app } = await setup(t)
  const op = await hostileOp(t)
  await addOidcProvider(app, 'hostile', op)
  const modes: HostileMode[] = ['wrong-nonce', 'wrong-iss', 'wrong-aud', 'alg-none', 'bad-signature', 'expired', 'no-nonce']
  for (const mode of modes) {
    const browser = new InjectBrowser(app)
    op.mode = 'good'
    const { providerUrl } = await startAt(browser, webRequest().url, 'hostile')
    const callback = await op.signInAt(providerUrl)
    op.mode = mode
    refused(t, await deliver(browser, callback), 400, mode)
    t.notOk(await signedIn(browser), `${mode}: not signed in`)
  }
  t.equal(op.seen.token.length, modes.length, 'each callback did reach the token endpoint (the ID token itself was refused)')
  // The same OP in mode 'good' signs in: the refusals above were the ID token's.
  op.mode = 'good'
  const browser = new InjectBrowser(app)
  const { providerUrl } = await startAt(browser, webRequest().url, 'hostile')
  t.equal((await deliver(browser, await op.signInAt(providerUrl))).statusCode, 303, 'good: signed in')
})

/** A sign-in at the hostile OP up to its callback, after which its token endpoint goes `mode`. */
async function callbackThenFault (t: Test, app: FastifyInstance, mode: HostileMode) {
  const op = await hostileOp(t)
  await addOidcProvider(app, 'hostile', op)
  const browser = new InjectBrowser(app)
  const { providerUrl } = await startAt(browser, webRequest().url, 'hostile')
  const callback = await op.signInAt(providerUrl)
  op.mode = mode
  return { browser, callback }
}

t.test('F1: the provider\'s token endpoint refuses the code: 400, no session', async (t) => {
  const { app } = await setup(t)
  const { browser, callback } = await callbackThenFault(t, app, 'token-error')
  refused(t, await deliver(browser, callback), 400, 'invalid_grant from the provider\'s token endpoint')
  t.notOk(await signedIn(browser))
})

t.test('F2: IdP-B asserts the sub and e-mail of an account linked via IdP-A: never that account', async (t) => {
  const { app, webAuth } = await setup(t)
  const admin = await adminAuth(t, app)
  const idpA = await realOp(t, 'idpa')
  await addOidcProvider(app, 'idpa', idpA)
  const vera = await signInThrough(app, webAuth, 'idpa', (url) => idpA.signInAt(url, 'verified'))
  t.same((await identitiesOf(app, admin, vera.username)).map((i) => [i.provider, i.subject]), [['idpa', idpA.accounts.verified.sub]])

  const { sub, email, name, preferred_username: username } = idpA.accounts.verified
  const idpB = await hostileOp(t, 'idpb', { sub, email, email_verified: true, name, preferred_username: username })
  await addOidcProvider(app, 'idpb', idpB)
  const viaB = await signInThrough(app, webAuth, 'idpb', (url) => idpB.signInAt(url))
  t.not(viaB.sub, vera.sub, 'IdP-B\'s claim of the same sub and e-mail gives another local user')
  t.not(viaB.username, vera.username)
  // (E-mails are not unique among local users; --link-by-email links only when exactly one user has it.)
  t.same((await identitiesOf(app, admin, vera.username)).map((i) => i.provider), ['idpa'], 'nothing linked to vera through idpb')

  // With --no-create-users at IdP-B: refused outright (access_denied back to the client).
  await providers(app).update('idpb', { createUsers: false })
  idpB.claims = { ...idpB.claims, sub: 'another-sub-at-b' }
  const browser = new InjectBrowser(app)
  const request = webRequest()
  const { providerUrl } = await startAt(browser, request.url, 'idpb')
  const back = await onToClient(browser, await deliver(browser, await idpB.signInAt(providerUrl)))
  t.equal(back.get('error'), 'access_denied')
  t.equal(back.get('state'), 'st-1')
  t.notOk(hasSession(browser))
})

t.test('F2: IdP-A\'s response delivered to IdP-B\'s callback: rejected, no session', async (t) => {
  const { app } = await setup(t)
  const idpA = await realOp(t, 'idpa', { redirectUris: [callbackUrl('idpa'), callbackUrl('idpb')] })
  const idpB = await hostileOp(t, 'idpb')
  await addOidcProvider(app, 'idpa', idpA)
  await addOidcProvider(app, 'idpb', idpB)
  const browser = new InjectBrowser(app)
  const { providerUrl } = await startAt(browser, webRequest().url, 'idpa')
  const fromA = await idpA.signInAt(providerUrl, 'verified')
  refused(t, await deliver(browser, fromA, 'idpb'), 400, 'A\'s code and state at B\'s callback')
  t.equal(idpB.seen.token.length, 0, 'A\'s code never went to B\'s token endpoint')
  t.notOk(await signedIn(browser))

  // With a transaction for B pending in the same browser, A's answer still does not pass as B's.
  const pendingB = await startAt(browser, webRequest().url, 'idpb')
  const withBState = new URL(fromA)
  withBState.searchParams.set('state', new URL(pendingB.providerUrl).searchParams.get('state') ?? '')
  const res = await deliver(browser, withBState.href, 'idpb')
  t.not(res.statusCode, 303, 'B\'s state with A\'s code and iss: not signed in')
  t.notOk(hasSession(browser))
})

t.test('F2: a sign-in started at provider A, its answer (without iss) delivered to a plain-OAuth provider B\'s callback: 400, nothing reaches B\'s token endpoint', async (t) => {
  const { app } = await setup(t)
  const plainB = await startPlainOAuth({ redirectUris: callbackUrl('plainb') })
  t.teardown(() => plainB.close())
  await providers(app).add({
    name: 'plainb',
    issuer: plainB.issuer,
    clientId: plainB.clientId,
    clientSecret: plainB.clientSecret,
    scope: 'read:user',
    authorizationEndpoint: plainB.endpoints.authorization,
    tokenEndpoint: plainB.endpoints.token,
    userinfoEndpoint: plainB.endpoints.userinfo,
    claims: { subject: 'id', email: 'email', name: 'name', username: 'login' }
  })
  // A: an OpenID provider (its iss taken off the answer) and another plain-OAuth provider (it never sends one).
  const oidcA = await realOp(t, 'oidca')
  await addOidcProvider(app, 'oidca', oidcA)
  const plainA = await startPlainOAuth({ redirectUris: callbackUrl('plaina'), users: plainB.users })
  t.teardown(() => plainA.close())
  await providers(app).add({
    name: 'plaina',
    issuer: plainA.issuer,
    clientId: plainA.clientId,
    clientSecret: plainA.clientSecret,
    scope: 'read:user',
    authorizationEndpoint: plainA.endpoints.authorization,
    tokenEndpoint: plainA.endpoints.token,
    userinfoEndpoint: plainA.endpoints.userinfo,
    claims: { subject: 'id', email: 'email', name: 'name', username: 'login' }
  })
  for (const [name, signIn] of [['oidca', (url: string) => oidcA.signInAt(url, 'verified')], ['plaina', (url: string) => plainA.signInAt(url)]] as const) {
    const browser = new InjectBrowser(app)
    const { providerUrl } = await startAt(browser, webRequest().url, name)
    const answer = new URL(await signIn(providerUrl))
    answer.searchParams.delete('iss')
    t.ok(answer.searchParams.get('code') && answer.searchParams.get('state'), `${name}: a code and the state of the sign-in started there`)
    refused(t, await deliver(browser, answer.href, 'plainb'), 400, `${name}'s answer at plainb's callback`)
    t.equal(plainB.seen.token.length, 0, `${name}'s code and PKCE verifier never went to plainb's token endpoint`)
    t.notOk(await signedIn(browser), `${name}: not signed in`)
  }
})

t.test('an expired transaction (10 minutes, the injected clock): 400, no session; 9 min 50 s is fine', async (t) => {
  const clock = manualClock()
  const { app } = await setup(t, {}, clock)
  const op = await realOp(t)
  await addOidcProvider(app, 'corp', op)

  const late = new InjectBrowser(app)
  const { providerUrl } = await startAt(late, webRequest().url, 'corp')
  const callback = await op.signInAt(providerUrl, 'verified')
  clock.advance(601)
  refused(t, await deliver(late, callback), 400, 'after 10 min 1 s')
  t.notOk(await signedIn(late))

  const inTime = new InjectBrowser(app)
  const second = await startAt(inTime, webRequest().url, 'corp')
  const callback2 = await op.signInAt(second.providerUrl, 'verified')
  clock.advance(590)
  t.equal((await deliver(inTime, callback2)).statusCode, 303, 'after 9 min 50 s: signed in')
})

t.test('error=access_denied from the provider: access_denied back to the client with state and iss', async (t) => {
  const { app } = await setup(t)
  const op = await realOp(t)
  await addOidcProvider(app, 'corp', op)
  const browser = new InjectBrowser(app)
  const { providerUrl } = await startAt(browser, webRequest({ state: 'st-deny' }).url, 'corp')
  const res = await deliver(browser, await op.cancelAt(providerUrl))
  t.equal(res.statusCode, 303)
  t.ok(res.headers.location?.startsWith(`${REDIRECT}?`), 'to the client')
  const back = new URL(res.headers.location ?? '').searchParams
  t.equal(back.get('error'), 'access_denied')
  t.equal(back.get('state'), 'st-deny')
  t.equal(back.get('iss'), ISSUER)
  t.notOk(back.has('code'))
  t.notOk(hasSession(browser))

  // Without a pending /authorize request (sign-in started from /login itself): a 403 page.
  const alone = new InjectBrowser(app)
  const start = await alone.get('/login/corp')
  t.equal(start.statusCode, 303)
  refused(t, await deliver(alone, await op.cancelAt(String(start.headers.location))), 403, 'access_denied without a client')
})

t.test('an unreachable provider: a 502 page, no hang, never a 500', async (t) => {
  const { app } = await setup(t, { UPSTREAM_TIMEOUT_MS: '300' })
  const silent = await startUnreachableIssuer('silent')
  const closed = await startUnreachableIssuer('closed')
  t.teardown(() => silent.close())
  await providers(app).add({ name: 'silent', issuer: silent.issuer, clientId: 'gatehouse', clientSecret: 'secret-1' })
  await providers(app).add({ name: 'closed', issuer: closed.issuer, clientId: 'gatehouse', clientSecret: 'secret-1' })
  for (const name of ['silent', 'closed']) {
    const browser = new InjectBrowser(app)
    const page = await browser.get(webRequest().url)
    refused(t, await browser.get(`/login/${name}?return_to=${encodeURIComponent(webRequest().url)}`), 502, `${name}: discovery`)
    t.equal(page.statusCode, 200)
  }
  // Discovery answers but the token endpoint never does.
  const { browser, callback } = await callbackThenFault(t, app, 'token-hangs')
  refused(t, await deliver(browser, callback), 502, 'token endpoint hangs')
  t.notOk(await signedIn(browser))
})

t.test('unknown provider name: a 404 page', async (t) => {
  const { app } = await setup(t)
  const browser = new InjectBrowser(app)
  refused(t, await browser.get(`/login/nobody?return_to=${encodeURIComponent(webRequest().url)}`), 404, '/login/nobody')
  refused(t, await browser.get('/login/nobody/callback?code=x&state=y'), 404, '/login/nobody/callback')
})

t.test('--no-create-users: an unknown account gets access_denied and no user; a linked one still signs in', async (t) => {
  const { app, webAuth } = await setup(t)
  const admin = await adminAuth(t, app)
  const op = await realOp(t)
  await addOidcProvider(app, 'corp', op, { createUsers: false })
  const usersBefore = (await app.inject({ method: 'GET', url: '/admin/users', headers: admin })).json().length
  const browser = new InjectBrowser(app)
  const request = webRequest()
  const { providerUrl } = await startAt(browser, request.url, 'corp')
  const back = await onToClient(browser, await deliver(browser, await op.signInAt(providerUrl, 'verified')))
  t.equal(back.get('error'), 'access_denied')
  t.notOk(back.has('code'))
  t.notOk(hasSession(browser))
  t.equal((await app.inject({ method: 'GET', url: '/admin/users', headers: admin })).json().length, usersBefore, 'no user created')

  // Turn creation on, sign in once (linked), turn it off again: the linked account still gets in.
  await providers(app).update('corp', { createUsers: true })
  const first = await signInThrough(app, webAuth, 'corp', (url) => op.signInAt(url, 'verified'))
  await providers(app).update('corp', { createUsers: false })
  const again = await signInThrough(app, webAuth, 'corp', (url) => op.signInAt(url, 'verified'))
  t.equal(again.sub, first.sub)
})

t.test('--link-by-email: never through an unverified e-mail; a local user with that e-mail keeps its account', async (t) => {
  const { app, webAuth, alice } = await setup(t)
  const op = await realOp(t, 'corp', {
    accounts: { aliceUnverified: { sub: 'op-alice', email: 'alice@example.test', email_verified: false, name: 'Not Alice', preferred_username: 'alice' } }
  })
  await addOidcProvider(app, 'corp', op, { linkByEmail: true })
  const me = await signInThrough(app, webAuth, 'corp', (url) => op.signInAt(url, 'aliceUnverified'))
  t.not(me.sub, alice.id, 'not alice')
  t.not(me.username, 'alice', 'preferred_username alice is taken: another name')
  t.notOk(me.email, 'an unverified e-mail is not stored')
})

t.test('22.6a: --link-by-email at a second provider never reaches an account already linked to another provider, unless --link-linked-accounts', async (t) => {
  const { app, webAuth, alice } = await setup(t)
  const admin = await adminAuth(t, app)
  const idpA = await hostileOp(t, 'idpa', { sub: 'a-alice', email: 'alice@example.test', email_verified: true, name: 'Alice at A' })
  await addOidcProvider(app, 'idpa', idpA, { linkByEmail: true })
  const idpB = await hostileOp(t, 'idpb', { sub: 'b-1', email: 'alice@example.test', email_verified: true, name: 'Alice at B?' })
  await addOidcProvider(app, 'idpb', idpB, { linkByEmail: true })

  // Today's rule for an account with a password and no link: the first provider's verified e-mail links to it.
  const viaA = await signInThrough(app, webAuth, 'idpa', (url) => idpA.signInAt(url))
  t.equal(viaA.sub, alice.id, 'IdP-A links to alice (a password account with no identity yet)')
  // IdP-B asserting the same verified address: alice is linked to IdP-A already, so not her.
  const viaB = await signInThrough(app, webAuth, 'idpb', (url) => idpB.signInAt(url))
  t.not(viaB.sub, alice.id, 'IdP-B does not reach alice')
  t.equal(viaB.email ?? null, null, 'the new user does not get alice\'s address')
  t.same((await identitiesOf(app, admin, 'alice')).map((i) => i.provider), ['idpa'], 'alice: still only IdP-A')

  // A user IdP-A created (and so linked to it) is not reached by IdP-B's e-mail either.
  idpA.claims = { sub: 'a-vera', email: 'vera@example.test', email_verified: true, preferred_username: 'vera' }
  const vera = await signInThrough(app, webAuth, 'idpa', (url) => idpA.signInAt(url))
  t.equal(vera.email, 'vera@example.test')
  idpB.claims = { sub: 'b-vera', email: 'vera@example.test', email_verified: true, preferred_username: 'vera-b' }
  t.not((await signInThrough(app, webAuth, 'idpb', (url) => idpB.signInAt(url))).sub, vera.sub, 'IdP-B does not reach the user IdP-A created')

  // The admin may allow it for IdP-B: then its next first sign-in with alice's address links to her.
  t.match(await providers(app).update('idpb', { linkLinkedAccounts: true }), { link_linked_accounts: true })
  idpB.claims = { sub: 'b-2', email: 'alice@example.test', email_verified: true }
  t.equal((await signInThrough(app, webAuth, 'idpb', (url) => idpB.signInAt(url))).sub, alice.id, 'with link_linked_accounts: linked to alice')
  t.same((await identitiesOf(app, admin, 'alice')).map((i) => i.provider).sort(), ['idpa', 'idpb'])
})

t.test('22.6b: a provider\'s later e-mail change never changes the local e-mail (the link records the provider\'s)', async (t) => {
  const { app, webAuth } = await setup(t)
  const admin = await adminAuth(t, app)
  const op = await hostileOp(t, 'idpa', { sub: 'a-pat', email: 'pat@example.test', email_verified: true, preferred_username: 'pat' })
  await addOidcProvider(app, 'idpa', op)
  const first = await signInThrough(app, webAuth, 'idpa', (url) => op.signInAt(url))
  t.match(first, { username: 'pat', email: 'pat@example.test' }, 'created with the verified address')
  op.claims = { ...op.claims, email: 'someone-else@example.test', email_verified: true }
  const second = await signInThrough(app, webAuth, 'idpa', (url) => op.signInAt(url))
  t.equal(second.sub, first.sub, 'the same user')
  t.equal(second.email, 'pat@example.test', 'the local e-mail stays')
  t.match(await identitiesOf(app, admin, 'pat'), [{ provider: 'idpa', email: 'someone-else@example.test' }], 'the provider\'s current address is on the link')

  // An account whose address was not verified at its first sign-in does not gain one later either.
  op.claims = { sub: 'a-quinn', email: 'quinn@example.test', email_verified: false, preferred_username: 'quinn' }
  t.equal((await signInThrough(app, webAuth, 'idpa', (url) => op.signInAt(url))).email ?? null, null)
  op.claims = { ...op.claims, email_verified: true }
  t.equal((await signInThrough(app, webAuth, 'idpa', (url) => op.signInAt(url))).email ?? null, null, 'verified later: still none locally')
})

t.test('22.6c: a user a provider created is marked, and an import never merges into it, with or without update', async (t) => {
  const { app, webAuth } = await setup(t)
  const admin = await adminAuth(t, app)
  const op = await hostileOp(t, 'idpa', { sub: 'a-sam', email: 'sam@example.test', email_verified: true, preferred_username: 'sam' })
  await addOidcProvider(app, 'idpa', op)
  const sam = await signInThrough(app, webAuth, 'idpa', (url) => op.signInAt(url))
  t.equal(sam.username, 'sam', 'the provider account took the username sam')
  const view = await app.inject({ method: 'GET', url: '/admin/users/sam', headers: admin })
  t.match(view.json(), { username: 'sam', created_by: 'provider:idpa' }, 'marked in the admin view')
  const list = await app.inject({ method: 'GET', url: '/admin/users', headers: admin })
  t.match(list.json().find((u: { username: string }) => u.username === 'alice'), { created_by: null }, 'an admin-created user: null')

  // The real sam arrives in an import (a known password hash): never merged into the provider's user.
  const hash = '$2b$04$w2tqJphYQqqg75ist2hs..o2A4Awl83dpTbGSRHhZKB.DNKBkiqxq'
  const body = [JSON.stringify({ username: 'other', password_hash: null }), JSON.stringify({ username: 'sam', password_hash: hash, scope: 'admin', email: 'real-sam@example.test' })].join('\n')
  for (const query of ['', '?update=true']) {
    const res = await app.inject({ method: 'POST', url: `/admin/users/import${query}`, headers: { ...admin, 'content-type': 'application/x-ndjson' }, payload: body })
    t.equal(res.statusCode, 200)
    t.match(res.json(), {
      updated: 0,
      rejected: [{ line: 2, reason: /^username: belongs to a user created by a sign-in through an upstream provider \(provider:idpa\)/ }],
      rejected_count: 1
    }, `import${query}: line 2 rejected with its reason`)
    t.match(await app.users.findByUsername('sam'), { id: sam.sub, passwordHash: '!upstream', scope: '', email: 'sam@example.test', createdBy: 'provider:idpa' }, `import${query}: sam untouched`)
  }
  const grant = await app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ grant_type: 'password', username: 'sam', password: 'x' }).toString() })
  t.equal(grant.json().error, 'invalid_grant', 'still no password sign-in as sam')
  t.equal((await signInThrough(app, webAuth, 'idpa', (url) => op.signInAt(url))).sub, sam.sub, 'and the provider account still signs in as its user')
})

t.test('a disabled local user cannot sign in through a provider', async (t) => {
  const { app, webAuth } = await setup(t)
  const admin = await adminAuth(t, app)
  const op = await realOp(t)
  await addOidcProvider(app, 'corp', op)
  const me = await signInThrough(app, webAuth, 'corp', (url) => op.signInAt(url, 'verified'))
  t.equal((await app.inject({ method: 'PATCH', url: `/admin/users/${me.username}`, headers: admin, payload: { disabled: true } })).statusCode, 200)
  const browser = new InjectBrowser(app)
  const { providerUrl } = await startAt(browser, webRequest().url, 'corp')
  const back = await onToClient(browser, await deliver(browser, await op.signInAt(providerUrl, 'verified')))
  t.equal(back.get('error'), 'access_denied')
  t.notOk(hasSession(browser))
})

t.test('plain OAuth 2.0 (GitHub-like): numeric id as the subject; its e-mail never verified without the mapping', async (t) => {
  const { app, webAuth } = await setup(t)
  const admin = await adminAuth(t, app)
  await addUser(app, 'bob', 'bob-password', { email: 'octocat@plain.test' })
  const gh = await startPlainOAuth({ redirectUris: callbackUrl('gh') })
  t.teardown(() => gh.close())
  await providers(app).add({
    name: 'gh',
    issuer: gh.issuer,
    clientId: gh.clientId,
    clientSecret: gh.clientSecret,
    scope: 'read:user user:email',
    linkByEmail: true,
    authorizationEndpoint: gh.endpoints.authorization,
    tokenEndpoint: gh.endpoints.token,
    userinfoEndpoint: gh.endpoints.userinfo,
    claims: { subject: 'id', email: 'email', name: 'name', username: 'login' }
  })
  const me = await signInThrough(app, webAuth, 'gh', (url) => gh.signInAt(url))
  t.not(me.username, 'bob', '--link-by-email without an email_verified mapping: never linked to bob')
  t.equal(me.username, 'octocat', 'username from the login claim')
  t.equal(me.full_name, 'The Octocat')
  t.notOk(me.email, 'the e-mail is not verified: not stored')
  t.same((await identitiesOf(app, admin, 'octocat')).map((i) => [i.provider, i.subject]), [['gh', '12345']], 'the numeric id, as a string')
  t.equal(gh.seen.authorize[0]?.get('code_challenge_method'), 'S256', 'PKCE sent to the plain provider too')

  // The same id with a new login and name: the same local user, name refreshed.
  const octocat = gh.users.octocat
  if (octocat) { octocat.login = 'octocat-renamed'; octocat.name = 'Octo Renamed' }
  const again = await signInThrough(app, webAuth, 'gh', (url) => gh.signInAt(url))
  t.equal(again.sub, me.sub, 'keyed on the id, not the login')
  t.equal(again.full_name, 'Octo Renamed')

  // Another id is another user.
  gh.users.hubot = { id: 67890, login: 'hubot', name: 'Hubot', email: null }
  const hubot = await signInThrough(app, webAuth, 'gh', (url) => gh.signInAt(url, 'hubot'))
  t.not(hubot.sub, me.sub)

  // The provider says no: access_denied back to the client.
  gh.deny = true
  const browser = new InjectBrowser(app)
  const { providerUrl } = await startAt(browser, webRequest().url, 'gh')
  const back = await onToClient(browser, await deliver(browser, await gh.signInAt(providerUrl)))
  t.equal(back.get('error'), 'access_denied')
})

t.test('plain OAuth 2.0: with an email_verified mapping the e-mail is kept and links', async (t) => {
  const { app, webAuth } = await setup(t)
  const bob = await addUser(app, 'bob', 'bob-password', { email: 'octocat@plain.test' })
  const gh = await startPlainOAuth({ redirectUris: callbackUrl('gh'), users: { octocat: { id: 12345, login: 'octocat', name: 'The Octocat', email: 'octocat@plain.test', email_verified: true } } })
  t.teardown(() => gh.close())
  await providers(app).add({
    name: 'gh',
    issuer: gh.issuer,
    clientId: gh.clientId,
    clientSecret: gh.clientSecret,
    linkByEmail: true,
    authorizationEndpoint: gh.endpoints.authorization,
    tokenEndpoint: gh.endpoints.token,
    userinfoEndpoint: gh.endpoints.userinfo,
    claims: { subject: 'id', email: 'email', emailVerified: 'email_verified', name: 'name', username: 'login' }
  })
  const me = await signInThrough(app, webAuth, 'gh', (url) => gh.signInAt(url))
  t.equal(me.sub, bob.id, 'a verified e-mail (mapped) links to bob')
})

t.test('return_to of /login/{name} only ever leads back into Gatehouse (no open redirect through the provider)', async (t) => {
  const { app } = await setup(t)
  const op = await realOp(t)
  await addOidcProvider(app, 'corp', op)
  for (const target of ['https://evil.test/', '//evil.test/x', '/\\evil.test', 'javascript:alert(1)']) {
    const browser = new InjectBrowser(app)
    const start = await browser.get(`/login/corp?return_to=${encodeURIComponent(target)}`)
    if (start.statusCode !== 303) {
      t.equal(start.statusCode, 400, `${target}: refused at once (400) or dropped`)
      continue
    }
    const back = await deliver(browser, await op.signInAt(String(start.headers.location), 'verified'))
    t.equal(back.statusCode, 303, `${target}: signed in`)
    const location = String(back.headers.location)
    t.ok(location.startsWith('/') && !location.startsWith('//') && !location.startsWith('/\\'), `${target}: back to a Gatehouse path (${location})`)
  }
})

t.test('a user created through a provider has no password: no password sign-in, whatever is sent', async (t) => {
  const { app, webAuth } = await setup(t)
  const op = await realOp(t)
  await addOidcProvider(app, 'corp', op)
  const me = await signInThrough(app, webAuth, 'corp', (url) => op.signInAt(url, 'verified'))
  const stored = await app.users.findByUsername(me.username)
  for (const password of ['', 'x', '!', '*', stored?.passwordHash ?? 'none', op.clientSecret]) {
    const res = await app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ grant_type: 'password', username: me.username, password }).toString() })
    t.equal(res.statusCode, 400, `password ${JSON.stringify(password.slice(0, 12))}: 400`)
    t.match(res.json().error, password === '' ? /^(invalid_grant|invalid_request)$/ : /^invalid_grant$/, 'the ordinary refusal')
  }
  const browser = new InjectBrowser(app)
  const page = await browser.get(webRequest().url)
  const login = await browser.post('/login', { username: me.username, password: stored?.passwordHash ?? 'none', csrf: field(page.body, 'csrf'), return_to: field(page.body, 'return_to') })
  t.notOk(hasSession(browser), 'the login form refuses it too')
  t.not(login.statusCode, 303)
})

t.test('L1 for upstream sign-ins: the provider\'s secret, code, verifier and tokens, and the binding and session cookies stay out of the debug log', async (t) => {
  const { app, output } = await buildLogged(t)
  const { webAuth } = await browserFixtures(app)
  const op = await hostileOp(t)
  await addOidcProvider(app, 'hostile', op)
  const browser = new InjectBrowser(app)
  await signInThrough(app, webAuth, 'hostile', (url) => op.signInAt(url), browser)
  // A refused one too (the provider's error answer is logged: its text, never a secret).
  op.mode = 'token-error'
  const failed = new InjectBrowser(app)
  const { providerUrl } = await startAt(failed, webRequest().url, 'hostile')
  await deliver(failed, await op.signInAt(providerUrl))
  // A provider error text built to forge a log line.
  const forger = new InjectBrowser(app)
  const forged = await startAt(forger, webRequest().url, 'hostile')
  await forger.get(`/login/hostile/callback?${new URLSearchParams({ error: 'server_error', error_description: 'x\r\n{"level":60,"msg":"forged"}\n', state: new URL(forged.providerUrl).searchParams.get('state') ?? '' }).toString()}`)
  const token = op.seen.token[0]
  const secrets: Record<string, string> = {
    'provider client secret': op.clientSecret,
    'upstream code': token?.get('code') ?? '',
    'upstream code_verifier': token?.get('code_verifier') ?? '',
    'upstream state': op.seen.authorize[0]?.get('state') ?? '',
    'upstream access token': op.seen.issued[0]?.access_token ?? '',
    'upstream ID token signature': op.seen.issued[0]?.id_token.split('.')[2] ?? ''
  }
  for (const [name, value] of browser.cookies) secrets[`cookie ${name}`] = value
  const log = output()
  t.ok(log.length > 0, 'something was logged')
  const entries = assertJsonLines(t, log.split('\n').filter((l) => l !== ''), 'upstream sign-ins')
  t.notOk(entries.some((e) => e.msg === 'forged'), 'no forged log line')
  for (const [name, secret] of Object.entries(secrets)) {
    t.ok(secret.length >= 16, `${name} is a real secret`)
    t.notOk(log.includes(secret), `${name}: not in the log`)
  }
})

t.test('ES256 ID tokens with the claims inside (no /userinfo needed), and RS256 with claims from /userinfo', async (t) => {
  const { app, webAuth } = await setup(t)
  const es = await realOp(t, 'es', { idTokenAlg: 'ES256', claimsInIdToken: true, tokenEndpointAuthMethod: 'client_secret_post' })
  const rs = await realOp(t, 'rs')
  await addOidcProvider(app, 'es', es)
  await addOidcProvider(app, 'rs', rs)
  const viaEs = await signInThrough(app, webAuth, 'es', (url) => es.signInAt(url, 'verified'))
  t.match(viaEs, { username: 'vera', full_name: 'Vera Verified', email: 'vera@upstream.test' }, 'ES256: signed in, claims from the ID token')
  const viaRs = await signInThrough(app, webAuth, 'rs', (url) => rs.signInAt(url, 'unverified'))
  t.match(viaRs, { username: 'uma', full_name: 'Uma Unverified' }, 'RS256: the name and username came from /userinfo')
  t.notOk(viaRs.email, 'unverified: no e-mail')
})

t.test('a provider that authenticates its clients with client_secret_basic (RFC 6749 §2.3.1 MUST; OIDC\'s default; Okta\'s and node-oidc-provider\'s default)', async (t) => {
  const { app, webAuth } = await setup(t)
  const op = await realOp(t, 'basic', { tokenEndpointAuthMethod: 'client_secret_basic' })
  await addOidcProvider(app, 'basic', op)
  const browser = new InjectBrowser(app)
  const request = webRequest()
  const { providerUrl } = await startAt(browser, request.url, 'basic')
  const back = await deliver(browser, await op.signInAt(providerUrl, 'verified'))
  t.equal(back.statusCode, 303, `signed in (got ${back.statusCode}: ${back.body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 200)})`)
  if (back.statusCode === 303) {
    const code = (await onToClient(browser, back)).get('code') ?? ''
    t.equal((await whoGotIn(app, code, request.verifier, webAuth)).username, 'vera')
  }
})

t.test('the same callback delivered 10 times at once: exactly one sign-in (the pending sign-in is consumed atomically)', async (t) => {
  const { app } = await setup(t)
  const op = await realOp(t)
  await addOidcProvider(app, 'corp', op)
  const browser = new InjectBrowser(app)
  const { providerUrl } = await startAt(browser, webRequest().url, 'corp')
  const callback = new URL(await op.signInAt(providerUrl, 'verified'))
  const cookie = browser.cookieHeader
  const replies = await Promise.all(Array.from({ length: 10 }, () => app.inject({ method: 'GET', url: `${callback.pathname}${callback.search}`, headers: { cookie } })))
  const statuses = replies.map((r) => r.statusCode).sort()
  t.same(statuses, [303, 400, 400, 400, 400, 400, 400, 400, 400, 400], 'one 303, nine 400 pages')
  t.equal(replies.filter((r) => /gatehouse-session=[^;]/.test([r.headers['set-cookie'] ?? []].flat().join('\n'))).length, 1, 'one session cookie')
})

t.test('the browser-binding cookie: HttpOnly, SameSite=Lax (so it comes back on the provider\'s cross-site redirect), __Host- and Secure on https', async (t) => {
  for (const issuer of ['http://gatehouse.test', 'https://gatehouse.test']) {
    const { app } = await setup(t, { ISSUER: issuer })
    const op = await realOp(t, 'corp', { redirectUris: callbackUrl('corp', issuer) })
    await addOidcProvider(app, 'corp', op)
    const start = await new InjectBrowser(app).get(`/login/corp?return_to=${encodeURIComponent(webRequest().url)}`)
    t.equal(start.statusCode, 303)
    const cookies = [start.headers['set-cookie'] ?? []].flat()
    const binding = cookies.find((c) => /^(__Host-)?gatehouse-upstream=/.test(c))
    t.ok(binding, `${issuer}: a binding cookie`)
    t.match(binding, /; HttpOnly/i, `${issuer}: HttpOnly`)
    t.match(binding, /; SameSite=Lax/i, `${issuer}: SameSite=Lax`)
    t.match(binding, /; Path=\//i, `${issuer}: Path=/`)
    if (issuer.startsWith('https:')) {
      t.match(binding, /^__Host-gatehouse-upstream=/, 'https: __Host- prefix')
      t.match(binding, /; Secure/i, 'https: Secure')
      t.notMatch(binding, /; Domain=/i, 'https: no Domain')
    }
    t.equal(start.headers['cache-control'], 'no-store', `${issuer}: the redirect is not cached`)
    t.equal(start.headers['referrer-policy'], 'no-referrer', `${issuer}: the provider learns nothing from a Referer`)
  }
})

t.test('the provider\'s own error text is shown escaped, never as markup; other errors than access_denied are a page, never a 500', async (t) => {
  const { app } = await setup(t)
  const op = await realOp(t)
  await addOidcProvider(app, 'corp', op)
  const attack = '<script>alert(1)</script><img src=x onerror=alert(2)>'
  for (const error of ['temporarily_unavailable', 'server_error', 'login_required', 'invalid_request', '<b>x</b>']) {
    const browser = new InjectBrowser(app)
    const { providerUrl } = await startAt(browser, webRequest().url, 'corp')
    const state = new URL(providerUrl).searchParams.get('state') ?? ''
    const res = await browser.get(`/login/corp/callback?${new URLSearchParams({ error, error_description: attack, state, iss: op.issuer }).toString()}`)
    t.ok(res.statusCode < 500 || res.statusCode === 502, `${error}: ${res.statusCode}, not a 500`)
    t.notOk(res.body.includes('<script>alert(1)') || res.body.includes('<img src=x') || res.body.includes('<b>x</b>'), `${error}: nothing the provider sent is markup on the page`)
    t.notOk(hasSession(browser), `${error}: no session`)
  }
})

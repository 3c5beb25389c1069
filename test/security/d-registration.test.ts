import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { addUser, build, form, FORM } from '../support/helper.js'
import { assertOAuthError } from '../support/oauth.js'
import { authorizeUrl, callbackParams, field, InjectBrowser, PASSWORD, pkce } from '../support/browser.js'
import { REGISTRATIONS_PER_ADDRESS } from '../../lib/oauth/registration.js'

// SECURITY-CASES D1, D2: RFC 7591 dynamic client registration (docs/registration.md).

const register = (app: FastifyInstance, body: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/register', headers: { 'content-type': 'application/json', ...headers }, payload: typeof body === 'string' ? body : JSON.stringify(body) })

t.test('D1: hostile redirect URIs, a 100 KB body and 5,000 registrations from one address: 400/413, the limit holds, nothing stored for refused ones', async (t) => {
  const app = await build(t, { REGISTRATION: 'open' })
  const hostile: Array<[string, string]> = [['javascript:alert(1)', 'javascript:'], ['https://x.test/cb#f', 'a fragment'], ['http://evil.test/cb', 'http not on loopback'], ['data:text/html,<script>x</script>', 'data:']]
  for (const [uri, label] of hostile) {
    const res = await register(app, { redirect_uris: [uri], token_endpoint_auth_method: 'none' })
    t.equal(res.statusCode, 400, label)
    t.equal(res.json().error, 'invalid_redirect_uri', label)
  }
  const bad = await register(app, { redirect_uris: ['https://x.test/cb'], grant_types: ['password'] })
  t.equal(bad.json().error, 'invalid_client_metadata')
  const big = await register(app, JSON.stringify({ redirect_uris: ['https://x.test/cb'], client_name: 'x'.repeat(100 * 1024) }))
  t.equal(big.statusCode, 413, 'a 100 KB body')
  t.same(await app.storage.clients.list({ limit: 10, offset: 0 }), [], 'nothing stored for the refused ones')

  // 5,000 from one address: the limit counts every attempt (the five above included), answers 429 with JSON, never a 5xx.
  const statuses = new Map<number, number>()
  for (let i = 0; i < 5000; i++) {
    const res = await register(app, { redirect_uris: ['https://x.test/cb'], token_endpoint_auth_method: 'none' })
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
    if (res.statusCode === 429 && i === 4999) {
      t.equal(res.json().error, 'too_many_requests')
      t.ok(Number(res.headers['retry-after']) > 0, 'Retry-After')
    }
  }
  t.same([...statuses.keys()].sort(), [201, 429], 'only 201 and 429')
  const stored = (await app.storage.clients.list({ limit: 10_000, offset: 0 })).length
  t.ok(stored <= REGISTRATIONS_PER_ADDRESS.max, `${stored} registered: the limit (${REGISTRATIONS_PER_ADDRESS.max} an hour) held`)
  const other = await app.inject({ method: 'POST', url: '/register', remoteAddress: '192.0.2.7', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ redirect_uris: ['https://x.test/cb'], token_endpoint_auth_method: 'none' }) })
  t.equal(other.statusCode, 201, 'another address still registers')
})

t.test('D1: an open registration never used expires (the sweep), a used one stays', async (t) => {
  const app = await build(t, { REGISTRATION: 'open' })
  const unused = (await register(app, { grant_types: ['authorization_code'], redirect_uris: ['https://x.test/cb'], token_endpoint_auth_method: 'none' })).json()
  const used = (await register(app, { grant_types: ['authorization_code'], redirect_uris: ['https://x.test/cb'], token_endpoint_auth_method: 'none' })).json()
  await app.storage.clients.markUsed(used.client_id, app.clock.now())
  const { sweepExpired } = await import('../../lib/ops/sweep.js')
  t.equal((await sweepExpired(app.storage, app.clock.now() + 3600)).unusedRegistrations, 0, 'an hour later both stay')
  t.equal((await sweepExpired(app.storage, app.clock.now() + 25 * 3600)).unusedRegistrations, 1, 'a day later the unused one goes')
  t.equal(await app.storage.clients.find(unused.client_id), undefined)
  t.ok(await app.storage.clients.find(used.client_id))
})

async function registeredFlow (t: Test) {
  const app = await build(t, { REGISTRATION: 'open' })
  await addUser(app, 'alice', PASSWORD, { scope: 'items:read admin' })
  await app.storage.clients.create({ id: 'api', secretHash: null, isPublic: false, grantTypes: ['client_credentials'], scope: 'items:read items:write', redirectUris: [] })
  const reg = (await register(app, { redirect_uris: ['https://rp.test/cb'], token_endpoint_auth_method: 'none', scope: 'openid items:read', client_name: 'Friendly App', logo_uri: 'https://rp.test/logo.png', client_uri: 'https://rp.test' })).json()
  const request = (over: Record<string, string> = {}) => {
    const { verifier, challenge } = pkce()
    return { verifier, url: authorizeUrl({ response_type: 'code', client_id: reg.client_id, redirect_uri: 'https://rp.test/cb', scope: 'openid items:read', state: 's', code_challenge: challenge, code_challenge_method: 'S256', ...over }) }
  }
  return { app, reg, request }
}

t.test('D2: a registered client asking for a scope it was not granted: invalid_scope; admin is never registrable', async (t) => {
  const { app, reg, request } = await registeredFlow(t)
  const browser = new InjectBrowser(app)
  const res = await browser.get(request({ scope: 'openid items:write' }).url)
  t.equal(res.statusCode, 303)
  t.equal(callbackParams(res).get('error'), 'invalid_scope')
  const admin = await register(app, { redirect_uris: ['https://rp.test/cb'], token_endpoint_auth_method: 'none', scope: 'openid admin' })
  t.equal(admin.json().error, 'invalid_client_metadata', 'the admin scope')
  t.equal((await app.storage.clients.find(reg.client_id))?.scope, 'openid items:read')
})

t.test('D2: client_credentials in open mode: refused at registration (invalid_client_metadata) and at /token (unauthorized_client)', async (t) => {
  const { app } = await registeredFlow(t)
  const cc = await register(app, { grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' })
  t.equal(cc.statusCode, 400)
  t.equal(cc.json().error, 'invalid_client_metadata')
  const confidential = (await register(app, { redirect_uris: ['https://rp.test/cb'], token_endpoint_auth_method: 'client_secret_post' })).json()
  const token = await app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'client_credentials', client_id: confidential.client_id, client_secret: confidential.client_secret }) })
  assertOAuthError(t, token, 400, 'unauthorized_client', undefined, 'a registered client without the grant')
})

t.test('D2: consent is always shown to a registered client (marked not verified), even after consenting, even if skip_consent is set; prompt=none: consent_required', async (t) => {
  const { app, reg, request } = await registeredFlow(t)
  // An administrator's skip_consent does not apply to a registered client either.
  await app.storage.clients.update(reg.client_id, { skipConsent: true })
  const browser = new InjectBrowser(app)
  const first = request()
  let page = await browser.get(first.url)
  page = await browser.post('/login', { username: 'alice', password: PASSWORD, csrf: field(page.body, 'csrf'), return_to: field(page.body, 'return_to') })
  if (page.statusCode === 303 && page.headers.location?.startsWith('/authorize')) page = await browser.get(page.headers.location)
  t.equal(page.statusCode, 200)
  t.match(page.body, 'name="decision"', 'the consent page')
  t.match(page.body, 'Friendly App')
  t.match(page.body, /Not verified/)
  t.match(page.body, 'https://rp.test/logo.png')
  t.match(String(page.headers['content-security-policy']), /img-src 'self' data: https:\/\/rp\.test\/logo\.png;/, 'the logo, and only it, may load')
  const allowed = await browser.post('/consent', { decision: 'allow', csrf: field(page.body, 'csrf'), return_to: field(page.body, 'return_to') })
  const code = callbackParams(allowed).get('code')
  t.ok(code, 'a code after consent')
  const tokens = await app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'authorization_code', code: code ?? '', redirect_uri: 'https://rp.test/cb', client_id: reg.client_id, code_verifier: first.verifier }) })
  t.equal(tokens.statusCode, 200, tokens.body)

  const again = await browser.get(request().url)
  t.equal(again.statusCode, 200, 'asked again, though the user consented before')
  t.match(again.body, 'name="decision"')
  const none = await browser.get(request({ prompt: 'none' }).url)
  t.equal(callbackParams(none).get('error'), 'consent_required')
})

import t, { type Test } from 'tap'
import { decodeJwt } from 'jose'
import type { FastifyInstance } from 'fastify'
import { createClient } from '../../../lib/admin/clients.js'
import { addUser, basic, build, freshDatabase, manualClock, post } from '../../support/helper.js'
import { assertOAuthError } from '../../support/oauth.js'
import { InjectBrowser, PASSWORD, authorizeThrough, browserFixtures, webRequest } from '../../support/browser.js'
import { approveOnPage, DEVICE_GRANT, deviceFixtures, startDevice } from '../../support/device.js'
import { dpopKey, type DpopKey } from '../../support/dpop.js'

// DPoP (RFC 9449) at POST /token: every grant binds its access token to the proof's key (token_type DPoP, cnf.jkt),
// a public client's refresh family to the key, a dpop_jkt code to its key; clients with dpop_bound_access_tokens
// must send a proof; introspection shows the binding; server nonces (DPOP_NONCES=on). The attacks on proofs
// (SECURITY-CASES K1) are in test/security/k1-dpop.test.ts; the proof rules alone in test/lib/oauth/dpop-proof.test.ts.

const withProof = async (key: DpopKey) => ({ dpop: await key.proof() })

function assertBound (t: Test, body: { token_type: string, access_token: string }, key: DpopKey, label = '') {
  t.equal(body.token_type, 'DPoP', `${label} token_type DPoP`)
  t.same(decodeJwt(body.access_token).cnf, { jkt: key.jkt }, `${label} cnf.jkt is the proof's key`)
}

async function serviceClient (app: FastifyInstance, extra: { dpop?: boolean } = {}) {
  const { secret } = await createClient(app.storage, 'svc', { isPublic: false, grantTypes: ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'], scope: 'items:read', redirectUris: [], dpopBoundAccessTokens: extra.dpop ?? false })
  return basic('svc', secret!)
}

t.test('client_credentials and password: a proof binds the access token; without one it is a bearer token', async (t) => {
  const app = await build(t)
  const svc = await serviceClient(app)
  await addUser(app, 'alice', PASSWORD, { scope: 'items:read' })
  const key = await dpopKey()

  const bound = await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: svc, ...await withProof(key) })
  t.equal(bound.statusCode, 200, bound.body)
  assertBound(t, bound.json(), key, 'client_credentials:')
  t.notOk(bound.headers['dpop-nonce'], 'no nonce without DPOP_NONCES')

  const plain = await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: svc })
  t.equal(plain.json().token_type, 'Bearer')
  t.notOk(decodeJwt(plain.json().access_token).cnf)

  const rsaKey = await dpopKey('PS256')
  const password = await post(app, '/token', { grant_type: 'password', username: 'alice', password: PASSWORD }, await withProof(rsaKey))
  t.equal(password.statusCode, 200, password.body)
  assertBound(t, password.json(), rsaKey, 'password (PS256):')
})

t.test('a public client\'s refresh token is bound to its key: another key or no proof is refused and the token is not spent', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', PASSWORD, { scope: 'items:read' })
  const key = await dpopKey()
  const first = await post(app, '/token', { username: 'alice', password: PASSWORD }, await withProof(key))
  t.equal(first.statusCode, 200, first.body)
  const refreshToken = first.json().refresh_token as string
  t.ok(refreshToken, 'the default (public) client gets a refresh token')

  assertOAuthError(t, await post(app, '/token', { grant_type: 'refresh_token', refresh_token: refreshToken }), 400, 'invalid_dpop_proof', /bound to a DPoP key/, 'no proof:')
  const other = await dpopKey()
  assertOAuthError(t, await post(app, '/token', { grant_type: 'refresh_token', refresh_token: refreshToken }, await withProof(other)), 400, 'invalid_dpop_proof', /not signed with the key/, 'another key:')

  const refreshed = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: refreshToken }, await withProof(key))
  t.equal(refreshed.statusCode, 200, `the token was not spent by the refusals: ${refreshed.body}`)
  assertBound(t, refreshed.json(), key, 'refreshed:')
  const next = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: refreshed.json().refresh_token }, await withProof(other))
  assertOAuthError(t, next, 400, 'invalid_dpop_proof', undefined, 'the next token of the family is bound too:')
})

t.test('authorization_code with a proof; the confidential client refreshes with a new key or none', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app)
  const request = webRequest()
  const code = await authorizeThrough(new InjectBrowser(app), request.url)
  const key = await dpopKey()
  const tokens = await post(app, '/token', { grant_type: 'authorization_code', code, code_verifier: request.verifier, redirect_uri: request.params.redirect_uri }, { authorization: webAuth, ...await withProof(key) })
  t.equal(tokens.statusCode, 200, tokens.body)
  assertBound(t, tokens.json(), key, 'code:')
  t.ok(tokens.json().id_token, 'with its ID token')

  const newKey = await dpopKey()
  const refreshed = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: tokens.json().refresh_token }, { authorization: webAuth, ...await withProof(newKey) })
  t.equal(refreshed.statusCode, 200, refreshed.body)
  assertBound(t, refreshed.json(), newKey, 'refreshed with another key:')
  const bearer = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: refreshed.json().refresh_token }, { authorization: webAuth })
  t.equal(bearer.statusCode, 200, bearer.body)
  t.equal(bearer.json().token_type, 'Bearer', 'and without a proof, a bearer token')
})

t.test('dpop_jkt (§10): the code is exchanged only with a proof signed with that key; a refusal does not spend it', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app)
  const key = await dpopKey()
  const request = webRequest({ dpop_jkt: key.jkt })
  const code = await authorizeThrough(new InjectBrowser(app), request.url)
  const fields = { grant_type: 'authorization_code', code, code_verifier: request.verifier, redirect_uri: request.params.redirect_uri }

  assertOAuthError(t, await post(app, '/token', fields, { authorization: webAuth }), 400, 'invalid_dpop_proof', /dpop_jkt/, 'no proof:')
  assertOAuthError(t, await post(app, '/token', fields, { authorization: webAuth, ...await withProof(await dpopKey()) }), 400, 'invalid_dpop_proof', /dpop_jkt/, 'another key:')
  const tokens = await post(app, '/token', fields, { authorization: webAuth, ...await withProof(key) })
  t.equal(tokens.statusCode, 200, tokens.body)
  assertBound(t, tokens.json(), key)

  const malformed = await new InjectBrowser(app).get(webRequest({ dpop_jkt: 'not-a-thumbprint' }).url)
  t.equal(malformed.statusCode, 303, 'a malformed dpop_jkt goes back to the client')
  t.equal(new URL(String(malformed.headers.location)).searchParams.get('error'), 'invalid_request')
})

t.test('device_code and token exchange bind their access tokens too', async (t) => {
  const app = await build(t)
  await deviceFixtures(app)
  const device = await startDevice(app)
  await approveOnPage(new InjectBrowser(app), device.user_code)
  const key = await dpopKey()
  const polled = await post(app, '/token', { grant_type: DEVICE_GRANT, device_code: device.device_code, client_id: 'tv' }, await withProof(key))
  t.equal(polled.statusCode, 200, polled.body)
  assertBound(t, polled.json(), key, 'device_code:')

  const svc = await serviceClient(app)
  await app.storage.clients.update('svc', { exchangeSources: [], exchangeTargets: [] })
  const subject = (await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: svc })).json().access_token
  const exchanged = await post(app, '/token', { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: subject, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token' }, { authorization: svc, ...await withProof(key) })
  if (exchanged.statusCode === 200) assertBound(t, exchanged.json(), key, 'token exchange:')
  else t.match(exchanged.json(), { error: /invalid_request|invalid_target/ }, `exchange refused for its own reasons (${exchanged.body}); its binding is the issuer's, shared with the grants above`)
})

t.test('a client registered with dpop_bound_access_tokens (--dpop) must send a proof', async (t) => {
  const app = await build(t)
  const svc = await serviceClient(app, { dpop: true })
  assertOAuthError(t, await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: svc }), 400, 'invalid_dpop_proof', /must send a DPoP proof/)
  const key = await dpopKey()
  const bound = await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: svc, ...await withProof(key) })
  t.equal(bound.statusCode, 200, bound.body)
  assertBound(t, bound.json(), key)
  t.equal((await app.storage.clients.find('svc'))?.dpopBoundAccessTokens, true)
})

t.test('introspection shows a bound token\'s cnf and token_type DPoP (RFC 9449 §6.2)', async (t) => {
  const app = await build(t)
  const svc = await serviceClient(app)
  const key = await dpopKey()
  const token = (await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: svc, ...await withProof(key) })).json().access_token
  const answer = (await post(app, '/introspect', { token }, { authorization: svc })).json()
  t.match(answer, { active: true, token_type: 'DPoP', cnf: { jkt: key.jkt } })
  const plain = (await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: svc })).json().access_token
  const plainAnswer = (await post(app, '/introspect', { token: plain }, { authorization: svc })).json()
  t.equal(plainAnswer.token_type, 'Bearer')
  t.notOk('cnf' in plainAnswer)
})

t.test('DPOP_NONCES=on: use_dpop_nonce with DPoP-Nonce, then a token (and the next nonce); a stale nonce is refused', async (t) => {
  const clock = manualClock()
  const app = await build(t, { DPOP_NONCES: 'on' }, { clock })
  const svc = await serviceClient(app)
  const key = await dpopKey('ES256', { now: clock.now })

  const first = await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: svc, ...await withProof(key) })
  assertOAuthError(t, first, 400, 'use_dpop_nonce')
  const nonce = first.headers['dpop-nonce'] as string
  t.match(nonce, /^[A-Za-z0-9_-]{43}$/, 'the nonce in DPoP-Nonce')

  const retry = await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: svc, dpop: await key.proof({ nonce }) })
  t.equal(retry.statusCode, 200, retry.body)
  assertBound(t, retry.json(), key)
  t.ok(retry.headers['dpop-nonce'], 'a successful reply carries the current nonce too (§8.2)')

  clock.advance(60)
  const stillGood = await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: svc, dpop: await key.proof({ nonce }) })
  t.equal(stillGood.statusCode, 200, 'the previous step\'s nonce is still accepted')
  clock.advance(60)
  const stale = await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: svc, dpop: await key.proof({ nonce }) })
  assertOAuthError(t, stale, 400, 'use_dpop_nonce', /not a current one/, 'two steps later:')
  t.not(stale.headers['dpop-nonce'], nonce, 'with a fresh nonce')
})

t.test('two instances on one store accept each other\'s nonces', async (t) => {
  const database = await freshDatabase(t)
  const one = await build(t, { DATABASE_URL: database.url, DPOP_NONCES: 'on' })
  const two = await build(t, { DATABASE_URL: database.url, DPOP_NONCES: 'on' })
  t.teardown(database.drop)
  const svc = await serviceClient(one)
  const key = await dpopKey()
  const refused = await post(one, '/token', { grant_type: 'client_credentials' }, { authorization: svc, ...await withProof(key) })
  const nonce = refused.headers['dpop-nonce'] as string
  const accepted = await post(two, '/token', { grant_type: 'client_credentials' }, { authorization: svc, dpop: await key.proof({ nonce }) })
  t.equal(accepted.statusCode, 200, accepted.body)
  assertBound(t, accepted.json(), key)
})

t.test('metadata lists dpop_signing_alg_values_supported', async (t) => {
  const app = await build(t)
  const metadata = (await app.inject('/.well-known/oauth-authorization-server')).json()
  t.ok(metadata.dpop_signing_alg_values_supported.includes('ES256'))
  t.notOk(metadata.dpop_signing_alg_values_supported.some((alg: string) => alg.startsWith('HS') || alg === 'none'))
})

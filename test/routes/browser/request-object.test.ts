import t, { type Test } from 'tap'
import { SignJWT } from 'jose'
import { createClient } from '../../../lib/admin/clients.js'
import { addUser, build, post } from '../../support/helper.js'
import { authorizeThrough, authorizeUrl, callbackParams, InjectBrowser, PASSWORD, pkce, REDIRECT } from '../../support/browser.js'
import { assertionFields, clientAssertion, clientKey, jwksOf, unsignedJwt, type ClientKey } from '../../support/client-keys.js'

// Signed request objects by value (RFC 9101, OIDC Core §6.1, docs/client-authentication.md): a client with keys puts
// its request in `request=<JWS>`; the object's parameters drive the flow (the query's, client_id aside, are ignored);
// each refusal goes back to the client as invalid_request_object; a client without keys still gets request_not_supported.

const ISSUER = 'http://127.0.0.1:3000'

async function setup (t: Test) {
  const app = await build(t, { ISSUER })
  await addUser(app, 'alice', PASSWORD, { scope: 'items:read' })
  const key = await clientKey('ES256')
  await createClient(app.storage, 'web', { isPublic: false, grantTypes: ['authorization_code', 'refresh_token'], scope: null, redirectUris: [REDIRECT, 'https://app.test/other'], skipConsent: true, jwks: jwksOf(key) })
  await createClient(app.storage, 'plain', { isPublic: false, grantTypes: ['authorization_code'], scope: null, redirectUris: [REDIRECT] })
  return { app, key }
}

async function requestObject (key: ClientKey, claims: Record<string, unknown>) {
  const now = Math.floor(Date.now() / 1000)
  const all: Record<string, unknown> = { iss: 'web', aud: ISSUER, exp: now + 300, nbf: now, client_id: 'web', response_type: 'code', ...claims }
  for (const [name, value] of Object.entries(all)) if (value === undefined) delete all[name]
  return await new SignJWT(all).setProtectedHeader({ alg: key.alg, kid: key.kid }).sign(key.privateKey)
}

t.test('an accepted request object drives the flow: its redirect_uri, scope, state and PKCE challenge, not the query\'s', async (t) => {
  const { app, key } = await setup(t)
  const { verifier, challenge } = pkce()
  const jwt = await requestObject(key, { redirect_uri: REDIRECT, scope: 'openid items:read', state: 'from-object', nonce: 'n-obj', code_challenge: challenge, code_challenge_method: 'S256' })
  // The query names another registered redirect URI, another state and scope: all ignored (RFC 9101 §5).
  const url = authorizeUrl({ client_id: 'web', response_type: 'code', scope: 'openid', state: 'from-query', redirect_uri: 'https://app.test/other', request: jwt })
  const browser = new InjectBrowser(app)
  const login = await browser.get(url)
  t.equal(login.statusCode, 200, 'the login page')
  t.notOk(login.body.includes(jwt), 'the form returns to the verified parameters, not to the object')
  const code = await authorizeThrough(browser, url)
  const tokens = await post(app, '/token', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, ...assertionFields(await clientAssertion(key, 'web', `${ISSUER}/token`)) })
  t.equal(tokens.statusCode, 200, 'the code is bound to the object\'s redirect URI and challenge')
  t.equal(tokens.json().scope, 'openid items:read', 'the object\'s scope')

  const again = await browser.get(authorizeUrl({ client_id: 'web', request: jwt }))
  const back = callbackParams(again)
  t.equal(new URL(String(again.headers.location)).origin + new URL(String(again.headers.location)).pathname, REDIRECT, 'only client_id and request in the query: the object\'s redirect URI')
  t.equal(back.get('state'), 'from-object', 'the object\'s state')
  t.ok(back.get('code'), 'a code (the session signed in already)')
})

t.test('each refusal goes back to the client as invalid_request_object; a client without keys: request_not_supported', async (t) => {
  const { app, key } = await setup(t)
  const now = Math.floor(Date.now() / 1000)
  const { challenge } = pkce()
  const params = { redirect_uri: REDIRECT, scope: 'openid', state: 'o', code_challenge: challenge, code_challenge_method: 'S256' }
  const cases: Array<[string, string, RegExp]> = [
    ['alg none', unsignedJwt({ iss: 'web', aud: ISSUER, exp: now + 60, client_id: 'web', response_type: 'code', ...params }), /alg "none" is not accepted/],
    ['signed by another key', await requestObject(await clientKey('ES256', key.kid), params), /signature does not verify/],
    ['aud another server', await requestObject(key, { ...params, aud: 'https://other.example' }), /aud must be the issuer/],
    ['expired', await requestObject(key, { ...params, exp: now - 60, nbf: now - 120 }), /expired/],
    ['no exp', await requestObject(key, { ...params, exp: undefined }), /exp claim is missing/],
    ['another client_id', await requestObject(key, { ...params, client_id: 'plain' }), /client_id must be/],
    ['encrypted', 'eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d', /encrypted request objects/]
  ]
  for (const [label, jwt, why] of cases) {
    const res = await app.inject(authorizeUrl({ client_id: 'web', redirect_uri: REDIRECT, state: 'q', response_type: 'code', request: jwt }))
    t.equal(res.statusCode, 303, `${label}: redirected back`)
    const back = callbackParams(res)
    t.equal(back.get('error'), 'invalid_request_object', `${label}: invalid_request_object`)
    t.match(back.get('error_description'), why, `${label}: says why`)
    t.equal(back.get('state'), 'q', `${label}: the query's state`)
    t.equal(back.get('iss'), ISSUER, `${label}: iss (RFC 9207)`)
  }
  const noRedirect = await app.inject(authorizeUrl({ client_id: 'web', request: unsignedJwt({}) }))
  t.equal(noRedirect.statusCode, 400, 'refused with no redirect URI to trust (two registered): the error page')
  t.match(String(noRedirect.headers['content-type']), /^text\/html/)

  const plain = await app.inject(authorizeUrl({ client_id: 'plain', redirect_uri: REDIRECT, state: 'q', response_type: 'code', request: await requestObject(key, params) }))
  t.equal(callbackParams(plain).get('error'), 'request_not_supported', 'a client without keys: request_not_supported, as before')
})

t.test('a request object pushed to /par (RFC 9126 §3): verified at the push, its parameters are the pushed request; a bad one is invalid_request_object there', async (t) => {
  const { app, key } = await setup(t)
  const { verifier, challenge } = pkce()
  const token = (claims: Record<string, unknown> = {}) => clientAssertion(key, 'web', ISSUER, claims)
  const jwt = await requestObject(key, { redirect_uri: REDIRECT, scope: 'openid items:read', state: 'pushed-object', nonce: 'n-par', code_challenge: challenge, code_challenge_method: 'S256' })
  const pushed = await post(app, '/par', { client_id: 'web', request: jwt, ...assertionFields(await token()) })
  t.equal(pushed.statusCode, 201, pushed.body)
  const browser = new InjectBrowser(app)
  const code = await authorizeThrough(browser, `/authorize?client_id=web&request_uri=${encodeURIComponent(pushed.json().request_uri as string)}`)
  const tokens = await post(app, '/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: 'web', ...assertionFields(await token()) })
  t.equal(tokens.statusCode, 200, tokens.body)
  t.equal(tokens.json().scope, 'openid items:read', 'the object\'s scope')

  const expired = await requestObject(key, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256', exp: Math.floor(Date.now() / 1000) - 60, nbf: Math.floor(Date.now() / 1000) - 120 })
  const refused = await post(app, '/par', { client_id: 'web', request: expired, ...assertionFields(await token()) })
  t.equal(refused.statusCode, 400)
  t.equal(refused.json().error, 'invalid_request_object')
  const unsigned = await post(app, '/par', { client_id: 'web', request: unsignedJwt({ iss: 'web', aud: ISSUER, client_id: 'web', response_type: 'code', exp: Math.floor(Date.now() / 1000) + 60 }), ...assertionFields(await token()) })
  t.equal(unsigned.json().error, 'invalid_request_object', 'alg none')
})

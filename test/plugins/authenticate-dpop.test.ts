import t, { type Test } from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { addUser, build, FORM, form, ISSUER } from '../support/helper.js'
import { bearer, JWT_VERIFY_PATH, JWT_VERIFY_ROUTES } from '../support/oauth.js'
import { dpopHeaders, dpopKey, dpopProof, mintToken } from '../support/dpop-resource.js'
import { DPOP_SIGNING_ALGS } from '../../lib/oauth/dpop-proof.js'

// RFC 9449 §7 at Gatehouse's own protected routes (fastify.authenticate, authenticateHook, request.jwtVerify()):
// a DPoP-bound token with a proof by its key is accepted, every other use of it refused with the DPoP challenge, and
// the Bearer answers for unbound tokens unchanged. The attacks themselves (SECURITY-CASES K1) are in
// test/security/k1-dpop-resources.test.ts.

const PASSWORD = 'correct horse battery staple'
const ALGS = DPOP_SIGNING_ALGS.join(' ')
/** The challenge of a refusal about DPoP: DPoP's with the error, then the bare Bearer one (both schemes are accepted). */
const dpopChallenge = (error: string, description: string, scope?: string) =>
  `DPoP error="${error}", error_description="${description}"${scope ? `, scope="${scope}"` : ''}, algs="${ALGS}", Bearer realm="gatehouse"`
const BOUND_AS_BEARER = 'this access token is bound to a DPoP key: send it as Authorization: DPoP with a DPoP proof'

async function fixture (t: Test) {
  const app = await build(t, { ROUTES_DIR: JWT_VERIFY_ROUTES })
  const alice = await addUser(app, 'alice', PASSWORD, { scope: 'openid profile read' })
  const key = await dpopKey()
  const bound = await mintToken(app, alice, { jkt: key.jkt })
  const unbound = await mintToken(app, alice)
  /** A request to `url` with `token` under the DPoP scheme and a fresh proof for it (or `proof`). */
  const withDpop = async (method: 'GET' | 'POST', url: string, token: string, options: { proof?: string, payload?: string } = {}) => {
    const proof = options.proof ?? await dpopProof(key, { htm: method, htu: `${ISSUER}${url.split('?')[0]}`, accessToken: token })
    return app.inject({ method, url, headers: { ...dpopHeaders(token, proof), ...(options.payload !== undefined ? FORM : {}) }, ...(options.payload !== undefined ? { payload: options.payload } : {}) })
  }
  return { app, alice, key, bound, unbound, withDpop }
}

function refused (t: Test, res: LightMyRequestResponse, status: number, challenge: string, label: string) {
  t.equal(res.statusCode, status, `${label}: ${status}`)
  t.equal(res.headers['www-authenticate'], challenge, `${label}: the challenge`)
  t.equal(res.json().error, /error="([a-z_]+)"/.exec(challenge)?.[1], `${label}: the body's error is the challenge's`)
  t.notOk(res.body.includes('alice'), `${label}: no user data`)
}

t.test('a bound token with a proof by its key: /users/me, /userinfo (GET and POST), the admin API and an extension route answer', async (t) => {
  const { app, alice, key, bound, withDpop } = await fixture(t)
  const me = await withDpop('GET', '/users/me', bound)
  t.equal(me.statusCode, 200, '/users/me: 200')
  t.equal(me.json().username, 'alice')

  const info = await withDpop('GET', '/userinfo', bound)
  t.equal(info.statusCode, 200, 'GET /userinfo: 200')
  t.equal(info.json().sub, alice.id)
  const posted = await withDpop('POST', '/userinfo', bound, { payload: '' })
  t.equal(posted.statusCode, 200, 'POST /userinfo (an empty form): 200')

  const lower = await app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `dpop ${bound}`, dpop: await dpopProof(key, { htm: 'GET', htu: `${ISSUER}/users/me`, accessToken: bound }) } })
  t.equal(lower.statusCode, 200, 'the scheme name is case-insensitive (RFC 9110 §11.1)')

  const query = await withDpop('GET', '/users/me?x=1', bound)
  t.equal(query.statusCode, 200, 'htu is compared without the query (§4.3 point 9)')

  const extension = await withDpop('GET', JWT_VERIFY_PATH, bound)
  t.equal(extension.statusCode, 200, 'an extension route with request.jwtVerify(): 200')
  t.same(extension.json(), { sub: alice.id, username: 'alice' })

  const admin = await addUser(app, 'root', PASSWORD, { scope: 'admin' })
  const adminKey = await dpopKey('EdDSA')
  const adminToken = await mintToken(app, admin, { jkt: adminKey.jkt })
  const users = await app.inject({ method: 'GET', url: '/admin/users', headers: dpopHeaders(adminToken, await dpopProof(adminKey, { htm: 'GET', htu: `${ISSUER}/admin/users`, accessToken: adminToken })) })
  t.equal(users.statusCode, 200, 'the admin API, with an Ed25519 key: 200')
})

t.test('a bound token sent as Bearer is refused everywhere, with the DPoP challenge (RFC 9449 §7.2)', async (t) => {
  const { app, bound } = await fixture(t)
  const challenge = dpopChallenge('invalid_token', BOUND_AS_BEARER)
  refused(t, await app.inject({ method: 'GET', url: '/users/me', headers: bearer(bound) }), 401, challenge, '/users/me')
  refused(t, await app.inject({ method: 'GET', url: '/userinfo', headers: bearer(bound) }), 401, challenge, 'GET /userinfo')
  refused(t, await app.inject({ method: 'POST', url: '/userinfo', headers: FORM, payload: form({ access_token: bound }) }), 401, challenge, 'POST /userinfo, the token in the form body')
  refused(t, await app.inject({ method: 'GET', url: JWT_VERIFY_PATH, headers: bearer(bound) }), 401, challenge, 'an extension route (request.jwtVerify())')
  refused(t, await app.inject({ method: 'GET', url: '/admin/users', headers: bearer(bound) }), 401, challenge, 'the admin API')
})

t.test('the DPoP scheme: every refusal of §7.1, with its status and challenge', async (t) => {
  const { app, key, bound, unbound, withDpop } = await fixture(t)
  for (const url of ['/users/me', JWT_VERIFY_PATH]) {
    refused(t, await withDpop('GET', url, unbound), 401, dpopChallenge('invalid_token', 'this access token is not bound to a DPoP key: send it as Bearer'), `${url}, an unbound token as DPoP`)

    const other = await dpopKey()
    refused(t, await withDpop('GET', url, bound, { proof: await dpopProof(other, { htm: 'GET', htu: `${ISSUER}${url}`, accessToken: bound }) }), 401,
      dpopChallenge('invalid_token', 'the DPoP proof is signed by another key than the one this access token is bound to'), `${url}, a proof by another key`)

    refused(t, await app.inject({ method: 'GET', url, headers: { authorization: `DPoP ${bound}` } }), 401,
      dpopChallenge('invalid_dpop_proof', 'a DPoP-bound access token needs a DPoP proof (the DPoP header)'), `${url}, no proof`)

    const proof = await dpopProof(key, { htm: 'GET', htu: `${ISSUER}${url}`, accessToken: bound })
    t.equal((await withDpop('GET', url, bound, { proof })).statusCode, 200, `${url}: the proof's first use`)
    refused(t, await withDpop('GET', url, bound, { proof }), 401, dpopChallenge('invalid_dpop_proof', 'the DPoP proof was used before (jti)'), `${url}, the proof replayed`)

    refused(t, await withDpop('GET', url, bound, { proof: await dpopProof(key, { htm: 'GET', htu: `${ISSUER}${url}` }) }), 401,
      dpopChallenge('invalid_dpop_proof', 'the DPoP proof\'s ath is not the hash of the access token'), `${url}, a proof without ath`)
    refused(t, await withDpop('GET', url, bound, { proof: await dpopProof(key, { htm: 'GET', htu: `${ISSUER}${url}`, accessToken: unbound }) }), 401,
      dpopChallenge('invalid_dpop_proof', 'the DPoP proof\'s ath is not the hash of the access token'), `${url}, a proof for another token`)

    refused(t, await withDpop('GET', url, 'not-a-token'), 401, dpopChallenge('invalid_token', 'the access token is invalid, expired or revoked'), `${url}, a token that is no JWT`)
    refused(t, await app.inject({ method: 'GET', url, headers: { authorization: 'DPoP two words', dpop: 'x' } }), 401, dpopChallenge('invalid_token', 'malformed DPoP access token'), `${url}, a malformed DPoP credential`)
  }
  refused(t, await withDpop('POST', '/userinfo', bound, { payload: form({ access_token: bound }) }), 400,
    dpopChallenge('invalid_request', 'the token was sent in more than one way'), 'POST /userinfo, the token in the header and the body')

  const revoked = await fixture(t)
  await revoked.app.users.update(revoked.alice.username, { disabled: true })
  refused(t, await revoked.withDpop('GET', '/users/me', revoked.bound), 401, dpopChallenge('invalid_token', 'the access token is invalid, expired or revoked'), 'the user disabled since')
})

t.test('insufficient scope with a DPoP token: 403 with the DPoP challenge naming the scope', async (t) => {
  const { app, bound, key } = await fixture(t)
  const res = await app.inject({ method: 'GET', url: '/admin/users', headers: dpopHeaders(bound, await dpopProof(key, { htm: 'GET', htu: `${ISSUER}/admin/users`, accessToken: bound })) })
  refused(t, res, 403, dpopChallenge('insufficient_scope', 'this resource needs the scope: admin', 'admin'), '/admin/users without admin')
})

t.test('unbound Bearer tokens are answered exactly as before', async (t) => {
  const { app, unbound, key } = await fixture(t)
  t.equal((await app.inject({ method: 'GET', url: '/users/me', headers: bearer(unbound) })).statusCode, 200, 'an unbound token as Bearer: 200')
  const proof = await dpopProof(key, { htm: 'GET', htu: `${ISSUER}/users/me`, accessToken: unbound })
  t.equal((await app.inject({ method: 'GET', url: '/users/me', headers: { ...bearer(unbound), dpop: proof } })).statusCode, 200, 'a DPoP header beside a Bearer token is not looked at')
  const none = await app.inject({ method: 'GET', url: '/users/me' })
  t.equal(none.headers['www-authenticate'], 'Bearer realm="gatehouse"', 'no token: the bare Bearer challenge')
  const bad = await app.inject({ method: 'GET', url: '/users/me', headers: bearer('garbage') })
  t.equal(bad.headers['www-authenticate'], 'Bearer realm="gatehouse", error="invalid_token", error_description="the access token is invalid, expired or revoked"', 'a bad bearer token: the Bearer challenge alone')
})

t.test('DPOP_NONCES=on: a proof without the server\'s nonce is use_dpop_nonce (401, the nonce in DPoP-Nonce); with it, 200', async (t) => {
  const app = await build(t, { DPOP_NONCES: 'on' })
  const alice = await addUser(app, 'alice', PASSWORD, { scope: 'read' })
  const key = await dpopKey()
  const bound = await mintToken(app, alice, { jkt: key.jkt })
  const proof = (nonce?: string) => dpopProof(key, { htm: 'GET', htu: `${ISSUER}/users/me`, accessToken: bound, ...(nonce === undefined ? {} : { claims: { nonce } }) })
  const first = await app.inject({ url: '/users/me', headers: dpopHeaders(bound, await proof()) })
  t.equal(first.statusCode, 401)
  t.equal(first.json().error, 'use_dpop_nonce')
  t.match(first.headers['www-authenticate'], /^DPoP error="use_dpop_nonce"/)
  const nonce = first.headers['dpop-nonce']
  t.type(nonce, 'string', 'the nonce to use')
  const stale = await app.inject({ url: '/users/me', headers: dpopHeaders(bound, await proof('not-a-nonce')) })
  t.equal(stale.json().error, 'use_dpop_nonce', 'a nonce the server never gave')
  const again = await app.inject({ url: '/users/me', headers: dpopHeaders(bound, await proof(nonce as string)) })
  t.equal(again.statusCode, 200, 'the retry with the nonce')
  t.equal(again.json().username, 'alice')
})

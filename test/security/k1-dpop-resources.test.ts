import t from 'tap'
import { addUser, build, ISSUER } from '../support/helper.js'
import { JWT_VERIFY_PATH, JWT_VERIFY_ROUTES } from '../support/oauth.js'
import { dpopHeaders, dpopKey, dpopProof, mintToken, proofAttacks } from '../support/dpop-resource.js'
import { DPOP_SIGNING_ALGS } from '../../lib/oauth/dpop-proof.js'

// SECURITY-CASES K1, its resource half (RFC 9449 §4.3, §7.1, §11): DPoP proofs at Gatehouse's own protected routes, each
// way of checking a token (fastify.authenticateHook at GET /users/me, fastify.authenticate at POST /userinfo,
// request.jwtVerify() at an extension route). The same attacks at the resource-server plugin:
// ../resource-server/dpop.test.ts. The /token half of K1 is the token endpoint's file.

const PASSWORD = 'correct horse battery staple'
const ALGS = `algs="${DPOP_SIGNING_ALGS.join(' ')}"`

t.test('K1: a proof replayed, with wrong htm or htu, iat 10 min old, by another key, alg none or HS256; the bound token as Bearer: 401 with WWW-Authenticate: DPoP error=…', async (t) => {
  const app = await build(t, { ROUTES_DIR: JWT_VERIFY_ROUTES })
  const alice = await addUser(app, 'alice', PASSWORD, { scope: 'openid read' })
  const key = await dpopKey()
  const token = await mintToken(app, alice, { jkt: key.jkt })
  for (const [method, url] of [['GET', '/users/me'], ['POST', '/userinfo'], ['GET', JWT_VERIFY_PATH]] as const) {
    for (const attack of await proofAttacks(key, token, { htm: method, htu: `${ISSUER}${url}` })) {
      const send = () => app.inject({ method, url, headers: attack.headers })
      if (attack.replay) t.equal((await send()).statusCode, 200, `${method} ${url}, ${attack.label}: the first use is accepted`)
      const res = await send()
      const label = `${method} ${url}, ${attack.label}`
      t.equal(res.statusCode, 401, `${label}: 401`)
      const challenge = res.headers['www-authenticate'] as string
      t.match(challenge, new RegExp(`^DPoP error="${attack.error}", error_description="[^"]+", ${ALGS}, Bearer realm="gatehouse"$`), `${label}: DPoP error="${attack.error}", then Bearer`)
      t.equal(res.json().error, attack.error, `${label}: the body says ${attack.error}`)
      t.notOk(res.body.includes('alice'), `${label}: no user data`)
    }
  }
})

t.test('K1: a proof is bound to its token (ath) and a token to its key, whatever else is right', async (t) => {
  const app = await build(t)
  const alice = await addUser(app, 'alice', PASSWORD, { scope: 'read' })
  const key = await dpopKey()
  const mine = await mintToken(app, alice, { jkt: key.jkt })
  const theirs = await mintToken(app, alice, { jkt: (await dpopKey()).jkt })
  const proof = await dpopProof(key, { htm: 'GET', htu: `${ISSUER}/users/me`, accessToken: mine })
  const stolen = await app.inject({ method: 'GET', url: '/users/me', headers: dpopHeaders(theirs, proof) })
  t.equal(stolen.statusCode, 401, 'my proof with a token bound to another key: 401')
  t.equal(stolen.json().error, 'invalid_dpop_proof', 'the proof\'s ath names my token, not this one')
  const rightAth = await dpopProof(key, { htm: 'GET', htu: `${ISSUER}/users/me`, accessToken: theirs })
  const other = await app.inject({ method: 'GET', url: '/users/me', headers: dpopHeaders(theirs, rightAth) })
  t.equal(other.statusCode, 401, 'a proof with the right ath but my key: 401')
  t.equal(other.json().error, 'invalid_token', 'the binding fails')
})

import t, { type Test } from 'tap'
import { generateKeyPairSync, createHmac } from 'node:crypto'
import { decodeJwt } from 'jose'
import { createClient } from '../../lib/admin/clients.js'
import { addUser, basic, build, ISSUER, post } from '../support/helper.js'
import { assertOAuthError } from '../support/oauth.js'
import { dpopKey } from '../support/dpop.js'

// SECURITY-CASES K1, the token endpoint's half (RFC 9449 §4.3, §5, §11): each bad proof is 400 invalid_dpop_proof
// and never a token. The resources' half (a bound token sent as Bearer, `ath`, the 401 challenge) is in
// k1-dpop-resources.test.ts.

const PASSWORD = 'correct horse battery staple'

async function setup (t: Test) {
  const app = await build(t)
  const { secret } = await createClient(app.storage, 'svc', { isPublic: false, grantTypes: ['client_credentials'], scope: null, redirectUris: [] })
  return { app, svc: basic('svc', secret!) }
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

t.test('K1: a replayed proof (same jti) is refused, and the first use alone gets a token', async (t) => {
  const { app, svc } = await setup(t)
  const key = await dpopKey()
  const proof = await key.proof()
  const first = await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: svc, dpop: proof })
  t.equal(first.statusCode, 200, first.body)
  const again = await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: svc, dpop: proof })
  assertOAuthError(t, again, 400, 'invalid_dpop_proof', /used before/)
  const sameJti = await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: svc, dpop: await key.proof({ jti: decodeJwt(proof).jti }) })
  assertOAuthError(t, sameJti, 400, 'invalid_dpop_proof', /used before/, 'a new proof reusing the jti:')
  const parallel = await Promise.all(Array.from({ length: 10 }, async () => post(app, '/token', { grant_type: 'client_credentials' }, { authorization: svc, dpop: await key.proof({ jti: 'parallel' }) })))
  t.equal(parallel.filter((r) => r.statusCode === 200).length, 1, 'ten at once with one jti: one token')
})

t.test('K1: wrong htm, wrong htu, iat 10 minutes old, alg none, HS256, two proofs: invalid_dpop_proof, never a token', async (t) => {
  const { app, svc } = await setup(t)
  const key = await dpopKey()
  const now = Math.floor(Date.now() / 1000)
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const jwk = publicKey.export({ format: 'jwk' })
  const unsigned = `${b64({ typ: 'dpop+jwt', alg: 'none', jwk })}.${b64({ jti: 'n1', htm: 'POST', htu: `${ISSUER}/token`, iat: now })}.`
  const hsInput = `${b64({ typ: 'dpop+jwt', alg: 'HS256', jwk: { kty: 'oct', k: 'c2VjcmV0' } })}.${b64({ jti: 'h1', htm: 'POST', htu: `${ISSUER}/token`, iat: now })}`
  const hs256 = `${hsInput}.${createHmac('sha256', 'secret').update(hsInput).digest('base64url')}`
  const cases: Array<[string, string, RegExp]> = [
    ['wrong htm', await key.proof({ htm: 'GET' }), /htm/],
    ['wrong htu', await key.proof({ htu: `${ISSUER}/introspect` }), /htu/],
    ['another host in htu', await key.proof({ htu: 'https://evil.example/token' }), /htu/],
    ['iat 10 minutes old', await key.proof({ iat: now - 600 }), /too old/],
    ['alg none', unsigned, /compact JWS|alg/],
    ['HS256', hs256, /alg/],
    ['two proofs', `${await key.proof()}, ${await key.proof()}`, /more than one/]
  ]
  for (const [label, proof, why] of cases) {
    const res = await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: svc, dpop: proof })
    assertOAuthError(t, res, 400, 'invalid_dpop_proof', why, `${label}:`)
  }
})

t.test('K1: a key other than the bound one at refresh is refused and the refresh token stays usable with the right key', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', PASSWORD)
  const key = await dpopKey()
  const first = await post(app, '/token', { username: 'alice', password: PASSWORD }, { dpop: await key.proof() })
  t.equal(first.statusCode, 200, first.body)
  const refreshToken = first.json().refresh_token as string
  const thief = await dpopKey()
  for (let i = 0; i < 3; i++) {
    assertOAuthError(t, await post(app, '/token', { grant_type: 'refresh_token', refresh_token: refreshToken }, { dpop: await thief.proof() }), 400, 'invalid_dpop_proof', /bound to/, `attempt ${i + 1}:`)
  }
  assertOAuthError(t, await post(app, '/token', { grant_type: 'refresh_token', refresh_token: refreshToken }), 400, 'invalid_dpop_proof', undefined, 'as a bearer refresh:')
  const owner = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: refreshToken }, { dpop: await key.proof() })
  t.equal(owner.statusCode, 200, owner.body)
  t.same(decodeJwt(owner.json().access_token).cnf, { jkt: key.jkt })
})

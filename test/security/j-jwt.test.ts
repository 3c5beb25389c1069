import t from 'tap'
import { createServer } from 'node:http'
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { addClient, addUser, basic, build, ISSUER } from '../support/helper.js'
import { accessTokenFixture, assertOAuthError, bearer, JWT_VERIFY_PATH, JWT_VERIFY_ROUTES, stableHeaders } from '../support/oauth.js'
import { assertAcceptJwt, assertNoStore, assertRejectJwt, postFrom } from '../support/security.js'

// SECURITY-CASES J1–J9: forged, tampered, expired, misdirected and mistyped access tokens.
// "Reject-JWT" = /introspect answers 200 {"active":false} and nothing else, and GET /users/me
// (fastify.authenticate) and an extension route calling request.jwtVerify() (@fastify/jwt) both answer
// 401 with WWW-Authenticate: Bearer error="invalid_token" (assertRejectJwt).

const PASSWORD = 'correct horse battery staple'
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

t.test('J1: alg none (none/None/NONE/nOnE, empty or non-empty signature, with or without kid) is Reject-JWT', async (t) => {
  const fx = await accessTokenFixture(t, PASSWORD)
  const [, p, s] = (await fx.sign(fx.claims())).split('.')
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    const header = b64({ alg, typ: 'at+jwt', kid: fx.kid })
    await assertRejectJwt(t, fx, `${header}.${p}.`, `alg ${alg}`)
    await assertRejectJwt(t, fx, `${header}.${p}.${s}`, `alg ${alg} with a non-empty signature`)
    await assertRejectJwt(t, fx, `${b64({ alg, typ: 'at+jwt' })}.${p}.`, `alg ${alg} without kid`)
  }
})

t.test('J2: re-signed HS256/384/512 with our public key (PEM, JWK JSON, JWKS JSON, DER) as the HMAC secret is Reject-JWT', async (t) => {
  const fx = await accessTokenFixture(t, PASSWORD)
  const pem = fx.publicKey.export({ format: 'pem', type: 'spki' }).toString()
  const jwk = { ...fx.publicKey.export({ format: 'jwk' }), kid: fx.kid, alg: 'ES256', use: 'sig' }
  const der = fx.publicKey.export({ format: 'der', type: 'spki' })
  for (const [label, secret] of [['PEM', Buffer.from(pem)], ['JWK JSON', Buffer.from(JSON.stringify(jwk))], ['JWKS JSON', Buffer.from(JSON.stringify({ keys: [jwk] }))], ['DER', der]] as const) {
    for (const alg of ['HS256', 'HS384', 'HS512']) {
      await assertRejectJwt(t, fx, await fx.sign(fx.claims(), { alg }, new Uint8Array(secret)), `${alg} with our public key (${label}) as the secret`)
    }
  }
})

t.test('J3: edited payloads, stripped or truncated signatures, wrong segment counts, bad base64url, 8 KB headers are Reject-JWT, never 5xx', async (t) => {
  const fx = await accessTokenFixture(t, PASSWORD)
  const now = Math.floor(Date.now() / 1000)
  const valid = await fx.sign(fx.claims())
  const [h, p, s] = valid.split('.')
  if (h === undefined || p === undefined || s === undefined) throw new Error('a signed token has three segments')
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString())

  await assertRejectJwt(t, fx, 'garbage', 'garbage')
  await assertRejectJwt(t, fx, 'a.b.c', 'a.b.c')
  await assertRejectJwt(t, fx, `${h}.${b64({ ...payload, scope: 'read admin' })}.${s}`, 'scope+=admin, signature kept')
  await assertRejectJwt(t, fx, `${h}.${b64({ ...payload, sub: randomUUID() })}.${s}`, 'sub changed, signature kept')
  await assertRejectJwt(t, fx, `${h}.${b64({ ...payload, exp: now + 86400 * 365 })}.${s}`, 'exp extended, signature kept')
  await assertRejectJwt(t, fx, `${h}.${p}.`, 'signature stripped')
  await assertRejectJwt(t, fx, `${h}.${p}`, '2 segments')
  await assertRejectJwt(t, fx, `${h}.${p}.${s.slice(0, -10)}`, 'signature truncated')
  await assertRejectJwt(t, fx, `${h}.${p}.${s.slice(0, 20)}`, 'signature cut to 20 characters')
  await assertRejectJwt(t, fx, `${h}.${p}.${s}.${s}`, '4 segments')
  await assertRejectJwt(t, fx, `${h}.${p}.${s}.${s}.${s}`, '5 segments')
  await assertRejectJwt(t, fx, `${h}.${p}.${s.replace(/./, (c) => c === 'A' ? 'B' : 'A')}`, 'one signature character changed')
  await assertRejectJwt(t, fx, `${h}.${p}=.${s}`, 'bad base64url payload')
  await assertRejectJwt(t, fx, `${h}x.${p}.${s}`, 'bad base64url header')
  await assertRejectJwt(t, fx, `${b64('not json')}.${p}.${s}`, 'header is not JSON')
  await assertRejectJwt(t, fx, `${b64('null')}.${p}.${s}`, 'header is null')
  await assertRejectJwt(t, fx, `${b64({ alg: 'ES256', typ: 'at+jwt', kid: 42 })}.${p}.${s}`, 'kid is a number')
  await assertRejectJwt(t, fx, `${b64({ alg: 'ES256', typ: 'at+jwt', kid: fx.kid, pad: 'x'.repeat(8192) })}.${p}.${s}`, '8 KB header')
  await assertRejectJwt(t, fx, `${b64({ pad: 'x'.repeat(8192), alg: 'ES256', typ: 'at+jwt', kid: fx.kid })}.${p}.${s}`, '8 KB header, kid last')

  // Nothing above was answered with the user: the untouched token still works.
  await assertAcceptJwt(t, fx, valid, 'the untouched token')
})

t.test('J4: expired past the 10 s leeway, nbf in the future, or no exp is Reject-JWT; inside the leeway is accepted', async (t) => {
  const fx = await accessTokenFixture(t, PASSWORD)
  const now = Math.floor(Date.now() / 1000)
  await assertRejectJwt(t, fx, await fx.sign(fx.claims({ exp: now - 15, iat: now - 1000 })), 'expired 15 s ago (leeway 10 s + 5 s)')
  await assertRejectJwt(t, fx, await fx.sign(fx.claims({ exp: now - 3600, iat: now - 4500 })), 'expired an hour ago')
  await assertRejectJwt(t, fx, await fx.sign(fx.claims({ exp: undefined })), 'no exp')
  await assertRejectJwt(t, fx, await fx.sign(fx.claims({ nbf: now + 300 })), 'nbf in 5 minutes')
  await assertRejectJwt(t, fx, await fx.sign(fx.claims({ exp: String(now + 300) as unknown as number })), 'exp is a string')

  const leeway = await fx.sign(fx.claims({ exp: Math.floor(Date.now() / 1000) - 3 }))
  await assertAcceptJwt(t, fx, leeway, 'a few seconds past exp is inside the 10 s leeway')
})

t.test('J5: iss https://evil, iss with a trailing "/", no iss; aud of another resource server or no aud is Reject-JWT', async (t) => {
  const fx = await accessTokenFixture(t, PASSWORD)
  await assertRejectJwt(t, fx, await fx.sign(fx.claims({ iss: 'https://evil' })), 'iss https://evil')
  await assertRejectJwt(t, fx, await fx.sign(fx.claims({ iss: ISSUER + '/' })), 'iss with a trailing /')
  await assertRejectJwt(t, fx, await fx.sign(fx.claims({ iss: undefined })), 'no iss')
  await assertRejectJwt(t, fx, await fx.sign(fx.claims({ aud: 'https://other-api.test' })), 'aud of another resource server')
  await assertRejectJwt(t, fx, await fx.sign(fx.claims({ aud: undefined })), 'no aud')
  await assertRejectJwt(t, fx, await fx.sign(fx.claims({ aud: ['https://other-api.test'] })), 'aud array without us')
})

t.test('J6: only typ at+jwt / application/at+jwt (any case) is an access token; JWT, no typ, other kinds and refresh tokens are Reject-JWT', async (t) => {
  const fx = await accessTokenFixture(t, PASSWORD)
  // The crafting kit makes tokens the server accepts, so each rejection is for its own defect.
  for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT', 'Application/At+Jwt']) {
    await assertAcceptJwt(t, fx, await fx.sign(fx.claims(), { typ }), `typ ${typ} is accepted`)
  }
  await assertRejectJwt(t, fx, await fx.sign(fx.claims(), { typ: 'JWT' }), 'typ JWT')
  await assertRejectJwt(t, fx, await fx.sign(fx.claims(), { typ: undefined }), 'no typ')
  await assertRejectJwt(t, fx, await fx.sign(fx.claims(), { typ: 'id_token+jwt' }), 'an ID token kind')
  await assertRejectJwt(t, fx, await fx.sign(fx.claims(), { typ: 'logout+jwt' }), 'another JWT kind')
  await assertRejectJwt(t, fx, await fx.sign(fx.claims(), { typ: 'at+jwt+evil' }), 'typ with a suffix')
  await assertRejectJwt(t, fx, await fx.sign(fx.claims(), { typ: 'application/jwt' }), 'typ application/jwt')
  // Our refresh tokens are opaque, not JWTs: presented as an access token they are nothing.
  const login = await postFrom(fx.app, '/token', { grant_type: 'password', username: 'alice', password: PASSWORD })
  await assertRejectJwt(t, fx, login.json().refresh_token, 'a refresh token used as an access token')
})

t.test('J7: other keys under our kid, jku/x5u/jwk pointing at an attacker, hostile kids: Reject-JWT, zero outbound fetches, no 5xx', async (t) => {
  const fx = await accessTokenFixture(t, PASSWORD)
  const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  await assertRejectJwt(t, fx, await fx.sign(fx.claims(), {}, attacker.privateKey), 'signed by another key under our kid')
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  await assertRejectJwt(t, fx, await fx.sign(fx.claims(), { alg: 'RS256' }, rsa.privateKey), 'RS256 by another key under our kid')

  // The attacker's URL: a local server that would hand out the attacker's key, and counts every request.
  let fetches = 0
  const evil = createServer((_req, res) => { fetches++; res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ keys: [attacker.publicKey.export({ format: 'jwk' })] })) })
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => evil.close(() => resolve())))
  const evilUrl = `http://127.0.0.1:${(evil.address() as { port: number }).port}`
  // And any fetch() from this process at all.
  const realFetch = globalThis.fetch
  let globalFetches = 0
  globalThis.fetch = (async (...args: Parameters<typeof fetch>) => { globalFetches++; return realFetch(...args) }) as typeof fetch
  t.teardown(() => { globalThis.fetch = realFetch })

  const attackerJwk = { ...attacker.publicKey.export({ format: 'jwk' }), kid: fx.kid, alg: 'ES256' }
  await assertRejectJwt(t, fx, await fx.sign(fx.claims(), { jku: `${evilUrl}/jwks.json` }, attacker.privateKey), 'jku → attacker URL')
  await assertRejectJwt(t, fx, await fx.sign(fx.claims(), { x5u: `${evilUrl}/cert.pem` }, attacker.privateKey), 'x5u → attacker URL')
  await assertRejectJwt(t, fx, await fx.sign(fx.claims(), { jwk: attackerJwk as never }, attacker.privateKey), 'embedded attacker jwk')
  await assertRejectJwt(t, fx, await fx.sign(fx.claims(), { jku: `${evilUrl}/jwks.json`, kid: 'attacker' }, attacker.privateKey), 'jku with the attacker kid')
  await assertRejectJwt(t, fx, await fx.sign(fx.claims(), { x5u: `${evilUrl}/cert.pem`, jku: `${evilUrl}/jwks.json`, jwk: attackerJwk as never, kid: undefined }, attacker.privateKey), 'jku, x5u and jwk, no kid')
  for (const hostile of ['../../dev/null', "' OR 1=1--", '', 'x'.repeat(2000), '__proto__', 'constructor', `${fx.kid}\u0000`]) {
    await assertRejectJwt(t, fx, await fx.sign(fx.claims(), { kid: hostile }), `kid ${JSON.stringify(hostile.slice(0, 20))} (signed by our key)`)
  }
  // Give any fetch that might have been started in the background the time to arrive.
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(fetches, 0, 'zero requests reached the attacker URL')
  t.equal(globalFetches, 0, 'zero fetch() calls from the server')
})

t.test('J8: a revoked access token and an expired one introspect as 200 {"active":false} and nothing else', async (t) => {
  const fx = await accessTokenFixture(t, PASSWORD)
  const { app, rs } = fx
  const c1 = { authorization: basic('c1', (await addClient(app, 'c1', { grantTypes: ['password', 'refresh_token'] }))!) }
  const login = await postFrom(app, '/token', { grant_type: 'password', username: 'alice', password: PASSWORD }, c1)
  t.equal(login.statusCode, 200)
  const { access_token: at } = login.json()
  t.equal((await postFrom(app, '/introspect', { token: at }, rs)).json().active, true, 'active before')

  const revoked = await postFrom(app, '/revoke', { token: at }, c1)
  t.equal(revoked.statusCode, 200)
  await assertRejectJwt(t, fx, at, 'after POST /revoke')

  const now = Math.floor(Date.now() / 1000)
  await assertRejectJwt(t, fx, await fx.sign(fx.claims({ exp: now - 60, iat: now - 960 })), 'expired')
  const intro = await postFrom(app, '/introspect', { token: at, token_type_hint: 'access_token' }, rs)
  t.equal(intro.body, '{"active":false}', 'with a hint too')
  assertNoStore(t, intro)
})

t.test('J9: a disabled user loses introspection, refresh and password login alike (same body as a wrong password)', async (t) => {
  const app = await build(t, { ROUTES_DIR: JWT_VERIFY_ROUTES })
  await addUser(app, 'bob', 'pw')
  const rs = { authorization: basic('rs', (await addClient(app, 'rs', { grantTypes: ['client_credentials'] }))!) }
  const login = await postFrom(app, '/token', { grant_type: 'password', username: 'bob', password: 'pw' })
  const { access_token: at, refresh_token: rt } = login.json()
  const wrongPassword = await postFrom(app, '/token', { grant_type: 'password', username: 'bob', password: 'nope' })
  assertOAuthError(t, wrongPassword, 400, 'invalid_grant', undefined, 'wrong password')

  t.equal((await app.inject({ method: 'GET', url: JWT_VERIFY_PATH, headers: bearer(at) })).statusCode, 200, 'request.jwtVerify() accepts bob\'s token before')

  await app.users.update('bob', { disabled: true })
  const intro = await postFrom(app, '/introspect', { token: at }, rs)
  t.equal(intro.statusCode, 200)
  t.same(intro.json(), { active: false })
  t.equal(intro.body, '{"active":false}', 'and nothing else')
  const me = await app.inject({ method: 'GET', url: '/users/me', headers: bearer(at) })
  t.equal(me.statusCode, 401)
  t.match(me.headers['www-authenticate'], /error="invalid_token"/)
  const viaJwt = await app.inject({ method: 'GET', url: JWT_VERIFY_PATH, headers: bearer(at) })
  t.equal(viaJwt.statusCode, 401, 'request.jwtVerify(): 401 too')
  t.match(viaJwt.headers['www-authenticate'], /error="invalid_token"/)

  const refresh = await postFrom(app, '/token', { grant_type: 'refresh_token', refresh_token: rt })
  assertOAuthError(t, refresh, 400, 'invalid_grant', undefined, 'refresh')
  t.notOk(refresh.body.includes('access_token'), 'no token')

  const disabledLogin = await postFrom(app, '/token', { grant_type: 'password', username: 'bob', password: 'pw' })
  assertOAuthError(t, disabledLogin, 400, 'invalid_grant', undefined, 'right password of a disabled user')
  t.equal(disabledLogin.body, wrongPassword.body, 'same body as a wrong password')
  t.same(stableHeaders(disabledLogin), stableHeaders(wrongPassword), 'same headers (Date excepted)')
})

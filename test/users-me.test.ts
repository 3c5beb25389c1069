import t, { type Test } from 'tap'
import { createServer } from 'node:http'
import { generateKeyPairSync, randomUUID, createPublicKey, type KeyObject } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { SignJWT, type JWTPayload, type JWSHeaderParameters } from 'jose'
import { build, addUser, ISSUER } from './helper.js'
import { bearer, passwordGrant } from './support.js'

const PASSWORD = 'correct horse battery staple'
const BARE_CHALLENGE = 'Bearer realm="gatehouse"'
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

interface Fixture { app: FastifyInstance, kid: string, privateKey: KeyObject, publicKey: KeyObject, claims: (over?: JWTPayload) => JWTPayload, sign: (claims: JWTPayload, header?: Partial<JWSHeaderParameters>, key?: KeyObject | Uint8Array) => Promise<string> }

async function fixture (t: Test): Promise<Fixture & { sub: string }> {
  const app = await build(t)
  const alice = await addUser(app, 'alice', PASSWORD, { scope: 'read' })
  const active = app.signingKeys.current().active
  const now = Math.floor(Date.now() / 1000)
  const claims = (over: JWTPayload = {}): JWTPayload => ({
    iss: ISSUER, sub: alice.id, aud: ISSUER, exp: now + 300, iat: now, jti: randomUUID(), client_id: 'default', scope: 'read', ...over
  })
  const sign = async (payload: JWTPayload, header: Partial<JWSHeaderParameters> = {}, key: KeyObject | Uint8Array = active.privateKey) => {
    const protectedHeader = { alg: 'ES256', typ: 'at+jwt', kid: active.kid, ...header } as JWSHeaderParameters
    for (const name of Object.keys(protectedHeader)) if (protectedHeader[name] === undefined) delete protectedHeader[name]
    return new SignJWT(payload).setProtectedHeader(protectedHeader as JWSHeaderParameters & { alg: string }).sign(key)
  }
  return { app, sub: alice.id, kid: active.kid, privateKey: active.privateKey, publicKey: createPublicKey(active.privateKey), claims, sign }
}

async function assertInvalidToken (t: Test, app: FastifyInstance, token: string, label: string) {
  const res = await app.inject({ method: 'GET', url: '/users/me', headers: bearer(token) })
  t.equal(res.statusCode, 401, `${label}: 401`)
  const challenge = res.headers['www-authenticate'] as string | undefined
  t.match(challenge, /^Bearer realm="gatehouse"/, `${label}: a Bearer challenge`)
  t.match(challenge, /error="invalid_token"/, `${label}: error="invalid_token"`)
  t.equal(res.json().error, 'invalid_token', `${label}: body error invalid_token`)
  t.notOk(res.body.includes('alice'), `${label}: no user data`)
}

t.test('a valid token: 200 with the user, nulls for unset fields, no password hash', async (t) => {
  const app = await build(t)
  const alice = await addUser(app, 'alice', PASSWORD, { scope: 'read write' })
  const bob = await addUser(app, 'bob', PASSWORD, { fullName: 'Bob Builder', email: 'bob@example.test' })

  const res = await app.inject({ method: 'GET', url: '/users/me', headers: bearer((await passwordGrant(t, app, 'alice', PASSWORD)).access_token) })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json\b/)
  t.same(res.json(), { sub: alice.id, username: 'alice', full_name: null, email: null, disabled: false, scope: 'read write' })
  t.notOk(/argon2|password/i.test(res.body), 'no password hash, ever')

  const resBob = await app.inject({ method: 'GET', url: '/users/me', headers: bearer((await passwordGrant(t, app, 'bob', PASSWORD)).access_token) })
  t.same(resBob.json(), { sub: bob.id, username: 'bob', full_name: 'Bob Builder', email: 'bob@example.test', disabled: false, scope: '' })

  const lower = await app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `bearer ${(await passwordGrant(t, app, 'alice', PASSWORD)).access_token}` } })
  t.equal(lower.statusCode, 200, 'the scheme name is case-insensitive')
})

t.test('no credentials: 401 with a bare Bearer challenge (no error attribute)', async (t) => {
  const { app, sign, claims } = await fixture(t)
  const token = await sign(claims())
  const cases: Array<[string, { headers?: Record<string, string>, url?: string }]> = [
    ['no Authorization header', {}],
    ['Basic credentials', { headers: { authorization: `Basic ${Buffer.from('alice:' + PASSWORD).toString('base64')}` } }],
    ['Digest credentials', { headers: { authorization: 'Digest username="alice"' } }],
    ['a token in ?access_token= only', { url: `/users/me?access_token=${token}` }]
  ]
  for (const [label, { headers, url }] of cases) {
    const res = await app.inject({ method: 'GET', url: url ?? '/users/me', headers })
    t.equal(res.statusCode, 401, `${label}: 401`)
    t.equal(res.headers['www-authenticate'], BARE_CHALLENGE, `${label}: bare challenge`)
    t.notOk(res.body.includes('alice'), `${label}: no user data`)
  }
})

t.test('the crafting helper makes tokens the server accepts (so each rejection below is for its own defect)', async (t) => {
  const { app, sign, claims } = await fixture(t)
  for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT']) {
    const res = await app.inject({ method: 'GET', url: '/users/me', headers: bearer(await sign(claims(), { typ })) })
    t.equal(res.statusCode, 200, `typ ${typ} is accepted`)
  }
  const leeway = await sign(claims({ exp: Math.floor(Date.now() / 1000) - 3 }))
  t.equal((await app.inject({ method: 'GET', url: '/users/me', headers: bearer(leeway) })).statusCode, 200, 'a few seconds past exp is inside the 10 s leeway')
})

t.test('bad tokens: 401 error="invalid_token", never 5xx', async (t) => {
  const { app, sign, claims, kid, publicKey, sub } = await fixture(t)
  const now = Math.floor(Date.now() / 1000)
  const valid = await sign(claims())
  const [h, p, s] = valid.split('.')

  // RFC 6750 §2.1 syntax
  for (const header of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer ###', `Bearer ${valid} ${valid}`, `Bearer\t${valid}x\u0000`]) {
    const res = await app.inject({ method: 'GET', url: '/users/me', headers: { authorization: header } })
    t.equal(res.statusCode, 401, `malformed ${JSON.stringify(header.slice(0, 20))}: 401`)
    t.match(res.headers['www-authenticate'], /error="invalid_token"/, 'error="invalid_token"')
  }

  await assertInvalidToken(t, app, 'garbage', 'garbage')
  await assertInvalidToken(t, app, 'a.b.c', 'a.b.c')

  // J1: alg none
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    const header = b64({ alg, typ: 'at+jwt', kid })
    await assertInvalidToken(t, app, `${header}.${p}.`, `alg ${alg}`)
    await assertInvalidToken(t, app, `${header}.${p}.${s}`, `alg ${alg} with a non-empty signature`)
    await assertInvalidToken(t, app, `${b64({ alg, typ: 'at+jwt' })}.${p}.`, `alg ${alg} without kid`)
  }

  // J3: tampering and structure
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString())
  await assertInvalidToken(t, app, `${h}.${b64({ ...payload, scope: 'read admin' })}.${s}`, 'scope+=admin, signature kept')
  await assertInvalidToken(t, app, `${h}.${b64({ ...payload, sub: randomUUID() })}.${s}`, 'sub changed, signature kept')
  await assertInvalidToken(t, app, `${h}.${b64({ ...payload, exp: now + 86400 * 365 })}.${s}`, 'exp extended, signature kept')
  await assertInvalidToken(t, app, `${h}.${p}.`, 'signature stripped')
  await assertInvalidToken(t, app, `${h}.${p}`, '2 segments')
  await assertInvalidToken(t, app, `${h}.${p}.${s.slice(0, -10)}`, 'signature truncated')
  await assertInvalidToken(t, app, `${h}.${p}.${s.slice(0, 20)}`, 'signature cut to 20 characters')
  await assertInvalidToken(t, app, `${h}.${p}.${s}.${s}`, '4 segments')
  await assertInvalidToken(t, app, `${h}.${p}.${s}.${s}.${s}`, '5 segments')
  await assertInvalidToken(t, app, `${h}.${p}.${s.replace(/./, (c) => c === 'A' ? 'B' : 'A')}`, 'one signature character changed')
  await assertInvalidToken(t, app, `${h}.${p}=.${s}`, 'bad base64url payload')
  await assertInvalidToken(t, app, `${h}x.${p}.${s}`, 'bad base64url header')
  await assertInvalidToken(t, app, `${b64('not json')}.${p}.${s}`, 'header is not JSON')
  await assertInvalidToken(t, app, `${b64('null')}.${p}.${s}`, 'header is null')
  await assertInvalidToken(t, app, `${b64({ alg: 'ES256', typ: 'at+jwt', kid: 42 })}.${p}.${s}`, 'kid is a number')
  await assertInvalidToken(t, app, `${b64({ alg: 'ES256', typ: 'at+jwt', kid, pad: 'x'.repeat(8192) })}.${p}.${s}`, '8 KB header')
  await assertInvalidToken(t, app, `${b64({ pad: 'x'.repeat(8192), alg: 'ES256', typ: 'at+jwt', kid })}.${p}.${s}`, '8 KB header, kid last')

  // J4: time
  await assertInvalidToken(t, app, await sign(claims({ exp: now - 15, iat: now - 1000 })), 'expired 15 s ago (leeway is 10 s)')
  await assertInvalidToken(t, app, await sign(claims({ exp: now - 3600, iat: now - 4500 })), 'expired an hour ago')
  await assertInvalidToken(t, app, await sign(claims({ exp: undefined })), 'no exp')
  await assertInvalidToken(t, app, await sign(claims({ nbf: now + 300 })), 'nbf in 5 minutes')
  await assertInvalidToken(t, app, await sign(claims({ exp: String(now + 300) as unknown as number })), 'exp is a string')

  // J5: issuer and audience
  await assertInvalidToken(t, app, await sign(claims({ iss: 'https://evil' })), 'iss https://evil')
  await assertInvalidToken(t, app, await sign(claims({ iss: ISSUER + '/' })), 'iss with a trailing /')
  await assertInvalidToken(t, app, await sign(claims({ iss: undefined })), 'no iss')
  await assertInvalidToken(t, app, await sign(claims({ aud: 'https://other-api.test' })), 'aud of another resource server')
  await assertInvalidToken(t, app, await sign(claims({ aud: undefined })), 'no aud')
  await assertInvalidToken(t, app, await sign(claims({ aud: ['https://other-api.test'] })), 'aud array without us')

  // Required claims
  await assertInvalidToken(t, app, await sign(claims({ jti: undefined })), 'no jti')
  await assertInvalidToken(t, app, await sign(claims({ client_id: undefined })), 'no client_id')
  await assertInvalidToken(t, app, await sign(claims({ sub: undefined })), 'no sub')
  await assertInvalidToken(t, app, await sign(claims({ sub: randomUUID() })), 'sub of nobody')
  await assertInvalidToken(t, app, await sign(claims({ client_id: 'no-such-client' })), 'client_id of a client that does not exist')

  // J6: token type
  await assertInvalidToken(t, app, await sign(claims(), { typ: 'JWT' }), 'typ JWT')
  await assertInvalidToken(t, app, await sign(claims(), { typ: undefined }), 'no typ')
  await assertInvalidToken(t, app, await sign(claims(), { typ: 'id_token+jwt' }), 'another JWT kind')
  await assertInvalidToken(t, app, await sign(claims(), { typ: 'at+jwt+evil' }), 'typ with a suffix')

  // J2: HS256 with our public key as the HMAC secret
  const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString()
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' }
  const der = publicKey.export({ format: 'der', type: 'spki' })
  for (const [label, secret] of [['PEM', Buffer.from(pem)], ['JWK JSON', Buffer.from(JSON.stringify(jwk))], ['JWKS JSON', Buffer.from(JSON.stringify({ keys: [jwk] }))], ['DER', der]] as const) {
    for (const alg of ['HS256', 'HS384', 'HS512']) {
      await assertInvalidToken(t, app, await sign(claims(), { alg }, new Uint8Array(secret)), `${alg} with our public key (${label}) as the secret`)
    }
  }

  // J7: another key under our kid; key-location headers; hostile kids
  const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  await assertInvalidToken(t, app, await sign(claims(), {}, attacker.privateKey), 'signed by another key under our kid')
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  await assertInvalidToken(t, app, await sign(claims(), { alg: 'RS256' }, rsa.privateKey), 'RS256 by another key under our kid')

  let fetches = 0
  const evil = createServer((_req, res) => { fetches++; res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ keys: [attacker.publicKey.export({ format: 'jwk' })] })) })
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => evil.close(() => resolve())))
  const evilUrl = `http://127.0.0.1:${(evil.address() as { port: number }).port}`
  const attackerJwk = { ...attacker.publicKey.export({ format: 'jwk' }), kid, alg: 'ES256' }
  await assertInvalidToken(t, app, await sign(claims(), { jku: `${evilUrl}/jwks.json` }, attacker.privateKey), 'jku → attacker URL')
  await assertInvalidToken(t, app, await sign(claims(), { x5u: `${evilUrl}/cert.pem` }, attacker.privateKey), 'x5u → attacker URL')
  await assertInvalidToken(t, app, await sign(claims(), { jwk: attackerJwk as never }, attacker.privateKey), 'embedded attacker jwk')
  await assertInvalidToken(t, app, await sign(claims(), { jku: `${evilUrl}/jwks.json`, kid: 'attacker' }, attacker.privateKey), 'jku with the attacker kid')
  for (const hostile of ['../../dev/null', "' OR 1=1--", '', 'x'.repeat(2000), '__proto__', 'constructor', `${kid}\u0000`]) {
    await assertInvalidToken(t, app, await sign(claims(), { kid: hostile }), `kid ${JSON.stringify(hostile.slice(0, 20))} (signed by our key)`)
  }
  t.equal(fetches, 0, 'zero outbound fetches')

  // Nothing above was answered with the user: the real one still works.
  const ok = await app.inject({ method: 'GET', url: '/users/me', headers: bearer(valid) })
  t.equal(ok.statusCode, 200)
  t.equal(ok.json().sub, sub)
})

t.test('a user disabled or deleted after the token was issued', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', PASSWORD)
  await addUser(app, 'bob', PASSWORD)
  const aliceToken = (await passwordGrant(t, app, 'alice', PASSWORD)).access_token
  const bobToken = (await passwordGrant(t, app, 'bob', PASSWORD)).access_token
  t.equal((await app.inject({ method: 'GET', url: '/users/me', headers: bearer(aliceToken) })).statusCode, 200, 'works before')
  t.equal((await app.inject({ method: 'GET', url: '/users/me', headers: bearer(bobToken) })).statusCode, 200, 'works before')

  await app.users.update('alice', { disabled: true })
  await assertInvalidToken(t, app, aliceToken, 'disabled user')
  await app.users.delete('bob')
  await assertInvalidToken(t, app, bobToken, 'deleted user')
  await app.users.create({ username: 'bob', passwordHash: await app.passwords.hash(PASSWORD) })
  await assertInvalidToken(t, app, bobToken, 'a new user with the same name is not the old token\'s subject')
})

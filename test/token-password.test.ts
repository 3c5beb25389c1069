import t from 'tap'
import { decodeProtectedHeader, jwtVerify } from 'jose'
import { parseOptions } from '@node-rs/argon2'
import { build, addUser, form, FORM, ISSUER } from './helper.js'
import { assertOAuthError, localJwks, passwordGrant, stableHeaders } from './support.js'
import { createPasswordHasher } from '../lib/passwords.js'

const PASSWORD = 'correct horse battery staple'
const BAD_CREDENTIALS = 'invalid username or password'

// These tests are about input handling, not throttling (test/brute-force.test.ts): each request comes
// from its own address, so the per-IP failure limit never answers for them.
let nextAddress = 0
function post (payload: string, headers: Record<string, string> = FORM) {
  nextAddress++
  return { method: 'POST' as const, url: '/token', headers, payload, remoteAddress: `10.${(nextAddress >> 16) & 255}.${(nextAddress >> 8) & 255}.${nextAddress & 255}` }
}

t.test('success: RFC 6749 §5.1 reply and an RFC 9068 access token', async (t) => {
  const app = await build(t)
  const alice = await addUser(app, 'alice', PASSWORD, { scope: 'read write items:read' })
  const before = Math.floor(Date.now() / 1000)
  const res = await app.inject(post(form({ grant_type: 'password', username: 'alice', password: PASSWORD })))
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json\b/)
  t.equal(res.headers['cache-control'], 'no-store')
  t.equal(res.headers.pragma, 'no-cache')
  const body = res.json()
  t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type'])
  t.equal(body.token_type, 'Bearer')
  t.equal(body.expires_in, 900, 'expires_in = ACCESS_TOKEN_TTL (default 900)')
  t.equal(body.scope, 'read write items:read', 'no scope requested: every scope of the user')
  t.type(body.refresh_token, 'string', 'the default client gets a refresh token')
  t.ok(body.refresh_token.length >= 32, 'the refresh token is long enough to be unguessable')
  t.not(body.refresh_token, body.access_token)

  const header = decodeProtectedHeader(body.access_token)
  t.equal(header.typ, 'at+jwt')
  t.equal(header.alg, 'ES256')
  const jwksRes = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  t.ok(jwksRes.json().keys.some((k: { kid: string }) => k.kid === header.kid), 'the kid is in the JWKS')

  const { payload, protectedHeader } = await jwtVerify(body.access_token, await localJwks(app), {
    issuer: ISSUER, audience: ISSUER, typ: 'at+jwt', algorithms: ['ES256']
  })
  t.equal(protectedHeader.typ, 'at+jwt')
  t.equal(payload.iss, ISSUER)
  t.equal(payload.sub, alice.id, 'sub is the user id')
  t.equal(payload.aud, ISSUER, 'aud is a string: AUDIENCE (defaults to the issuer)')
  t.type(payload.aud, 'string')
  t.equal(payload.client_id, 'default')
  t.equal(payload.scope, 'read write items:read')
  t.type(payload.jti, 'string')
  t.ok((payload.jti as string).length >= 16, 'jti is unique-looking')
  t.type(payload.iat, 'number')
  t.ok(payload.iat! >= before - 1 && payload.iat! <= Math.floor(Date.now() / 1000) + 1, 'iat is now')
  t.equal(payload.exp! - payload.iat!, 900, 'exp = iat + ACCESS_TOKEN_TTL')
  const allowed = ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id', 'scope', 'grant_id']
  t.same(Object.keys(payload).filter((k) => !allowed.includes(k)), [], 'no claims beyond the contract (and grant_id)')
  t.notOk('nbf' in payload && (payload.nbf as number) > payload.iat!, 'no nbf in the future')

  const second = await passwordGrant(t, app, 'alice', PASSWORD)
  t.not(second.access_token, body.access_token, 'a new token every time')
  t.not((await jwtVerify(second.access_token, await localJwks(app))).payload.jti, payload.jti, 'a new jti every time')
})

t.test('ACCESS_TOKEN_TTL and AUDIENCE shape the token', async (t) => {
  const app = await build(t, { ACCESS_TOKEN_TTL: '600', AUDIENCE: 'https://api.gatehouse.test' })
  await addUser(app, 'alice', PASSWORD, { scope: 'read' })
  const body = await passwordGrant(t, app, 'alice', PASSWORD)
  t.equal(body.expires_in, 600)
  const { payload } = await jwtVerify(body.access_token, await localJwks(app), { issuer: ISSUER, audience: 'https://api.gatehouse.test', typ: 'at+jwt' })
  t.equal(payload.aud, 'https://api.gatehouse.test')
  t.equal(payload.exp! - payload.iat!, 600)
})

t.test('scope', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', PASSWORD, { scope: 'read write items:read' })
  await addUser(app, 'nobody', PASSWORD)
  const jwks = await localJwks(app)
  const scopeOf = async (token: string) => (await jwtVerify(token, jwks)).payload.scope

  const subset = await passwordGrant(t, app, 'alice', PASSWORD, { scope: 'read' })
  t.equal(subset.scope, 'read', 'a subset is granted as asked')
  t.equal(await scopeOf(subset.access_token), 'read')

  const two = await passwordGrant(t, app, 'alice', PASSWORD, { scope: 'items:read write' })
  t.same(two.scope?.split(' ').sort(), ['items:read', 'write'])
  t.same((await scopeOf(two.access_token) as string).split(' ').sort(), ['items:read', 'write'])

  for (const scope of ['admin', 'read admin', 'READ']) {
    const res = await app.inject(post(form({ grant_type: 'password', username: 'alice', password: PASSWORD, scope })))
    assertOAuthError(t, res, 400, 'invalid_scope', undefined, `scope=${scope} (the user lacks it: no silent narrowing)`)
  }
  for (const scope of ['read "write', 'read\\write', 'réad']) {
    const res = await app.inject(post(form({ grant_type: 'password', username: 'alice', password: PASSWORD, scope })))
    assertOAuthError(t, res, 400, 'invalid_scope', /malformed/, `malformed scope ${JSON.stringify(scope)}`)
  }

  const none = await passwordGrant(t, app, 'nobody', PASSWORD)
  t.notOk('scope' in none, 'a user without scopes gets no scope member')
  const { payload } = await jwtVerify(none.access_token, jwks)
  t.notOk('scope' in payload, 'and no scope claim (omitted when empty)')
})

t.test('unknown user, wrong password and disabled user get the very same reply', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', PASSWORD)
  await addUser(app, 'bob', PASSWORD, { disabled: true })
  const unknown = await app.inject(post(form({ grant_type: 'password', username: 'mallory', password: PASSWORD })))
  const wrong = await app.inject(post(form({ grant_type: 'password', username: 'alice', password: PASSWORD + '!' })))
  const disabled = await app.inject(post(form({ grant_type: 'password', username: 'bob', password: PASSWORD })))
  assertOAuthError(t, unknown, 400, 'invalid_grant', BAD_CREDENTIALS, 'unknown user')
  for (const [name, res] of [['wrong password', wrong], ['disabled user', disabled]] as const) {
    t.equal(res.statusCode, unknown.statusCode, `${name}: same status`)
    t.equal(res.body, unknown.body, `${name}: byte-identical body`)
    t.same(stableHeaders(res), stableHeaders(unknown), `${name}: same headers (Date excepted)`)
  }
})

t.test('bad input: OAuth errors, never 5xx, never a token', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', PASSWORD)
  const valid = form({ grant_type: 'password', username: 'alice', password: PASSWORD })

  const json = await app.inject(post(JSON.stringify({ grant_type: 'password', username: 'alice', password: PASSWORD }), { 'content-type': 'application/json' }))
  assertOAuthError(t, json, 400, 'invalid_request', undefined, 'JSON body')

  const boundary = 'gatehouseboundary'
  const multipart = ['grant_type', 'username', 'password'].map((name) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${{ grant_type: 'password', username: 'alice', password: PASSWORD }[name]}\r\n`).join('') + `--${boundary}--\r\n`
  assertOAuthError(t, await app.inject(post(multipart, { 'content-type': `multipart/form-data; boundary=${boundary}` })), 400, 'invalid_request', undefined, 'multipart body')
  assertOAuthError(t, await app.inject(post(valid, { 'content-type': 'text/plain' })), 400, 'invalid_request', undefined, 'text/plain body')
  assertOAuthError(t, await app.inject(post(valid, {})), 400, 'invalid_request', undefined, 'no Content-Type')
  assertOAuthError(t, await app.inject({ method: 'POST', url: '/token' }), 400, 'invalid_request', undefined, 'no body at all')
  assertOAuthError(t, await app.inject(post('')), 400, 'invalid_request', 'missing parameter: grant_type', 'empty form body')
  // username + password alone is the tutorial's form (password grant, see grants.test.ts); anything else needs grant_type.
  assertOAuthError(t, await app.inject(post(form({ refresh_token: 'x', scope: 'read' }))), 400, 'invalid_request', 'missing parameter: grant_type', 'missing grant_type')
  assertOAuthError(t, await app.inject(post(form({ password: PASSWORD }))), 400, 'invalid_request', 'missing parameter: grant_type', 'missing grant_type, password only')
  assertOAuthError(t, await app.inject(post(form({ grant_type: 'foo', username: 'alice', password: PASSWORD }))), 400, 'unsupported_grant_type', undefined, 'grant_type=foo')
  assertOAuthError(t, await app.inject(post(form({ grant_type: 'implicit', username: 'alice', password: PASSWORD }))), 400, 'unsupported_grant_type', undefined, 'grant_type=implicit')
  assertOAuthError(t, await app.inject(post(form({ grant_type: 'password', password: PASSWORD }))), 400, 'invalid_request', 'missing parameter: username', 'missing username')
  assertOAuthError(t, await app.inject(post(form({ grant_type: 'password', username: 'alice' }))), 400, 'invalid_request', 'missing parameter: password', 'missing password')
  assertOAuthError(t, await app.inject(post(form({ grant_type: 'password', username: 'alice', password: '' }))), 400, 'invalid_request', undefined, 'empty password')

  for (const [name, dup] of [
    ['grant_type', 'grant_type=password&grant_type=client_credentials'],
    ['grant_type', 'grant_type=password&grant_type=password'],
    ['scope', 'grant_type=password&scope=read&scope=write'],
    ['username', 'grant_type=password&username=bob&username=alice'],
    ['client_id', 'grant_type=password&client_id=default&client_id=default']
  ]) {
    const payload = dup.includes('username') ? `${dup}&password=${encodeURIComponent(PASSWORD)}` : `${dup}&username=alice&password=${encodeURIComponent(PASSWORD)}`
    assertOAuthError(t, await app.inject(post(payload)), 400, 'invalid_request', new RegExp(`${name} is repeated`), `repeated ${name}`)
  }
})

t.test('usernames that only look like alice never log in as alice', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', PASSWORD)
  const reference = await app.inject(post(form({ grant_type: 'password', username: 'alice', password: 'wrong' })))
  assertOAuthError(t, reference, 400, 'invalid_grant', BAD_CREDENTIALS, 'wrong password')

  const lookAlikes = ['alice\u0000', '\u0000alice', 'ａｌｉｃｅ', 'Alice', 'ALICE', 'alice\u200b', '\u200balice', 'alice ', ' alice', 'alice\n', 'аlice' /* Cyrillic а */, 'alice%00x',
    "' OR '1'='1", "alice'--", "alice' --", '"; DROP TABLE users;--', '%', '_', 'a%', 'al_ce', '*', 'alice\\']
  for (const username of lookAlikes) {
    const res = await app.inject(post(form({ grant_type: 'password', username, password: PASSWORD })))
    t.equal(res.statusCode, reference.statusCode, `${JSON.stringify(username)}: same status as a wrong password`)
    t.equal(res.body, reference.body, `${JSON.stringify(username)}: same body as a wrong password`)
    t.same(stableHeaders(res), stableHeaders(reference), `${JSON.stringify(username)}: same headers`)
  }

  // Raw, hostile percent-encodings (decoded by the form parser, or not).
  for (const raw of ['alice%00', 'alice%00x', '%ED%A0%80', '%FF', 'alice%FF', '%E2%80%8Balice', '%']) {
    const res = await app.inject(post(`grant_type=password&username=${raw}&password=${encodeURIComponent(PASSWORD)}`))
    t.equal(res.statusCode, 400, `raw username=${raw}: 400`)
    t.equal(res.json().error, 'invalid_grant', `raw username=${raw}: invalid_grant`)
    t.equal(res.headers['cache-control'], 'no-store')
  }

  const long = await app.inject(post(form({ grant_type: 'password', username: 'alice' + 'a'.repeat(10_000), password: PASSWORD })))
  assertOAuthError(t, long, 400, 'invalid_request', undefined, '10k-character username')

  t.equal(await app.users.count(), 1, 'the users table is intact')
  await passwordGrant(t, app, 'alice', PASSWORD)
})

t.test('password length: bounded, and no hashing cost for oversized input', async (t) => {
  const app = await build(t)
  const long128 = 'p'.repeat(127) + '!'
  await addUser(app, 'alice', long128)
  await passwordGrant(t, app, 'alice', long128)

  assertOAuthError(t, await app.inject(post(form({ grant_type: 'password', username: 'alice', password: 'x'.repeat(1025) }))),
    400, 'invalid_request', undefined, '1025-character password')

  const started = Date.now()
  const huge = await app.inject(post(form({ grant_type: 'password', username: 'alice', password: 'x'.repeat(1024 * 1024) })))
  assertOAuthError(t, huge, 413, 'invalid_request', undefined, '1 MB password')
  t.ok(Date.now() - started < 1000, 'refused quickly')

  const body = form({ grant_type: 'password', username: 'alice', password: long128 })
  const over = body + '&pad=' + 'a'.repeat(64 * 1024 + 1 - body.length - 5)
  t.equal(Buffer.byteLength(over), 64 * 1024 + 1)
  assertOAuthError(t, await app.inject(post(over)), 413, 'invalid_request', undefined, 'body of 64 KiB + 1')
  const under = body + '&pad=' + 'a'.repeat(64 * 1024 - body.length - 5)
  t.equal((await app.inject(post(under))).statusCode, 200, 'a body of exactly 64 KiB is accepted')
})

t.test('PASSWORD_GRANT=off refuses the grant', async (t) => {
  const app = await build(t, { PASSWORD_GRANT: 'off' })
  await addUser(app, 'alice', PASSWORD)
  assertOAuthError(t, await app.inject(post(form({ grant_type: 'password', username: 'alice', password: PASSWORD }))), 400, 'unauthorized_client')
})

t.test('GET /token is 405 with Allow: POST', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', PASSWORD)
  const res = await app.inject({ method: 'GET', url: `/token?${form({ grant_type: 'password', username: 'alice', password: PASSWORD })}` })
  t.equal(res.statusCode, 405)
  t.equal(res.headers.allow, 'POST')
  t.notOk(res.body.includes('access_token'), 'no token')
  t.equal(res.json().error, 'invalid_request')
})

t.test('a hash made with other argon2 parameters is upgraded at login', async (t) => {
  const app = await build(t)
  const old = await createPasswordHasher({ memoryCost: 128, timeCost: 2, parallelism: 1 })
  await app.users.create({ username: 'alice', passwordHash: await old.hash(PASSWORD) })
  const before = (await app.users.findByUsername('alice'))!.passwordHash!
  t.match(before, /\$m=128,t=2,p=1\$/)

  const failed = await app.inject(post(form({ grant_type: 'password', username: 'alice', password: 'wrong' })))
  t.equal(failed.statusCode, 400)
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal((await app.users.findByUsername('alice'))!.passwordHash, before, 'a failed login does not rehash')

  await passwordGrant(t, app, 'alice', PASSWORD)
  // The upgrade runs after the reply: wait for it (bounded).
  let after = before
  for (let i = 0; i < 100 && after === before; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    after = (await app.users.findByUsername('alice'))!.passwordHash!
  }
  t.not(after, before, 'the stored hash changed')
  t.match(after, /^\$argon2id\$v=19\$m=64,t=1,p=1\$/, 'it now uses the configured parameters (m=64,t=1,p=1)')
  t.same({ ...parseOptions(after) }, { ...parseOptions(after), memoryCost: 64, timeCost: 1, parallelism: 1 })
  await passwordGrant(t, app, 'alice', PASSWORD)
})

import t from 'tap'
import { jwtVerify } from 'jose'
import { parseOptions } from '@node-rs/argon2'
import { addClient, addUser, basic, build, form, FORM, ISSUER } from '../../support/helper.js'
import { assertOAuthError, localJwks, passwordGrant } from '../../support/oauth.js'
import { createPasswordHasher } from '../../../lib/credentials/passwords.js'

const PASSWORD = 'correct horse battery staple'

// These tests are about input handling, not throttling (test/routes/token/brute-force.test.ts): each request comes
// from its own address, so the per-IP failure limit never answers for them.
let nextAddress = 0
function post (payload: string, headers: Record<string, string> = FORM) {
  nextAddress++
  return { method: 'POST' as const, url: '/token', headers, payload, remoteAddress: `10.${(nextAddress >> 16) & 255}.${(nextAddress >> 8) & 255}.${nextAddress & 255}` }
}

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

t.test('bad input: OAuth errors, never 5xx, never a token', async (t) => {
  // Content types (T2), repeated parameters (T3) and grant_type (T5) are in test/security/t-token-endpoint.test.ts.
  const app = await build(t)
  await addUser(app, 'alice', PASSWORD)
  assertOAuthError(t, await app.inject({ method: 'POST', url: '/token' }), 400, 'invalid_request', undefined, 'no body at all')
  assertOAuthError(t, await app.inject(post('')), 400, 'invalid_request', 'missing parameter: grant_type', 'empty form body')
  assertOAuthError(t, await app.inject(post(form({ grant_type: 'password', password: PASSWORD }))), 400, 'invalid_request', 'missing parameter: username', 'missing username')
  assertOAuthError(t, await app.inject(post(form({ grant_type: 'password', username: 'alice' }))), 400, 'invalid_request', 'missing parameter: password', 'missing password')
  assertOAuthError(t, await app.inject(post(form({ grant_type: 'password', username: 'alice', password: '' }))), 400, 'invalid_request', undefined, 'empty password')
})

t.test('PASSWORD_GRANT=off refuses the grant, for every client', async (t) => {
  const app = await build(t, { PASSWORD_GRANT: 'off' })
  await addUser(app, 'alice', PASSWORD)
  assertOAuthError(t, await app.inject(post(form({ grant_type: 'password', username: 'alice', password: PASSWORD }))), 400, 'unauthorized_client')
  const secret = (await addClient(app, 'web', { grantTypes: ['password'] }))!
  for (const headers of [{}, { authorization: basic('web', secret) }] as Array<Record<string, string>>) {
    const res = await app.inject(post(form({ grant_type: 'password', username: 'alice', password: PASSWORD }), { ...FORM, ...headers }))
    t.equal(res.statusCode, 400)
    t.equal(res.json().error, 'unauthorized_client')
  }
})

t.test('client scope limits what a user-facing client can grant', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', PASSWORD, { scope: 'read write admin' })
  const secret = (await addClient(app, 'limited', { grantTypes: ['password'], scope: 'read write' }))!
  const auth = { ...FORM, authorization: basic('limited', secret) }
  const granted = await app.inject(post(form({ grant_type: 'password', username: 'alice', password: PASSWORD }), auth))
  t.equal(granted.statusCode, 200)
  t.equal(granted.json().scope, 'read write', 'user ∩ client')
  const admin = await app.inject(post(form({ grant_type: 'password', username: 'alice', password: PASSWORD, scope: 'admin' }), auth))
  t.equal(admin.json().error, 'invalid_scope')
})

t.test('a FastAPI-tutorial client posting only username and password gets the password grant', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', PASSWORD, { scope: 'read' })
  const res = await app.inject(post(form({ username: 'alice', password: PASSWORD })))
  t.equal(res.statusCode, 200)
  t.equal(res.json().scope, 'read')
  const noGrantType = await app.inject(post(form({ client_id: 'x', refresh_token: 'y' })))
  t.equal(noGrantType.statusCode, 400)
  t.same(noGrantType.json(), { error: 'invalid_request', error_description: 'missing parameter: grant_type' })
  const onlyUsername = await app.inject(post(form({ username: 'alice' })))
  t.equal(onlyUsername.json().error, 'invalid_request')
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

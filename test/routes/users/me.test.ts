import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { build, addUser } from '../../support/helper.js'
import { accessTokenFixture, bearer, passwordGrant } from '../../support/oauth.js'

const PASSWORD = 'correct horse battery staple'

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
  t.same(res.json(), { sub: alice.id, username: 'alice', full_name: null, email: null, disabled: false, scope: 'read write', claims: {} })
  t.notOk(/argon2|password/i.test(res.body), 'no password hash, ever')

  const resBob = await app.inject({ method: 'GET', url: '/users/me', headers: bearer((await passwordGrant(t, app, 'bob', PASSWORD)).access_token) })
  t.same(resBob.json(), { sub: bob.id, username: 'bob', full_name: 'Bob Builder', email: 'bob@example.test', disabled: false, scope: '', claims: {} })

  const lower = await app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `bearer ${(await passwordGrant(t, app, 'alice', PASSWORD)).access_token}` } })
  t.equal(lower.statusCode, 200, 'the scheme name is case-insensitive')
})

t.test('signed tokens missing a required claim, or naming nobody: 401 error="invalid_token"', async (t) => {
  // The attacks on access tokens (SECURITY-CASES J1–J7) are in test/security/j-jwt.test.ts.
  const { app, sign, claims, sub } = await accessTokenFixture(t, PASSWORD)
  await assertInvalidToken(t, app, await sign(claims({ jti: undefined })), 'no jti')
  await assertInvalidToken(t, app, await sign(claims({ client_id: undefined })), 'no client_id')
  await assertInvalidToken(t, app, await sign(claims({ sub: undefined })), 'no sub')
  await assertInvalidToken(t, app, await sign(claims({ sub: randomUUID() })), 'sub of nobody')
  await assertInvalidToken(t, app, await sign(claims({ client_id: 'no-such-client' })), 'client_id of a client that does not exist')

  const ok = await app.inject({ method: 'GET', url: '/users/me', headers: bearer(await sign(claims())) })
  t.equal(ok.statusCode, 200, 'the same token with every claim is accepted')
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

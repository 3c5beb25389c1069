import t, { type Test } from 'tap'
import { addClient, addUser, basic, build, ISSUER, post } from '../helper.js'
import { accessTokenFixture, assertOAuthError } from '../support.js'
import { assertNoStore, assertRejectJwt } from './support.js'

// SECURITY-CASES I1–I3: POST /introspect (RFC 7662).

async function setup (t: Test) {
  const app = await build(t)
  await addUser(app, 'alice', 'pw', { scope: 'read write' })
  const c1 = { authorization: basic('c1', (await addClient(app, 'c1', { grantTypes: ['password', 'refresh_token', 'client_credentials'], scope: 'read write' }))!) }
  const rs = { authorization: basic('rs', (await addClient(app, 'rs', { grantTypes: ['client_credentials'] }))!) }
  await addClient(app, 'p1', { isPublic: true, grantTypes: ['password', 'refresh_token'] })
  const login = async () => {
    const res = await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw' }, c1)
    t.equal(res.statusCode, 200, 'login')
    return res.json() as { access_token: string, refresh_token: string }
  }
  return { app, c1, rs, login }
}

t.test('I1: introspection with no or bad client credentials is 401 invalid_client, and tells nothing about the token', async (t) => {
  const { app, login, rs } = await setup(t)
  const { access_token: at } = await login()
  const none = await post(app, '/introspect', { token: at })
  assertOAuthError(t, none, 401, 'invalid_client', undefined, 'no credentials')
  t.same(Object.keys(none.json()).sort(), ['error', 'error_description'])
  t.equal(none.headers['www-authenticate'], undefined, 'no Basic challenge when Basic was not used')
  const bad = await post(app, '/introspect', { token: at }, { authorization: basic('rs', 'wrong') })
  assertOAuthError(t, bad, 401, 'invalid_client', undefined, 'a wrong secret')
  t.equal(bad.headers['www-authenticate'], 'Basic realm="gatehouse"')
  const unknown = await post(app, '/introspect', { token: at }, { authorization: basic('nobody', 'wrong') })
  t.equal(unknown.body, bad.body, 'unknown client and wrong secret answer alike')
  const malformed = await post(app, '/introspect', { token: at }, { authorization: 'Basic !!!' })
  assertOAuthError(t, malformed, 401, 'invalid_client', undefined, 'malformed Basic')
  const postWrong = await post(app, '/introspect', { token: at, client_id: 'rs', client_secret: 'wrong' })
  assertOAuthError(t, postWrong, 401, 'invalid_client', undefined, 'client_secret_post with a wrong secret')
  const pub = await post(app, '/introspect', { token: at, client_id: 'p1' })
  assertOAuthError(t, pub, 401, 'invalid_client', undefined, 'a public client is not a resource server')
  for (const res of [none, bad, unknown, malformed, postWrong, pub]) {
    t.notOk(/active|alice|"sub"|"scope"/.test(res.body), 'no token data')
  }
  const missing = await post(app, '/introspect', {}, { authorization: basic('rs', 'wrong') })
  t.equal(missing.statusCode, 400, 'missing token is invalid_request (checked by the schema first)')
  t.equal(missing.json().error, 'invalid_request')
  t.equal((await post(app, '/introspect', { token: at }, rs)).json().active, true, 'with credentials the token is active')
})

t.test('I2: an access token for another resource server (aud=RS-B) is {"active":false}', async (t) => {
  const fx = await accessTokenFixture(t, 'pw')
  for (const aud of ['https://rs-b.test', ['https://rs-b.test'], ['https://rs-b.test', 'https://rs-c.test']]) {
    await assertRejectJwt(t, fx, await fx.sign(fx.claims({ aud })), `aud ${JSON.stringify(aud)}`)
  }
  const ok = await post(fx.app, '/introspect', { token: await fx.sign(fx.claims({ aud: ISSUER })) }, fx.rs)
  t.equal(ok.json().active, true, 'the same token for us is active')
})

t.test('I2: a caller fishing with 1000 random tokens is throttled (429 + Retry-After) after 100 misses; other callers are not', async (t) => {
  const app = await build(t)
  const rs = { authorization: basic('rs', (await addClient(app, 'rs', { grantTypes: ['client_credentials'] }))!) }
  const other = { authorization: basic('rs2', (await addClient(app, 'rs2', { grantTypes: ['client_credentials'] }))!) }
  for (const garbage of ['garbage', 'a.b.c', 'x'.repeat(5000)]) {
    const res = await post(app, '/introspect', { token: garbage }, other)
    t.equal(res.statusCode, 200)
    t.equal(res.body, '{"active":false}', `${garbage.slice(0, 10)}: {"active":false} and nothing else`)
  }
  const replies = []
  for (let i = 0; i < 1000; i++) replies.push(await post(app, '/introspect', { token: `random-${i}-${Math.random().toString(36).slice(2)}` }, rs))
  const statuses = replies.map((r) => r.statusCode)
  t.equal(statuses.slice(0, 100).every((s) => s === 200), true, 'the first 100 misses are answered')
  t.ok(replies.slice(0, 100).every((r) => r.body === '{"active":false}'), 'each with {"active":false} and nothing else')
  t.equal(statuses.slice(100).every((s) => s === 429), true, 'then the caller must wait: the other 900 are 429')
  const throttled = replies[999]!
  assertOAuthError(t, throttled, 429, 'too_many_requests', undefined, 'the 1000th')
  t.match(throttled.headers['retry-after'], /^[1-9]\d*$/, 'Retry-After')
  t.ok(Number(throttled.headers['retry-after']) <= 60, 'within the one-minute window')
  t.equal((await post(app, '/introspect', { token: 'random' }, other)).statusCode, 200, 'other callers are unaffected')
})

t.test('I3: an active access token introspects as 200 active:true with scope, client_id, sub, exp, iat, iss, aud, token_type; no-store', async (t) => {
  const { app, login, rs } = await setup(t)
  const { access_token: at } = await login()
  const res = await post(app, '/introspect', { token: at }, rs)
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json\b/)
  t.equal(res.headers['cache-control'], 'no-store')
  t.equal(res.headers.pragma, 'no-cache')
  assertNoStore(t, res)
  const body = res.json()
  t.match(body, { active: true, scope: 'read write', client_id: 'c1', username: 'alice', token_type: 'Bearer', iss: 'http://gatehouse.test', aud: 'http://gatehouse.test' })
  t.type(body.sub, 'string')
  t.type(body.exp, 'number')
  t.type(body.iat, 'number')
  t.type(body.jti, 'string')
  t.ok(body.exp > Math.floor(Date.now() / 1000), 'exp in the future')
  t.same(Object.keys(body).filter((k) => !['active', 'scope', 'client_id', 'username', 'token_type', 'exp', 'iat', 'nbf', 'sub', 'aud', 'iss', 'jti'].includes(k)), [], 'only RFC 7662 §2.2 members')
})

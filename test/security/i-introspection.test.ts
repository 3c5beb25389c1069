import t, { type Test } from 'tap'
import { addClient, addUser, basic, build, ISSUER, post } from '../support/helper.js'
import { accessTokenFixture, assertOAuthError } from '../support/oauth.js'
import { INTROSPECTION_UNKNOWN_TOKENS, introspectionLimits } from '../../lib/oauth/brute-force.js'
import { UNKNOWN_TOKEN_DELAY_MS } from '../../lib/oauth/introspection.js'
import { assertNoStore, assertRejectJwt, buildLogged } from '../support/security.js'

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

t.test('I2: a caller fishing with random tokens is throttled by delay, never refused: its active tokens are answered at once throughout', async (t) => {
  const { app, output } = await buildLogged(t, { LOG_LEVEL: 'warn', ACCESS_LOG: 'off' })
  await addUser(app, 'alice', 'pw')
  const rs = { authorization: basic('rs', (await addClient(app, 'rs', { grantTypes: ['client_credentials'] }))!) }
  const other = { authorization: basic('rs2', (await addClient(app, 'rs2', { grantTypes: ['client_credentials'] }))!) }
  const valid = (await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw' })).json().access_token as string
  const timed = async (token: string, who: Record<string, string>) => {
    const start = Date.now()
    const res = await post(app, '/introspect', { token }, who)
    return { res, ms: Date.now() - start }
  }
  for (const garbage of ['garbage', 'a.b.c', 'x'.repeat(5000)]) {
    const res = await post(app, '/introspect', { token: garbage }, other)
    t.equal(res.statusCode, 200)
    t.equal(res.body, '{"active":false}', `${garbage.slice(0, 10)}: {"active":false} and nothing else`)
  }
  const replies = []
  for (let i = 0; i < INTROSPECTION_UNKNOWN_TOKENS.max; i++) replies.push(await post(app, '/introspect', { token: `random-${i}-${Math.random().toString(36).slice(2)}` }, rs))
  t.ok(replies.every((r) => r.statusCode === 200 && r.body === '{"active":false}'), `the first ${INTROSPECTION_UNKNOWN_TOKENS.max} unknown tokens: {"active":false} at once`)
  t.notOk(output().includes('unknown tokens'), 'nothing logged yet')

  const paced = await Promise.all([1, 2, 3].map(() => timed(`random-${Math.random()}`, rs)))
  for (const { res, ms } of paced) {
    t.equal(res.statusCode, 200, 'beyond the limit: still 200, never 429')
    t.equal(res.body, '{"active":false}')
    t.ok(ms >= UNKNOWN_TOKEN_DELAY_MS - 50, `...but delayed (${ms} ms)`)
  }
  const logged = output().split('\n').filter((l) => l.includes('over its limit of unknown tokens'))
  t.equal(logged.length, 1, 'logged once per window, not per request')
  t.match(JSON.parse(logged[0]!), { level: 40, clientId: 'rs' })

  const [active, junk] = await Promise.all([timed(valid, rs), timed('still-fishing', rs)])
  t.equal(active.res.statusCode, 200)
  t.equal(active.res.json().active, true, 'the fishing caller\'s valid token is active')
  t.ok(active.ms < UNKNOWN_TOKEN_DELAY_MS / 2, `and answered at once (${active.ms} ms)`)
  t.ok(junk.ms >= UNKNOWN_TOKEN_DELAY_MS - 50, 'while its junk waits')
  const bystander = await timed('random', other)
  t.equal(bystander.res.body, '{"active":false}')
  t.ok(bystander.ms < UNKNOWN_TOKEN_DELAY_MS / 2, `other callers are not delayed (${bystander.ms} ms)`)
})

t.test('I2: expired, revoked, spent and forged tokens are not fishing: they never count towards the limit', async (t) => {
  const fx = await accessTokenFixture(t, 'pw')
  const { app, rs } = fx
  const c1 = { authorization: basic('c1', (await addClient(app, 'c1', { grantTypes: ['password', 'refresh_token'] }))!) }
  const login = async () => (await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw' }, c1)).json() as { access_token: string, refresh_token: string }
  const revoked = await login()
  t.equal((await post(app, '/revoke', { token: revoked.access_token }, c1)).statusCode, 200)
  const spent = await login()
  t.equal((await post(app, '/token', { grant_type: 'refresh_token', refresh_token: spent.refresh_token }, c1)).statusCode, 200)
  const now = Math.floor(Date.now() / 1000)
  const expired = await fx.sign(fx.claims({ iat: now - 1000, exp: now - 100 }))
  const good = await fx.sign(fx.claims())
  const forged = good.slice(0, good.lastIndexOf('.') + 1) + 'A'.repeat(86)
  const unknownKid = await fx.sign(fx.claims(), { kid: 'dropped-key' })
  const ordinary = [expired, forged, unknownKid, revoked.access_token, spent.refresh_token, revoked.refresh_token]
  const rounds = Math.ceil((INTROSPECTION_UNKNOWN_TOKENS.max + 100) / ordinary.length)
  for (let i = 0; i < rounds; i++) {
    const replies = await Promise.all(ordinary.map((token) => post(app, '/introspect', { token }, rs)))
    if (!replies.every((r) => r.body === '{"active":false}')) t.fail(`round ${i}: every one inactive`)
  }
  // The caller's counter, read through take(): it counts one more and answers whether the count went past `max`.
  const [fishing] = introspectionLimits('rs')
  t.equal(await app.throttle.take([{ ...fishing!, max: 1 }]), undefined, `${rounds * ordinary.length} inactive answers, none of them counted (this probe is the first)`)
  await post(app, '/introspect', { token: 'a-guess' }, rs)
  t.type(await app.throttle.take([{ ...fishing!, max: 2 }]), 'number', 'while a guess is (the probe, the guess, this probe: past 2)')
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

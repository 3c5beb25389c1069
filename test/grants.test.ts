import t from 'tap'
import { decodeJwt } from 'jose'
import { addClient, addUser, basic, build, post } from './helper.js'

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' }

t.test('client_credentials with client_secret_basic and client_secret_post', async (t) => {
  const app = await build(t)
  const secret = (await addClient(app, 'svc', { grantTypes: ['client_credentials'], scope: 'read write' }))!

  const viaBasic = await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: basic('svc', secret) })
  t.equal(viaBasic.statusCode, 200)
  t.match(viaBasic.headers, NO_STORE)
  const body = viaBasic.json()
  t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type'], 'no refresh token for client_credentials')
  t.equal(body.token_type, 'Bearer')
  t.equal(body.scope, 'read write', 'no scope requested: everything the client may have')
  const claims = decodeJwt(body.access_token)
  t.equal(claims.sub, 'svc')
  t.equal(claims.client_id, 'svc')

  const viaPost = await post(app, '/token', { grant_type: 'client_credentials', client_id: 'svc', client_secret: secret, scope: 'read' })
  t.equal(viaPost.statusCode, 200)
  t.equal(viaPost.json().scope, 'read')

  const tooMuch = await post(app, '/token', { grant_type: 'client_credentials', scope: 'read admin' }, { authorization: basic('svc', secret) })
  t.equal(tooMuch.statusCode, 400)
  t.equal(tooMuch.json().error, 'invalid_scope')
  t.match(tooMuch.headers, NO_STORE)
})

t.test('a client without --scope gets no scope with client_credentials', async (t) => {
  const app = await build(t)
  const secret = (await addClient(app, 'bare', { grantTypes: ['client_credentials'] }))!
  const res = await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: basic('bare', secret) })
  t.equal(res.statusCode, 200)
  t.equal(res.json().scope, undefined)
  t.equal(decodeJwt(res.json().access_token).scope, undefined, 'scope claim omitted when empty')
  const asked = await post(app, '/token', { grant_type: 'client_credentials', scope: 'read' }, { authorization: basic('bare', secret) })
  t.equal(asked.json().error, 'invalid_scope')
})

t.test('client authentication failures', async (t) => {
  const app = await build(t)
  const secret = (await addClient(app, 'c1', { grantTypes: ['client_credentials', 'password'] }))!
  await addClient(app, 'p1', { isPublic: true, grantTypes: ['password'] })
  const cc = { grant_type: 'client_credentials' }

  const wrong = await post(app, '/token', cc, { authorization: basic('c1', 'wrong') })
  t.equal(wrong.statusCode, 401)
  t.equal(wrong.headers['www-authenticate'], 'Basic realm="gatehouse"')
  t.match(wrong.headers, NO_STORE)
  t.equal(wrong.json().error, 'invalid_client')
  const unknown = await post(app, '/token', cc, { authorization: basic('nobody', 'wrong') })
  t.equal(unknown.statusCode, 401)
  t.equal(unknown.body, wrong.body, 'unknown client and wrong secret answer identically')
  const empty = await post(app, '/token', cc, { authorization: basic('c1', '') })
  t.equal(empty.statusCode, 401)

  for (const header of ['Basic !!!', 'Basic ' + Buffer.from('no-colon').toString('base64'), 'Basic ' + Buffer.from('%zz:x').toString('base64'), 'Basic']) {
    const res = await post(app, '/token', cc, { authorization: header })
    t.equal(res.statusCode, 401, `malformed: ${header}`)
    t.equal(res.json().error, 'invalid_client')
    t.equal(res.headers['www-authenticate'], 'Basic realm="gatehouse"')
  }

  const postWrong = await post(app, '/token', { ...cc, client_id: 'c1', client_secret: 'wrong' })
  t.equal(postWrong.statusCode, 401)
  t.equal(postWrong.headers['www-authenticate'], undefined, 'no Basic challenge when Basic was not used')

  const twoMethods = await post(app, '/token', { ...cc, client_secret: secret }, { authorization: basic('c1', secret) })
  t.equal(twoMethods.statusCode, 400)
  t.equal(twoMethods.json().error, 'invalid_request')

  const noClient = await post(app, '/token', cc)
  t.equal(noClient.statusCode, 401)
  t.equal(noClient.json().error, 'invalid_client')

  const publicCc = await post(app, '/token', { ...cc, client_id: 'p1' })
  t.equal(publicCc.statusCode, 400)
  t.equal(publicCc.json().error, 'unauthorized_client', 'a public client may not use client_credentials')

  const confidentialWithoutSecret = await post(app, '/token', { ...cc, client_id: 'c1' })
  t.equal(confidentialWithoutSecret.statusCode, 401, 'a confidential client must authenticate')
})

t.test('Basic credentials are form-decoded (RFC 6749 §2.3.1)', async (t) => {
  const app = await build(t)
  const secret = (await addClient(app, 'svc:a.b', { grantTypes: ['client_credentials'] }))!
  const raw = 'Basic ' + Buffer.from(`svc%3Aa.b:${secret}`).toString('base64')
  const res = await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: raw })
  t.equal(res.statusCode, 200)
  t.equal(decodeJwt(res.json().access_token).client_id, 'svc:a.b')
})

t.test('a client may use only its grant types (unauthorized_client)', async (t) => {
  const app = await build(t)
  const secret = (await addClient(app, 'cc1', { grantTypes: ['client_credentials'] }))!
  await addUser(app, 'alice', 'pw')
  for (const fields of [
    { grant_type: 'password', username: 'alice', password: 'pw' },
    { grant_type: 'refresh_token', refresh_token: 'x' },
    { grant_type: 'authorization_code', code: 'x' }
  ] as Array<Record<string, string>>) {
    const res = await post(app, '/token', fields, { authorization: basic('cc1', secret) })
    t.equal(res.statusCode, 400, fields.grant_type)
    t.equal(res.json().error, fields.grant_type === 'authorization_code' ? 'unsupported_grant_type' : 'unauthorized_client')
  }
})

async function passwordLogin (app: Awaited<ReturnType<typeof build>>, fields: Record<string, string> = {}, headers: Record<string, string> = {}) {
  const res = await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw', ...fields }, headers)
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.body}`)
  return res.json() as { access_token: string, refresh_token?: string, scope?: string }
}

t.test('refresh tokens: issued when allowed, rotate on use, reuse revokes the family', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', 'pw', { scope: 'read write' })
  const secret = (await addClient(app, 'web', { grantTypes: ['password', 'refresh_token'] }))!
  const noRefresh = (await addClient(app, 'web2', { grantTypes: ['password'] }))!
  const auth = { authorization: basic('web', secret) }

  t.equal((await passwordLogin(app, {}, { authorization: basic('web2', noRefresh) })).refresh_token, undefined, 'no refresh token without the refresh_token grant')

  const first = await passwordLogin(app, {}, auth)
  t.type(first.refresh_token, 'string')
  const rotated = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token! }, auth)
  t.equal(rotated.statusCode, 200)
  t.match(rotated.headers, NO_STORE)
  const second = rotated.json()
  t.not(second.refresh_token, first.refresh_token, 'a new refresh token every time')
  t.equal(second.scope, 'read write')
  t.equal(decodeJwt(second.access_token).grant_id, decodeJwt(first.access_token).grant_id, 'same family')

  const me = (token: string) => app.inject({ url: '/users/me', headers: { authorization: `Bearer ${token}` } })
  t.equal((await me(second.access_token)).statusCode, 200)

  // R1: replaying the spent token kills the family: its live descendant and every access token of the grant.
  const replay = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token! }, auth)
  t.equal(replay.statusCode, 400)
  t.equal(replay.json().error, 'invalid_grant')
  const descendant = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: second.refresh_token }, auth)
  t.equal(descendant.json().error, 'invalid_grant')
  t.equal((await me(first.access_token)).statusCode, 401)
  t.equal((await me(second.access_token)).statusCode, 401)
  const intro = await post(app, '/introspect', { token: second.access_token }, auth)
  t.same(intro.json(), { active: false })
})

t.test('R2: one refresh token sent 50 times at once succeeds exactly once', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', 'pw')
  const { refresh_token: rt } = await passwordLogin(app)
  const results = await Promise.all(Array.from({ length: 50 }, () =>
    post(app, '/token', { grant_type: 'refresh_token', refresh_token: rt! })))
  t.equal(results.filter((r) => r.statusCode === 200).length, 1)
  t.ok(results.filter((r) => r.statusCode !== 200).every((r) => r.statusCode === 400 && r.json().error === 'invalid_grant'))
  const winner = results.find((r) => r.statusCode === 200)!.json()
  const next = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: winner.refresh_token })
  t.equal(next.json().error, 'invalid_grant', 'the family was revoked by the losers')
})

t.test('R3: refresh may narrow the scope, never widen it; the family keeps the original scope', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', 'pw', { scope: 'read write admin' })
  const { refresh_token: rt } = await passwordLogin(app, { scope: 'read write' })
  const wider = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: rt!, scope: 'read admin' })
  t.equal(wider.statusCode, 400)
  t.equal(wider.json().error, 'invalid_scope')
  const narrow = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: rt!, scope: 'read' })
  t.equal(narrow.statusCode, 200)
  t.equal(narrow.json().scope, 'read')
  const again = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: narrow.json().refresh_token })
  t.equal(again.json().scope, 'read write', 'a narrower request does not shrink the grant')
})

t.test('R4, R5: wrong client, garbage, expired, revoked refresh tokens are invalid_grant', async (t) => {
  let clock = Math.floor(Date.now() / 1000)
  const app = await build(t, { REFRESH_TOKEN_TTL: '100', REFRESH_TOKEN_MAX_LIFETIME: '250' }, { now: () => clock })
  await addUser(app, 'alice', 'pw')
  const s1 = (await addClient(app, 'c1', { grantTypes: ['password', 'refresh_token'] }))!
  const s2 = (await addClient(app, 'c2', { grantTypes: ['password', 'refresh_token'] }))!
  const c1 = { authorization: basic('c1', s1) }
  let { refresh_token: rt } = await passwordLogin(app, {}, c1)

  const stolen = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: rt! }, { authorization: basic('c2', s2) })
  t.equal(stolen.json().error, 'invalid_grant')
  const anonymous = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: rt! })
  t.equal(anonymous.json().error, 'invalid_grant', 'not the default client either')

  for (const garbage of ['x', 'A'.repeat(10 * 1024), 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln']) {
    const res = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: garbage }, c1)
    t.equal(res.statusCode, 400)
    t.equal(res.json().error, 'invalid_grant')
  }

  // Sliding use keeps a family alive only up to its absolute lifetime.
  for (let i = 0; i < 2; i++) {
    clock += 90
    const res = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: rt! }, c1)
    t.equal(res.statusCode, 200, `sliding refresh ${i}`)
    rt = res.json().refresh_token
  }
  clock += 90 // 270 s after the grant: past REFRESH_TOKEN_MAX_LIFETIME
  t.equal((await post(app, '/token', { grant_type: 'refresh_token', refresh_token: rt! }, c1)).json().error, 'invalid_grant')

  const fresh = await passwordLogin(app, {}, c1)
  clock += 101 // past REFRESH_TOKEN_TTL
  t.equal((await post(app, '/token', { grant_type: 'refresh_token', refresh_token: fresh.refresh_token! }, c1)).json().error, 'invalid_grant')

  const revoked = await passwordLogin(app, {}, c1)
  t.equal((await post(app, '/revoke', { token: revoked.refresh_token! }, c1)).statusCode, 200)
  t.equal((await post(app, '/token', { grant_type: 'refresh_token', refresh_token: revoked.refresh_token! }, c1)).json().error, 'invalid_grant')
})

t.test('the default client: refresh with client_id=default or with no client at all', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', 'pw')
  const { refresh_token: rt } = await passwordLogin(app)
  const withId = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: rt!, client_id: 'default' })
  t.equal(withId.statusCode, 200)
  const without = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: withId.json().refresh_token })
  t.equal(without.statusCode, 200)
  t.equal(decodeJwt(without.json().access_token).client_id, 'default')
  const secretForDefault = await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw', client_id: 'default', client_secret: 'x' })
  t.equal(secretForDefault.statusCode, 401, 'the built-in client has no secret')
})

t.test('PASSWORD_GRANT=off refuses the password grant for every client', async (t) => {
  const app = await build(t, { PASSWORD_GRANT: 'off' })
  await addUser(app, 'alice', 'pw')
  const secret = (await addClient(app, 'web', { grantTypes: ['password'] }))!
  for (const headers of [{}, { authorization: basic('web', secret) }] as Array<Record<string, string>>) {
    const res = await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw' }, headers)
    t.equal(res.statusCode, 400)
    t.equal(res.json().error, 'unauthorized_client')
  }
})

t.test('client scope limits what a user-facing client can grant', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', 'pw', { scope: 'read write admin' })
  const secret = (await addClient(app, 'limited', { grantTypes: ['password'], scope: 'read write' }))!
  const auth = { authorization: basic('limited', secret) }
  t.equal((await passwordLogin(app, {}, auth)).scope, 'read write', 'user ∩ client')
  const admin = await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw', scope: 'admin' }, auth)
  t.equal(admin.json().error, 'invalid_scope')
})

t.test('a FastAPI-tutorial client posting only username and password gets the password grant', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', 'pw', { scope: 'read' })
  const res = await post(app, '/token', { username: 'alice', password: 'pw' })
  t.equal(res.statusCode, 200)
  t.equal(res.json().scope, 'read')
  const noGrantType = await post(app, '/token', { client_id: 'x', refresh_token: 'y' })
  t.equal(noGrantType.statusCode, 400)
  t.same(noGrantType.json(), { error: 'invalid_request', error_description: 'missing parameter: grant_type' })
  const onlyUsername = await post(app, '/token', { username: 'alice' })
  t.equal(onlyUsername.json().error, 'invalid_request')
})

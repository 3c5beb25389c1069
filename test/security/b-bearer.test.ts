import t from 'tap'
import { accessTokenFixture, bearer } from '../support/oauth.js'
import { addUser } from '../support/helper.js'
import { postFrom } from '../support/security.js'

// SECURITY-CASES B1–B2: RFC 6750 on the protected resources (GET /users/me, the admin API).

const PASSWORD = 'correct horse battery staple'
const BARE_CHALLENGE = 'Bearer realm="gatehouse"'

t.test('B1: no credentials: 401 with a bare Bearer challenge (no error attribute)', async (t) => {
  const { app } = await accessTokenFixture(t, PASSWORD)
  const cases: Array<[string, Record<string, string> | undefined]> = [
    ['no Authorization header', undefined],
    ['Basic credentials', { authorization: `Basic ${Buffer.from('alice:' + PASSWORD).toString('base64')}` }],
    ['Digest credentials', { authorization: 'Digest username="alice"' }]
  ]
  for (const url of ['/users/me', '/admin/users']) {
    for (const [label, headers] of cases) {
      const res = await app.inject({ method: 'GET', url, headers })
      t.equal(res.statusCode, 401, `${url}, ${label}: 401`)
      t.equal(res.headers['www-authenticate'], BARE_CHALLENGE, `${url}, ${label}: bare challenge`)
      t.notOk(res.body.includes('alice'), `${url}, ${label}: no user data`)
    }
  }
})

t.test('B1: a bad token: 401 error="invalid_token", never 5xx', async (t) => {
  const { app, sign, claims } = await accessTokenFixture(t, PASSWORD)
  const valid = await sign(claims())
  // RFC 6750 §2.1 syntax
  for (const header of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer ###', `Bearer ${valid} ${valid}`, `Bearer\t${valid}x\u0000`, 'Bearer garbage', 'Bearer a.b.c']) {
    for (const url of ['/users/me', '/admin/users']) {
      const res = await app.inject({ method: 'GET', url, headers: { authorization: header } })
      const label = `${url} with ${JSON.stringify(header.slice(0, 20))}`
      t.equal(res.statusCode, 401, `${label}: 401`)
      t.match(res.headers['www-authenticate'], /^Bearer realm="gatehouse", error="invalid_token"/, `${label}: error="invalid_token"`)
      t.equal(res.json().error, 'invalid_token')
    }
  }
})

t.test('B1: a valid token lacking the scope: 403 error="insufficient_scope" naming the scope', async (t) => {
  const { app } = await accessTokenFixture(t, PASSWORD)
  const login = await postFrom(app, '/token', { grant_type: 'password', username: 'alice', password: PASSWORD })
  t.equal(login.statusCode, 200)
  const { access_token: at, scope } = login.json()
  t.equal(scope, 'read', 'alice has read, not admin')
  for (const [method, url] of [['GET', '/admin/users'], ['GET', '/admin/clients'], ['POST', '/admin/keys/rotate']] as const) {
    const res = await app.inject({ method, url, headers: bearer(at) })
    t.equal(res.statusCode, 403, `${method} ${url}: 403`)
    t.match(res.headers['www-authenticate'], /^Bearer realm="gatehouse", error="insufficient_scope", error_description="[^"]*", scope="admin"$/, `${method} ${url}: the challenge`)
    t.equal(res.json().error, 'insufficient_scope')
  }
  t.equal((await app.inject({ method: 'GET', url: '/users/me', headers: bearer(at) })).statusCode, 200, 'the token itself is fine')
})

t.test('B2: a token only in ?access_token= is not a credential: 401 with the bare challenge', async (t) => {
  const { app, sign, claims } = await accessTokenFixture(t, PASSWORD)
  const token = await sign(claims())
  for (const url of [`/users/me?access_token=${token}`, `/admin/users?access_token=${token}`]) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 401, `${url.split('?')[0]}: 401`)
    t.equal(res.headers['www-authenticate'], BARE_CHALLENGE, 'bare challenge: the query method is not supported')
    t.notOk(res.body.includes('alice'), 'no user data')
  }
})

t.test('B2: a token in the header and in the body: 400 invalid_request', async (t) => {
  const { app } = await accessTokenFixture(t, PASSWORD)
  await addUser(app, 'root', 'root-pw', { scope: 'admin' })
  const login = await postFrom(app, '/token', { grant_type: 'password', username: 'root', password: 'root-pw' })
  const { access_token: admin } = login.json()
  const created = { username: 'carol', password: 'carol-password' }

  const asForm = await app.inject({ method: 'POST', url: '/admin/users', headers: { ...bearer(admin), 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ ...created, access_token: admin }).toString() })
  const asJson = await app.inject({ method: 'POST', url: '/admin/users', headers: bearer(admin), payload: { ...created, access_token: admin } })
  for (const [label, res] of [['form body', asForm], ['JSON body', asJson]] as const) {
    t.equal(res.statusCode, 400, `${label}: 400`)
    t.equal(res.json().error, 'invalid_request', `${label}: invalid_request`)
    t.match(res.headers['www-authenticate'], /^Bearer realm="gatehouse", error="invalid_request"/, `${label}: the challenge says invalid_request`)
  }
  t.equal(await app.users.findByUsername('carol'), undefined, 'nothing was created')
})

import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { addUser, build, FORM, form } from '../support/helper.js'

/**
 * Inputs the OpenAPI fuzzer (test/fuzz/openapi-suite.ts) found failing, kept as plain tests so they stay
 * fixed whatever the generators do later. Each names the invariant it broke.
 */

async function adminToken (app: FastifyInstance): Promise<string> {
  await addUser(app, 'root', 'root-password', { scope: 'admin' })
  const res = await app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ username: 'root', password: 'root-password', scope: 'admin' }) })
  return (res.json() as { access_token: string }).access_token
}

t.test('a client id of 101-128 characters can be read, updated and deleted (the router cut path parameters at 100: 414)', async (t) => {
  const app = await build(t)
  const authorization = `Bearer ${await adminToken(app)}`
  const id = 'c'.repeat(120)
  const created = await app.inject({ method: 'POST', url: '/admin/clients', headers: { authorization }, payload: { client_id: id, grant_types: ['client_credentials'] } })
  t.equal(created.statusCode, 201)
  const read = await app.inject({ method: 'GET', url: `/admin/clients/${id}`, headers: { authorization } })
  t.equal(read.statusCode, 200, 'read')
  t.equal(read.json().client_id, id)
  const patched = await app.inject({ method: 'PATCH', url: `/admin/clients/${id}`, headers: { authorization }, payload: { scope: 'read' } })
  t.equal(patched.statusCode, 200, 'updated')
  const deleted = await app.inject({ method: 'DELETE', url: `/admin/clients/${id}`, headers: { authorization } })
  t.equal(deleted.statusCode, 204, 'deleted')
})

t.test('URLs the router cannot take answer 400 invalid_request in the documented shape (was Fastify\'s own, and 414)', async (t) => {
  const app = await build(t)
  for (const url of [`/admin/users/${'x'.repeat(257)}`, `/admin/clients/${'x'.repeat(10 * 1024)}`, '/admin/users/a%ED%A0%80', '/admin/users/%', '/admin/clients/%G1']) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 400, `${url.slice(0, 40)}: 400`)
    t.same(Object.keys(res.json()).sort(), ['error', 'error_description'], 'only error and error_description')
    t.equal(res.json().error, 'invalid_request')
  }
  const longest = await app.inject({ method: 'GET', url: `/admin/users/${'x'.repeat(256)}` })
  t.equal(longest.statusCode, 401, 'a 256-character parameter reaches the route (which wants a token first)')
})

t.test('a method a path does not have is 405 with Allow, parametric paths included (was 404); on OAuth endpoints no-store', async (t) => {
  const app = await build(t)
  for (const [method, url, allow] of [['PUT', '/admin/users/alice', 'GET, PATCH, DELETE'], ['POST', '/admin/clients/c1', 'GET, PATCH, DELETE'], ['GET', '/admin/keys/rotate', 'POST'], ['DELETE', '/users/me', 'GET']] as const) {
    const res = await app.inject({ method, url })
    t.equal(res.statusCode, 405, `${method} ${url}: 405`)
    t.equal(res.headers.allow, allow, 'Allow lists the path\'s methods')
    t.equal(res.json().error, 'invalid_request')
  }
  for (const url of ['/token', '/revoke', '/introspect']) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 405, `GET ${url}: 405`)
    t.equal(res.headers['cache-control'], 'no-store', 'no-store')
    t.equal(res.headers.pragma, 'no-cache', 'no-cache')
  }
  t.equal((await app.inject({ method: 'PUT', url: '/admin/users/alice/x' })).statusCode, 404, 'a path no route has stays 404')
})

t.test('list paging: "Infinity" and out-of-range numbers are 400, not a database error (500)', async (t) => {
  const app = await build(t)
  const authorization = `Bearer ${await adminToken(app)}`
  for (const list of ['/admin/users', '/admin/clients']) {
    for (const query of ['limit=Infinity', 'limit=-Infinity', 'offset=Infinity', 'offset=1e400', 'offset=99999999999999999999', 'limit=0', 'offset=-1']) {
      const res = await app.inject({ method: 'GET', url: `${list}?${query}`, headers: { authorization } })
      t.equal(res.statusCode, 400, `${list}?${query}: 400`)
      t.equal(res.json().error, 'invalid_request')
    }
    t.equal((await app.inject({ method: 'GET', url: `${list}?limit=1000&offset=2147483647`, headers: { authorization } })).statusCode, 200, 'the bounds themselves are fine')
  }
})

t.test('a wrong-method request to an OAuth endpoint whose body does not parse is still no-store (was cacheable)', async (t) => {
  const app = await build(t)
  for (const [method, url, type, payload] of [['DELETE', '/token', 'application/json', '{'], ['PATCH', '/revoke', 'application/json', '{"a":1}}'], ['PUT', '/introspect', 'multipart/form-data; boundary=x', '--x--']] as const) {
    const res = await app.inject({ method, url, headers: { 'content-type': type }, payload })
    t.ok([400, 405, 415].includes(res.statusCode), `${method} ${url}: ${res.statusCode}`)
    t.equal(res.headers['cache-control'], 'no-store', 'no-store')
    t.equal(res.headers.pragma, 'no-cache', 'no-cache')
  }
})

t.test('NUL and other control characters in an email or a redirect URI are 400 (PostgreSQL: was a 500; SQLite stored them)', async (t) => {
  const app = await build(t)
  const authorization = `Bearer ${await adminToken(app)}`
  const user = await app.inject({ method: 'POST', url: '/admin/users', headers: { authorization }, payload: { username: 'mallory', password: 'x', email: 'a\u0000@b.c' } })
  t.equal(user.statusCode, 400, 'create a user with a NUL in the email')
  t.equal(user.json().error, 'invalid_request')
  t.equal((await app.inject({ method: 'POST', url: '/admin/users', headers: { authorization }, payload: { username: 'mallory', password: 'x', email: 'm@b.c' } })).statusCode, 201)
  const patched = await app.inject({ method: 'PATCH', url: '/admin/users/mallory', headers: { authorization }, payload: { email: 'm\u0007@b.c' } })
  t.equal(patched.statusCode, 400, 'update an email to contain a control character')
  for (const uri of ['https://a.test/\u0000', 'https://a.test/cb\n', 'https://a.test/a b', 'https://a.test/\u007f']) {
    const client = await app.inject({ method: 'POST', url: '/admin/clients', headers: { authorization }, payload: { client_id: 'web', grant_types: ['authorization_code'], redirect_uris: [uri] } })
    t.equal(client.statusCode, 400, `redirect URI ${JSON.stringify(uri)}`)
    t.equal(client.json().error, 'invalid_request')
  }
  t.equal((await app.inject({ method: 'POST', url: '/admin/clients', headers: { authorization }, payload: { client_id: 'web', grant_types: ['authorization_code'], redirect_uris: ['https://a.test/cb'] } })).statusCode, 201)
  const web = await app.inject({ method: 'PATCH', url: '/admin/clients/web', headers: { authorization }, payload: { redirect_uris: ['https://a.test/\u0000'] } })
  t.equal(web.statusCode, 400, 'update a redirect URI to contain NUL')
})

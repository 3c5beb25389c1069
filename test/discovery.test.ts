import t from 'tap'
import { build, ISSUER, testBackend } from './helper.js'

const METADATA_PATHS = ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']

t.test('metadata documents (RFC 8414) come from ISSUER and list only what exists', async (t) => {
  const app = await build(t)
  const documents = []
  for (const url of METADATA_PATHS) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 200, `${url}: 200`)
    t.match(res.headers['content-type'], /^application\/json\b/)
    const doc = res.json()
    documents.push(doc)
    t.equal(doc.issuer, ISSUER, `${url}: issuer is the configured ISSUER`)
    t.equal(doc.token_endpoint, `${ISSUER}/token`)
    t.equal(doc.jwks_uri, `${ISSUER}/.well-known/jwks.json`)
    t.same([...doc.grant_types_supported].sort(), ['authorization_code', 'client_credentials', 'password', 'refresh_token'])
    t.same([...doc.token_endpoint_auth_methods_supported].sort(), ['client_secret_basic', 'client_secret_post', 'none'])
    t.type(doc.response_types_supported, Array, 'response_types_supported is present (RFC 8414 REQUIRED)')
    t.notOk(doc.grant_types_supported.includes('implicit'), 'no implicit grant')
    t.notOk(doc.response_types_supported.includes('token'), 'no implicit response type')

    // Nothing is advertised that does not answer.
    for (const [member, path] of [['authorization_endpoint', '/authorize'], ['revocation_endpoint', '/revoke'], ['introspection_endpoint', '/introspect'], ['userinfo_endpoint', '/userinfo'], ['end_session_endpoint', '/logout']] as const) {
      if (doc[member] === undefined) {
        t.equal((await app.inject({ method: 'POST', url: path })).statusCode, 404, `${member} is not listed, and ${path} does not exist`)
      } else {
        t.equal(doc[member], `${ISSUER}${path}`, `${member} is under the issuer`)
        t.not((await app.inject({ method: 'POST', url: path })).statusCode, 404, `${member} is listed and ${path} exists`)
      }
    }
    for (const [key, value] of Object.entries(doc)) {
      if (typeof value === 'string' && key !== 'issuer' && value.startsWith('http')) {
        t.ok(value.startsWith(`${ISSUER}/`), `${key} is under the issuer`)
        const path = value.slice(ISSUER.length)
        const get = await app.inject({ method: 'GET', url: path })
        const post = await app.inject({ method: 'POST', url: path })
        t.ok(get.statusCode !== 404 || post.statusCode !== 404, `${key} (${path}) exists`)
      }
    }
  }
  t.same(documents[0], documents[1], 'both documents say the same')

  const token = await app.inject({ method: 'POST', url: '/token' })
  t.not(token.statusCode, 404, 'the token endpoint exists')
})

// The issuer against Host / X-Forwarded-* headers, an https issuer (M1) and the JWKS (M2) are in
// test/security/metadata.test.ts.

t.test('operations: /health, /ready, /openapi.json, /docs', async (t) => {
  const app = await build(t)
  const health = await app.inject({ method: 'GET', url: '/health' })
  t.equal(health.statusCode, 200)
  t.same(health.json(), { status: 'ok' })
  const ready = await app.inject({ method: 'GET', url: '/ready' })
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { status: 'ok', database: testBackend })

  const openapi = await app.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(openapi.statusCode, 200)
  const doc = openapi.json()
  t.equal(doc.openapi, '3.1.0', 'an OpenAPI 3.1 document')
  t.type(doc.info?.title, 'string')
  t.ok(doc.paths['/token']?.post, 'POST /token is described')
  t.ok(doc.paths['/token'].post.requestBody.content['application/x-www-form-urlencoded'], '/token takes a form body')
  t.ok(doc.paths['/token'].post.responses['200'], 'and its 200 reply')
  t.ok(doc.paths['/users/me']?.get, 'GET /users/me is described')
  t.ok(doc.paths['/.well-known/jwks.json']?.get, 'the JWKS is described')

  let docs = await app.inject({ method: 'GET', url: '/docs' })
  for (let hops = 0; docs.statusCode >= 300 && docs.statusCode < 400 && hops < 3; hops++) {
    const location = new URL(docs.headers.location as string, 'http://gatehouse.test/docs')
    docs = await app.inject({ method: 'GET', url: location.pathname + location.search })
  }
  t.equal(docs.statusCode, 200, '/docs answers (after any redirect)')
  t.match(docs.headers['content-type'], /^text\/html\b/)
  t.match(docs.body, /swagger/i, 'it is Swagger UI')
})

t.test('unknown paths and methods', async (t) => {
  const app = await build(t)
  const missing = await app.inject({ method: 'GET', url: '/no/such/thing' })
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().error, 'not_found')
  const post = await app.inject({ method: 'POST', url: '/.well-known/jwks.json' })
  t.equal(post.statusCode, 405)
  t.equal(post.headers.allow, 'GET')
})

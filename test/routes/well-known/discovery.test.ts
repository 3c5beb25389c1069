import t from 'tap'
import { build, ISSUER, testBackend } from '../../support/helper.js'

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
    t.same([...doc.grant_types_supported].sort(), ['authorization_code', 'client_credentials', 'password', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:token-exchange'])
    t.same([...doc.token_endpoint_auth_methods_supported].sort(), ['client_secret_basic', 'client_secret_post', 'none', 'private_key_jwt'])
    t.type(doc.response_types_supported, Array, 'response_types_supported is present (RFC 8414 REQUIRED)')
    t.notOk(doc.grant_types_supported.includes('implicit'), 'no implicit grant')
    t.notOk(doc.response_types_supported.includes('token'), 'no implicit response type')

    // Nothing is advertised that does not answer.
    for (const [member, path] of [['authorization_endpoint', '/authorize'], ['revocation_endpoint', '/revoke'], ['introspection_endpoint', '/introspect'], ['userinfo_endpoint', '/userinfo'], ['end_session_endpoint', '/logout']] as const) {
      if (doc[member] === undefined) {
        t.equal((await app.inject({ method: 'POST', url: path })).statusCode, 404, `${member} is not listed, and ${path} does not exist`)
      } else {
        t.equal(doc[member], `${ISSUER}${path}`, `${member} is under the issuer`)
      }
    }
    // Every URL the metadata lists answers, exactly as that endpoint answers a bare request (not merely "not 404").
    for (const [key, value] of Object.entries(doc)) {
      if (typeof value === 'string' && key !== 'issuer' && value.startsWith('http')) {
        t.ok(value.startsWith(`${ISSUER}/`), `${key} is under the issuer`)
        const path = value.slice(ISSUER.length)
        const expected = BARE_ANSWERS[path]
        if (!expected) { t.fail(`${key} (${path}): record the exact answer to a bare request in BARE_ANSWERS`); continue }
        const res = await app.inject({ method: expected.method, url: path })
        t.equal(res.statusCode, expected.status, `${key}: ${expected.method} ${path} is ${expected.status}`)
        if (expected.error) t.same(res.json(), { error: expected.error, error_description: expected.description }, `${key}: the exact error`)
        if (expected.allow) {
          const other = await app.inject({ method: expected.method === 'GET' ? 'POST' : 'GET', url: path })
          t.equal(other.statusCode, 405, `${key}: the other method is 405`)
          t.equal(other.headers.allow, expected.allow)
        }
      }
    }
  }
  t.same(documents[0], documents[1], 'both documents say the same')
  t.same(Object.keys(documents[0]).filter((k) => k.endsWith('_endpoint') || k === 'jwks_uri').sort(),
    ['authorization_endpoint', 'device_authorization_endpoint', 'end_session_endpoint', 'introspection_endpoint', 'jwks_uri', 'pushed_authorization_request_endpoint', 'revocation_endpoint', 'token_endpoint', 'userinfo_endpoint'], 'exactly these endpoints are listed (registration_endpoint only with REGISTRATION on: test/routes/register/)')
  const jwks = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  t.equal(jwks.statusCode, 200)
  const byAlg = (alg: string) => (jwks.json().keys as Array<{ alg: string }>).filter((k) => k.alg === alg)
  t.equal(jwks.json().keys.length, 2, 'the JWKS holds the two signing keys')
  t.match(byAlg('ES256'), [{ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: String }], 'ES256')
  t.match(byAlg('RS256'), [{ kty: 'RSA', n: String, e: 'AQAB', alg: 'RS256', use: 'sig', kid: String }], 'RS256')
})

const FORM_ONLY = 'the request body must be application/x-www-form-urlencoded'
/** What each endpoint the metadata lists answers to a bare request (no body, no credentials). */
const BARE_ANSWERS: Record<string, { method: 'GET' | 'POST', status: number, error?: string, description?: string, allow?: string }> = {
  '/token': { method: 'POST', status: 400, error: 'invalid_request', description: FORM_ONLY, allow: 'POST' },
  '/revoke': { method: 'POST', status: 400, error: 'invalid_request', description: FORM_ONLY, allow: 'POST' },
  '/introspect': { method: 'POST', status: 400, error: 'invalid_request', description: FORM_ONLY, allow: 'POST' },
  '/.well-known/jwks.json': { method: 'GET', status: 200, allow: 'GET' },
  '/docs': { method: 'GET', status: 200 },
  // Without client_id the client is unknown: an HTML error page, never a redirect (RFC 6749 §4.1.2.1). POST answers
  // as GET does (OIDC Core §3.1.2.1): test/routes/browser/authorize-post.test.ts.
  '/authorize': { method: 'GET', status: 400 },
  '/userinfo': { method: 'GET', status: 401, error: 'unauthorized', description: 'no bearer token' },
  // RP-initiated logout without a session or a hint: the signed-out page.
  '/logout': { method: 'GET', status: 200 },
  // RFC 8628: the device authorization endpoint answers as /token does.
  '/device_authorization': { method: 'POST', status: 400, error: 'invalid_request', description: FORM_ONLY, allow: 'POST' },
  '/par': { method: 'POST', status: 400, error: 'invalid_request', description: FORM_ONLY, allow: 'POST' }
}

// The issuer against Host / X-Forwarded-* headers, an https issuer (M1) and the JWKS (M2) are in
// test/security/m-metadata.test.ts.

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

import t from 'tap'
import { EXAMPLES, REPO_ROOT } from '../support/paths.js'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { validate } from '@readme/openapi-parser'
import { parse } from 'yaml'
import { generateOpenApiYaml } from '../../openapi.js'
import { build } from '../support/helper.js'

// dist/test → the repository root, where the committed openapi.yaml lives.
const COMMITTED = join(REPO_ROOT, 'openapi.yaml')
// dist/test → dist/examples/protected-route (the compiled example extension).
const EXAMPLE_ROUTES = join(EXAMPLES, 'protected-route')

type Doc = Record<string, any>
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

function operations (doc: Doc): Array<{ id: string, op: Doc }> {
  return Object.entries<Doc>(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ id: `${m.toUpperCase()} ${path}`, op: item[m] as Doc })))
}

t.test('the committed openapi.yaml is what the route schemas generate', async (t) => {
  const generated = await generateOpenApiYaml()
  const committed = readFileSync(COMMITTED, 'utf8')
  t.equal(generated, committed, 'openapi.yaml is stale: run `npm run openapi` and commit the result')
})

t.test('the generated document is OpenAPI 3.1 and describes the endpoints', async (t) => {
  const doc = parse(await generateOpenApiYaml())
  t.equal(doc.openapi, '3.1.0')
  t.ok(doc.paths['/token']?.post, 'POST /token')
  t.ok(doc.paths['/users/me']?.get, 'GET /users/me')
  t.ok(doc.paths['/.well-known/oauth-authorization-server']?.get, 'metadata')
  t.notOk(doc.paths['/openapi.json'], 'the document does not describe itself')
})

t.test('openapi.yaml is valid for a maintained validator (@readme/openapi-parser), which does catch a broken one', async (t) => {
  const result = await validate(COMMITTED)
  t.same(result.valid ? [] : result.errors.map((e) => e.message), [], 'no errors')
  t.ok(result.valid, 'valid')
  t.same(result.warnings, [], 'no warnings')
  t.equal(result.specification, 'OpenAPI')

  // The same document with one dangling $ref and one duplicated operationId: the validator must say so.
  const broken = parse(readFileSync(COMMITTED, 'utf8'))
  broken.paths['/users/me'].get.responses['200'].content['application/json'].schema = { $ref: '#/components/schemas/NoSuchSchema' }
  broken.paths['/health'].get.operationId = 'createToken'
  const refused = await validate(broken)
  t.notOk(refused.valid, 'a dangling $ref and a duplicate operationId are refused')
})

t.test('every operation has a unique camelCase operationId, a known tag, a summary, a description and a security requirement', async (t) => {
  // Built with the example extension too: routes added later (built-in or in ROUTES_DIR) must comply.
  const app = await build(t, { ROUTES_DIR: EXAMPLE_ROUTES })
  const doc = app.swagger() as Doc
  const tags = new Set((doc.tags as Array<{ name: string }>).map((tag) => tag.name))
  const ids = new Map<string, string>()
  const ops = operations(doc)
  t.ok(ops.length >= 20, `${ops.length} operations`)
  t.ok(ops.some(({ id }) => id === 'GET /users/me/items'), 'the example extension\'s route is among them')
  for (const { id, op } of ops) {
    t.match(op.operationId, /^[a-z][a-zA-Z0-9]*$/, `${id}: a camelCase operationId`)
    t.notOk(ids.has(op.operationId), `${id}: operationId ${op.operationId} is unique${ids.has(op.operationId) ? ` (also ${ids.get(op.operationId)})` : ''}`)
    ids.set(op.operationId, id)
    t.ok(Array.isArray(op.tags) && op.tags.length > 0, `${id}: a tag`)
    for (const tag of op.tags ?? []) t.ok(tags.has(tag), `${id}: tag ${tag} is listed in the document's tags`)
    t.ok(typeof op.summary === 'string' && op.summary.length > 0, `${id}: a summary`)
    t.ok(typeof op.description === 'string' && op.description.length > 0, `${id}: a description`)
    t.ok(Array.isArray(op.security), `${id}: declares its security requirement (an empty list when anyone may call it)`)
    for (const [status, response] of Object.entries<Doc>(op.responses ?? {})) {
      t.not(response.description, 'Default Response', `${id} ${status}: a description of its own`)
      if (Number(status) >= 400) {
        // JSON endpoints answer a named error body; the browser pages (tag browser) an HTML page, named too.
        const body = response.content?.['application/json'] ?? response.content?.['text/html']
        t.match(body?.schema?.$ref, /^#\/components\/schemas\/[A-Z]\w+$/, `${id} ${status}: the error body is a named component`)
      }
    }
  }
  t.same(
    ['createToken', 'getCurrentUser', 'listUsers', 'createUser', 'getUser', 'updateUser', 'deleteUser', 'listClients', 'revokeToken', 'introspectToken', 'getJwks'].filter((name) => !ids.has(name)),
    [], 'the names generated clients call'
  )
})

t.test('components carry meaningful names that @fastify/swagger keeps, and the routes refer to them', async (t) => {
  const doc = parse(await generateOpenApiYaml())
  const names = Object.keys(doc.components.schemas)
  for (const name of ['TokenResponse', 'OAuthError', 'BearerError', 'User', 'Client', 'IntrospectionResponse', 'ServerMetadata', 'JWKS', 'HealthStatus', 'KeyRotation', 'NotFoundError']) {
    t.ok(names.includes(name), `components.schemas.${name}`)
  }
  t.same(names.filter((name) => /^def-\d+$/.test(name)), [], 'no def-N names')
  const json = (op: Doc, status: string) => op.responses[status].content['application/json'].schema
  t.same(json(doc.paths['/token'].post, '200'), { $ref: '#/components/schemas/TokenResponse' })
  t.same(json(doc.paths['/token'].post, '400'), { $ref: '#/components/schemas/OAuthError' })
  t.same(json(doc.paths['/users/me'].get, '200'), { $ref: '#/components/schemas/User' })
  t.same(json(doc.paths['/users/me'].get, '401'), { $ref: '#/components/schemas/BearerError' })
  t.same(json(doc.paths['/introspect'].post, '200'), { $ref: '#/components/schemas/IntrospectionResponse' })
  t.same(json(doc.paths['/admin/users'].get, '200').items, { $ref: '#/components/schemas/User' })
  t.same(json(doc.paths['/admin/clients/{client_id}'].get, '200'), { $ref: '#/components/schemas/Client' })
  for (const name of ['TokenResponse', 'User', 'Client', 'OAuthError', 'IntrospectionResponse']) {
    t.ok(doc.components.schemas[name].examples?.length > 0, `${name} has an example`)
  }
  t.ok(doc.paths['/token'].post.requestBody.content['application/x-www-form-urlencoded'].examples, 'the token request has examples')
  const createUser = doc.paths['/admin/users'].post.requestBody.content['application/json']
  t.ok(createUser.example ?? createUser.examples, 'the user creation has an example')
})

t.test('optional query parameters are optional: /admin/users and /admin/clients take limit and offset or not', async (t) => {
  const doc = parse(await generateOpenApiYaml())
  for (const path of ['/admin/users', '/admin/clients']) {
    const params = doc.paths[path].get.parameters as Doc[]
    t.same(params.map((p) => [p.name, p.in, p.required]), [['limit', 'query', false], ['offset', 'query', false]], `${path}: limit and offset are optional`)
    t.same(params.map((p) => p.schema.default), [100, 0], `${path}: with their defaults`)
  }
})

t.test('security schemes describe the real flows, with URLs from ISSUER (the token URL relative), and each operation names its own', async (t) => {
  const app = await build(t, { ISSUER: 'https://auth.example.test' })
  const doc = app.swagger() as Doc
  const schemes = doc.components.securitySchemes
  t.equal(schemes.oauth2.type, 'oauth2')
  t.same(Object.keys(schemes.oauth2.flows).sort(), ['authorizationCode', 'clientCredentials', 'password'])
  // The token URL is relative (ISSUER's path): Swagger UI posts to the server that served /docs, whichever address it was opened at.
  t.equal(schemes.oauth2.flows.password.tokenUrl, '/token', 'the password flow posts to /token, on the page\'s own origin')
  t.equal(schemes.oauth2.flows.password.refreshUrl, '/token')
  t.equal(schemes.oauth2.flows.clientCredentials.tokenUrl, '/token')
  t.equal(schemes.oauth2.flows.authorizationCode.authorizationUrl, 'https://auth.example.test/authorize', 'the authorization URL: a page at ISSUER')
  const under = (await build(t, { ISSUER: 'https://example.test/auth/' })).swagger() as Doc
  t.equal(under.components.securitySchemes.oauth2.flows.password.tokenUrl, '/auth/token', 'an ISSUER with a path keeps the path')
  t.ok('admin' in schemes.oauth2.flows.password.scopes, 'the admin scope is named')
  t.same(schemes.bearerAuth, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: schemes.bearerAuth.description })
  t.equal(schemes.clientSecretBasic.scheme, 'basic')
  t.same(doc.paths['/users/me'].get.security, [{ oauth2: [] }, { bearerAuth: [] }], '/users/me: any token, from the flows or pasted')
  t.same(doc.paths['/admin/users'].get.security, [{ oauth2: ['admin'] }, { bearerAuth: ['admin'] }], '/admin: scope admin')
  t.same(doc.paths['/token'].post.security, [{ clientSecretBasic: [] }, {}], '/token: Basic, or credentials in the form, or none')
  t.same(doc.paths['/.well-known/jwks.json'].get.security, [], 'the JWKS: anyone')
})

t.test('GET /users/me: each error status has its own examples, and those the server can give are what it sends', async (t) => {
  const app = await build(t)
  const responses = (app.swagger() as Doc).paths['/users/me'].get.responses as Doc
  const examples = (status: string) => Object.values<Doc>(responses[status].content['application/json'].examples ?? {}).map((e) => e.value)
  t.same(examples('400').map((v) => v.error), ['invalid_request'], '400: invalid_request')
  t.same(examples('401').map((v) => v.error), ['unauthorized', 'invalid_token'], '401: no token, and a bad one')
  t.same(examples('403').map((v) => v.error), ['insufficient_scope'], '403: insufficient_scope')
  t.same(examples('503').map((v) => v.error), ['temporarily_unavailable'], '503: temporarily_unavailable')
  for (const status of ['400', '401', '403', '503']) {
    t.equal(responses[status].content['application/json'].schema.$ref, '#/components/schemas/BearerError', `${status}: still the shared BearerError schema`)
  }
  const [noToken, badToken] = examples('401')
  t.same((await app.inject({ method: 'GET', url: '/users/me' })).json(), noToken, 'the no-token example is the real reply')
  t.same((await app.inject({ method: 'GET', url: '/users/me', headers: { authorization: 'Bearer not.a.token' } })).json(), badToken, 'the bad-token example is the real reply')
})

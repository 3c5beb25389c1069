import t from 'tap'
import { AdminError, BearerError, GatehouseError, insufficientScope, invalidClient, invalidGrant, invalidToken, missingToken, notFound, OAuthError, StoreUnavailableError, tooManyRequests } from '../../lib/errors.js'
import { BearerErrorSchema, OAuthErrorSchema } from '../../schemas/common.js'
import { BEARER_ERROR_CODES, GRANT_TYPES, OAUTH_ERROR_CODES } from '../../schemas/vocabulary.js'
import { CreateClient } from '../../schemas/admin.js'
import { build } from '../support/helper.js'

t.test('every error kind is a GatehouseError carrying its code, status, description and headers', async (t) => {
  const cases: Array<[GatehouseError, string, number, Record<string, string>]> = [
    [invalidGrant('no'), 'invalid_grant', 400, {}],
    [invalidClient(true), 'invalid_client', 401, { 'www-authenticate': 'Basic realm="gatehouse"' }],
    [invalidClient(false), 'invalid_client', 401, {}],
    [tooManyRequests(7), 'too_many_requests', 429, { 'retry-after': '7' }],
    [missingToken(), 'unauthorized', 401, { 'www-authenticate': 'Bearer realm="gatehouse"' }],
    [invalidToken('gone'), 'invalid_token', 401, { 'www-authenticate': 'Bearer realm="gatehouse", error="invalid_token", error_description="gone"' }],
    [insufficientScope('admin'), 'insufficient_scope', 403, { 'www-authenticate': 'Bearer realm="gatehouse", error="insufficient_scope", error_description="this resource needs the scope: admin", scope="admin"' }],
    [notFound('no user x'), 'not_found', 404, {}],
    [new AdminError('conflict', 'taken'), 'conflict', 409, {}],
    [new StoreUnavailableError(), 'temporarily_unavailable', 503, { 'retry-after': '2', 'cache-control': 'no-store' }]
  ]
  for (const [err, code, status, headers] of cases) {
    t.ok(err instanceof GatehouseError, `${code}: one root`)
    t.equal(err.error, code, `${code}: code`)
    t.equal(err.statusCode, status, `${code}: status ${status}`)
    t.same(err.headers, headers, `${code}: headers`)
    t.same(err.body(), { error: code, error_description: err.message }, `${code}: body`)
  }
  t.ok(invalidGrant() instanceof OAuthError && invalidToken() instanceof BearerError, 'kinds stay distinguishable')
})

t.test('the code lists feed the schemas and so the OpenAPI document', async (t) => {
  t.same((OAuthErrorSchema.properties.error as unknown as { enum: string[] }).enum, [...OAUTH_ERROR_CODES], 'OAuthError.error is exactly OAUTH_ERROR_CODES')
  t.ok(OAUTH_ERROR_CODES.includes('access_denied'), 'access_denied is among them')
  t.same((BearerErrorSchema.properties.error as unknown as { enum: string[] }).enum, [...BEARER_ERROR_CODES], 'BearerError.error is exactly BEARER_ERROR_CODES')
  t.same((CreateClient.properties.grant_types.items as unknown as { enum: string[] }).enum, [...GRANT_TYPES], 'a client\'s grant_types are exactly GRANT_TYPES')

  const app = await build(t)
  type ErrorSchema = { properties: { error: { enum: string[] } } }
  type Doc = { paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: { $ref: string } }> }> }>>, components: { schemas: Record<string, ErrorSchema> } }
  const doc = app.swagger() as unknown as Doc
  const tokenError = doc.paths['/token']?.post?.responses['400']?.content['application/json']?.schema
  t.equal(tokenError?.$ref, '#/components/schemas/OAuthError', '/token\'s errors are the named OAuthError')
  t.same(doc.components.schemas.OAuthError?.properties.error.enum, [...OAUTH_ERROR_CODES], 'the OpenAPI document lists the same codes for /token')
})

t.test('Fastify\'s own failures come out in the one shape', async (t) => {
  const app = await build(t)
  const cases = [
    { name: 'unknown path', req: { method: 'GET' as const, url: '/nope' }, status: 404, error: 'not_found' },
    { name: 'wrong method', req: { method: 'PUT' as const, url: '/users/me' }, status: 405, error: 'invalid_request' },
    { name: 'malformed JSON', req: { method: 'POST' as const, url: '/admin/users', headers: { 'content-type': 'application/json', authorization: 'Bearer x' }, payload: '{' }, status: 400, error: 'invalid_request' },
    { name: 'oversized OAuth body', req: { method: 'POST' as const, url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a='.padEnd(70_000, 'x') }, status: 413, error: 'invalid_request' },
    { name: 'unsupported media type', req: { method: 'POST' as const, url: '/token', headers: { 'content-type': 'application/xml' }, payload: '<x/>' }, status: 400, error: 'invalid_request' }
  ]
  for (const c of cases) {
    const res = await app.inject(c.req)
    t.equal(res.statusCode, c.status, `${c.name}: ${c.status}`)
    t.same(Object.keys(res.json()).sort(), ['error', 'error_description'], `${c.name}: {error, error_description}`)
    t.equal(res.json().error, c.error, `${c.name}: ${c.error}`)
  }
})

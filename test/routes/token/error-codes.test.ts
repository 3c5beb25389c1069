import t from 'tap'
import { addClient, addUser, basic, build, post } from '../../support/helper.js'

/**
 * Every RFC 6749 §5.2 error code the token endpoint can produce, each with its exact status, body shape
 * and headers (issue: "every error code that can occur is produced by at least one test").
 */
t.test('every §5.2 error code, with exact status and headers', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', 'pw', { scope: 'read' })
  const svc = (await addClient(app, 'svc', { grantTypes: ['client_credentials'], scope: 'read' }))!
  const cases: Array<{ error: string, status: number, fields: Record<string, string>, headers?: Record<string, string>, basicChallenge?: boolean }> = [
    { error: 'invalid_request', status: 400, fields: { grant_type: 'password', username: 'alice' } },
    { error: 'invalid_client', status: 401, fields: { grant_type: 'client_credentials' }, headers: { authorization: basic('svc', 'wrong') }, basicChallenge: true },
    { error: 'invalid_client', status: 401, fields: { grant_type: 'client_credentials', client_id: 'svc', client_secret: 'wrong' } },
    { error: 'invalid_grant', status: 400, fields: { grant_type: 'password', username: 'alice', password: 'wrong' } },
    { error: 'unauthorized_client', status: 400, fields: { grant_type: 'password', username: 'alice', password: 'pw' }, headers: { authorization: basic('svc', svc) } },
    { error: 'unsupported_grant_type', status: 400, fields: { grant_type: 'urn:example:nope' } },
    { error: 'invalid_scope', status: 400, fields: { grant_type: 'client_credentials', scope: 'write' }, headers: { authorization: basic('svc', svc) } }
  ]
  for (const c of cases) {
    const res = await post(app, '/token', c.fields, c.headers)
    const label = `${c.error}${c.basicChallenge ? ' (Basic)' : ''}`
    t.equal(res.statusCode, c.status, `${label}: status`)
    t.same(Object.keys(res.json()).sort(), ['error', 'error_description'], `${label}: body is {error, error_description}`)
    t.equal(res.json().error, c.error, `${label}: error`)
    t.match(res.headers['content-type'], /^application\/json/, `${label}: JSON`)
    t.equal(res.headers['cache-control'], 'no-store', `${label}: Cache-Control`)
    t.equal(res.headers.pragma, 'no-cache', `${label}: Pragma`)
    t.equal(res.headers['www-authenticate'], c.basicChallenge ? 'Basic realm="gatehouse"' : undefined, `${label}: WWW-Authenticate`)
  }
})

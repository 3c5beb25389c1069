import t from 'tap'
import { addClient, addUser, basic, build, FORM } from '../../support/helper.js'
import { assertOAuthError } from '../../support/oauth.js'

// RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were omitted from the request."
// Swagger UI's "Try it out" sends every form field, filled or not, and its "Authorize" dialog sends
// `Authorization: Basic Og==` (an empty id and secret) when the client fields are left empty.

const PASSWORD = 'correct horse battery staple'
const raw = (app: Awaited<ReturnType<typeof build>>, url: string, payload: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, headers: { ...FORM, ...headers }, payload })

t.test('POST /token: empty optional parameters count as not sent', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', PASSWORD, { scope: 'read write' })
  const everyField = 'grant_type=password&username=alice&password=' + encodeURIComponent(PASSWORD) +
    '&scope=&refresh_token=&code=&redirect_uri=&code_verifier=&client_id=&client_secret='
  const res = await raw(app, '/token', everyField)
  t.equal(res.statusCode, 200, 'the password grant, as if only grant_type, username and password were sent')
  t.equal(res.json().scope, 'read write', 'an empty scope is no scope: everything allowed is granted')
  t.equal(res.json().token_type, 'Bearer')

  const missing = await raw(app, '/token', 'grant_type=client_credentials&client_id=&client_secret=')
  assertOAuthError(t, missing, 401, 'invalid_client', 'client authentication is required', 'client_credentials with empty client fields')

  const repeated = await raw(app, '/token', 'grant_type=password&username=alice&password=x&scope=&scope=')
  assertOAuthError(t, repeated, 400, 'invalid_request', 'parameter scope is repeated', 'a repeated parameter is still refused, even empty')
})

t.test('Swagger UI\'s password flow with empty client fields (Basic Og==) signs in as the default client', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', PASSWORD, { scope: 'read' })
  const res = await raw(app, '/token', `grant_type=password&username=alice&password=${encodeURIComponent(PASSWORD)}`, { authorization: 'Basic Og==' })
  t.equal(res.statusCode, 200, 'Basic with no id and no secret is no client authentication')
  const me = await app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${res.json().access_token}` } })
  t.equal(me.json().username, 'alice')

  // Nothing else about Basic changes: an empty id with a secret, or an id with an empty secret, is invalid_client.
  for (const [label, authorization] of [['empty id, some secret', 'Basic ' + Buffer.from(':x').toString('base64')], ['default with an empty secret', basic('default', '')]] as const) {
    const refused = await raw(app, '/token', `grant_type=password&username=alice&password=${encodeURIComponent(PASSWORD)}`, { authorization })
    assertOAuthError(t, refused, 401, 'invalid_client', undefined, label)
    t.equal(refused.headers['www-authenticate'], 'Basic realm="gatehouse"', `${label}: the Basic challenge`)
  }
  // Where a client must authenticate, Basic Og== is no authentication: 401 with the Basic challenge.
  for (const fields of ['grant_type=client_credentials', 'token=x']) {
    const url = fields.startsWith('token') ? '/introspect' : '/token'
    const refused = await raw(app, url, fields, { authorization: 'Basic Og==' })
    assertOAuthError(t, refused, 401, 'invalid_client', 'client authentication is required', `${url} with Basic Og==`)
    t.equal(refused.headers['www-authenticate'], 'Basic realm="gatehouse"', `${url}: the Basic challenge`)
  }
})

t.test('POST /revoke and /introspect: empty parameters count as not sent', async (t) => {
  const app = await build(t)
  const rs = { authorization: basic('rs', (await addClient(app, 'rs', { grantTypes: ['client_credentials'] }))!) }
  const introspection = await raw(app, '/introspect', 'token=not-a-token&token_type_hint=&client_id=&client_secret=', rs)
  t.equal(introspection.statusCode, 200, 'empty client_id, client_secret and hint are ignored')
  t.equal(introspection.body, '{"active":false}')
  const revocation = await raw(app, '/revoke', 'token=x&token_type_hint=&client_id=', rs)
  t.equal(revocation.statusCode, 200)
  assertOAuthError(t, await raw(app, '/revoke', 'token=&token_type_hint=', rs), 400, 'invalid_request', 'missing parameter: token', 'an empty token is a missing token')
})

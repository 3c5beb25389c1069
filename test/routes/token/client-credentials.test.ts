import t from 'tap'
import { decodeJwt } from 'jose'
import { addClient, basic, build, post } from '../../support/helper.js'

// The client_credentials grant (RFC 6749 §4.4) at POST /token: a confidential client gets a token for itself.
// Client authentication failures (T7, T8), form-decoded Basic (T8) and a client's grant types (T6) are in
// test/security/t-token-endpoint.test.ts; a public client asking for client_credentials and a scope not assigned
// (CC1) in test/security/cc-client-credentials.test.ts; its tokens at /introspect and after the client is
// removed in test/routes/token-management.test.ts.

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

  // A scope the client was not given (CC1) is in test/security/cc-client-credentials.test.ts.
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

import t from 'tap'
import { addClient, basic, build } from '../support/helper.js'
import { assertOAuthError } from '../support/oauth.js'
import { postFrom } from '../support/security.js'

// SECURITY-CASES CC1: client_credentials only for confidential clients, only within their scope.

t.test('CC1: a public client asking for client_credentials: 400 unauthorized_client (401 invalid_client if it sends a secret)', async (t) => {
  const app = await build(t)
  await addClient(app, 'p1', { isPublic: true, grantTypes: ['password', 'refresh_token'] })
  const cc = { grant_type: 'client_credentials' }

  const publicCc = await postFrom(app, '/token', { ...cc, client_id: 'p1' })
  assertOAuthError(t, publicCc, 400, 'unauthorized_client', undefined, 'a public client may not use client_credentials')
  t.notOk(publicCc.body.includes('access_token'), 'no token')
  const withSecret = await postFrom(app, '/token', { ...cc, client_id: 'p1', client_secret: 'anything' })
  assertOAuthError(t, withSecret, 401, 'invalid_client', undefined, 'a public client has no secret to authenticate with')
  const viaBasic = await postFrom(app, '/token', cc, { authorization: basic('p1', '') })
  assertOAuthError(t, viaBasic, 401, 'invalid_client', undefined, 'nor through Basic')
  t.equal(viaBasic.headers['www-authenticate'], 'Basic realm="gatehouse"')

  // Registration refuses the combination (RFC 6749 §4.4)...
  await t.rejects(addClient(app, 'p2', { isPublic: true, grantTypes: ['client_credentials'] }), /public client cannot have the client_credentials grant/)
  // ...and should such a row exist anyway (written straight into the store), the grant still refuses it.
  await app.storage.clients.create({ id: 'p3', secretHash: null, isPublic: true, grantTypes: ['client_credentials'], scope: null, redirectUris: [] })
  const legacy = await postFrom(app, '/token', { ...cc, client_id: 'p3' })
  assertOAuthError(t, legacy, 401, 'invalid_client', /public clients cannot use client_credentials/, 'a public client row that has the grant')
  t.notOk(legacy.body.includes('access_token'), 'no token')
})

t.test('CC1: cc1 asking for a scope not assigned to it: 400 invalid_scope, no silent narrowing', async (t) => {
  const app = await build(t)
  const secret = (await addClient(app, 'cc1', { grantTypes: ['client_credentials'], scope: 'read write' }))!
  const bare = (await addClient(app, 'bare', { grantTypes: ['client_credentials'] }))!
  const cc1 = { authorization: basic('cc1', secret) }

  for (const scope of ['admin', 'read admin', 'READ', 'read write admin']) {
    const res = await postFrom(app, '/token', { grant_type: 'client_credentials', scope }, cc1)
    assertOAuthError(t, res, 400, 'invalid_scope', undefined, `cc1 asks for ${JSON.stringify(scope)}`)
    t.notOk(res.body.includes('access_token'), 'no token')
  }
  const viaPost = await postFrom(app, '/token', { grant_type: 'client_credentials', client_id: 'cc1', client_secret: secret, scope: 'admin' })
  assertOAuthError(t, viaPost, 400, 'invalid_scope', undefined, 'the same with client_secret_post')
  const noScopes = await postFrom(app, '/token', { grant_type: 'client_credentials', scope: 'read' }, { authorization: basic('bare', bare) })
  assertOAuthError(t, noScopes, 400, 'invalid_scope', undefined, 'a client without scopes asks for one')

  const ok = await postFrom(app, '/token', { grant_type: 'client_credentials', scope: 'read' }, cc1)
  t.equal(ok.statusCode, 200, 'an assigned scope is granted')
  t.equal(ok.json().scope, 'read')
})

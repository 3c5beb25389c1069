import t, { type Test } from 'tap'
import { decodeJwt } from 'jose'
import type { FastifyInstance } from 'fastify'
import { createClient } from '../../../lib/admin/clients.js'
import { addClient, addUser, basic, build, post } from '../../support/helper.js'
import { assertOAuthError } from '../../support/oauth.js'

// RFC 8693 token exchange at POST /token through the app: the answer (§2.2.1), the new token's sub, aud, act and
// scopes, nested act, every refusal (§2.2.2), introspection and revocation. The rules alone are in
// test/lib/oauth/token-exchange.test.ts; a resource server exchanging what it received, over the network, in
// test/resource-server/token-exchange.test.ts.

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'
const AT = 'urn:ietf:params:oauth:token-type:access_token'
const ORDERS = 'https://orders.example.test'
const FULFILMENT = 'https://fulfilment.example.test'
const BILLING = 'https://billing.example.test'
const PASSWORD = 'correct horse battery staple'

/** A confidential client with the exchange grant (and `grants`), its sources and targets; its Basic header. */
async function exchanger (app: FastifyInstance, id: string, sources: string[], targets: string[], grants: string[] = []): Promise<string> {
  const { secret } = await createClient(app.storage, id, { isPublic: false, grantTypes: [GRANT, ...grants], scope: null, redirectUris: [], exchangeSources: sources, exchangeTargets: targets })
  return basic(id, secret!)
}

async function setup (t: Test) {
  const app = await build(t)
  await app.storage.resources.create({ uri: ORDERS, name: 'Orders', scope: 'orders:read orders:write' })
  await app.storage.resources.create({ uri: FULFILMENT, name: 'Fulfilment', scope: 'orders:read shipping:write' })
  await app.storage.resources.create({ uri: BILLING, name: 'Billing', scope: 'billing:read' })
  const alice = await addUser(app, 'alice', PASSWORD)
  // The orders API acts for its resource and may call fulfilment; fulfilment acts for itself and may call orders back.
  const ordersApi = await exchanger(app, 'orders-api', [ORDERS], [FULFILMENT, BILLING], ['client_credentials', 'password'])
  const fulfilmentApi = await exchanger(app, 'fulfilment-api', [FULFILMENT], [ORDERS])
  // The user's token for the orders API, from the built-in public client (password grant, with a refresh token).
  const subject = await post(app, '/token', { grant_type: 'password', username: 'alice', password: PASSWORD, resource: ORDERS, scope: 'orders:read orders:write' })
  t.equal(subject.statusCode, 200, subject.body)
  return { app, alice, ordersApi, fulfilmentApi, subject: subject.json().access_token as string, refresh: subject.json().refresh_token as string | undefined }
}

const exchange = (app: FastifyInstance, auth: string, fields: Record<string, string>) =>
  post(app, '/token', { grant_type: GRANT, subject_token_type: AT, ...fields }, { authorization: auth })

t.test('a resource server exchanges the token it received: sub the user\'s, aud the target, act the client, scopes both hold; §2.2.1 answer', async (t) => {
  const { app, alice, ordersApi, subject } = await setup(t)
  const res = await exchange(app, ordersApi, { subject_token: subject, resource: FULFILMENT })
  t.equal(res.statusCode, 200, res.body)
  const body = res.json()
  t.equal(body.issued_token_type, AT, 'issued_token_type (RFC 8693 §2.2.1)')
  t.equal(body.token_type, 'Bearer')
  t.equal(body.expires_in, app.config.accessTokenTtl)
  t.equal(body.scope, 'orders:read', 'what the subject holds and the target defines')
  t.notOk('refresh_token' in body, 'no refresh token')
  t.equal(res.headers['cache-control'], 'no-store')
  const claims = decodeJwt(body.access_token)
  t.equal(claims.sub, alice.id, 'the subject\'s sub')
  t.equal(claims.aud, FULFILMENT, 'aud = the target resource')
  t.equal(claims.client_id, 'orders-api', 'client_id: the client that exchanged it (RFC 8693 §4.3)')
  t.same(claims.act, { sub: 'orders-api' }, 'act names the client (RFC 8693 §4.1)')
  t.equal(claims.sub_kind, 'user')

  const introspected = await post(app, '/introspect', { token: body.access_token }, { authorization: ordersApi })
  t.match(introspected.json(), { active: true, sub: alice.id, aud: FULFILMENT, client_id: 'orders-api', scope: 'orders:read', username: 'alice', act: { sub: 'orders-api' } }, 'introspection shows act')

  const byAudience = await exchange(app, ordersApi, { subject_token: subject, audience: FULFILMENT, scope: 'orders:read' })
  t.equal(byAudience.statusCode, 200, byAudience.body)
  t.equal(decodeJwt(byAudience.json().access_token).aud, FULFILMENT, 'audience names the target as resource does')
  const both = await exchange(app, ordersApi, { subject_token: subject, audience: FULFILMENT, resource: FULFILMENT })
  t.equal(both.statusCode, 200, 'resource and audience naming the same one')
})

t.test('an actor token names the actor; nested act when the subject token already had one; the chain is bounded', async (t) => {
  const { app, ordersApi, fulfilmentApi, subject } = await setup(t)
  const bob = await addUser(app, 'bob', PASSWORD)
  const actorToken = await post(app, '/token', { grant_type: 'password', username: 'bob', password: PASSWORD }, { authorization: ordersApi })
  t.equal(actorToken.statusCode, 200, actorToken.body)
  const first = await exchange(app, ordersApi, { subject_token: subject, resource: FULFILMENT, actor_token: actorToken.json().access_token, actor_token_type: AT })
  t.equal(first.statusCode, 200, first.body)
  t.same(decodeJwt(first.json().access_token).act, { sub: bob.id }, 'act.sub = the actor token\'s sub')

  const own = await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: ordersApi })
  const asClient = await exchange(app, ordersApi, { subject_token: subject, resource: FULFILMENT, actor_token: own.json().access_token, actor_token_type: AT })
  t.same(decodeJwt(asClient.json().access_token).act, { sub: 'orders-api' }, 'the client\'s own token as the actor: its id')

  // Fulfilment received the exchanged token (aud = its resource) and calls the orders API in turn.
  const second = await exchange(app, fulfilmentApi, { subject_token: first.json().access_token, resource: ORDERS })
  t.equal(second.statusCode, 200, second.body)
  const nested = decodeJwt(second.json().access_token)
  t.same(nested.act, { sub: 'fulfilment-api', act: { sub: bob.id } }, 'RFC 8693 §4.1: the current actor outermost, the previous nested')
  t.equal(nested.aud, ORDERS)
  t.equal(nested.scope, 'orders:read', 'never wider than the token exchanged (orders:write is lost for good)')
  const introspected = await post(app, '/introspect', { token: second.json().access_token }, { authorization: fulfilmentApi })
  t.same(introspected.json().act, { sub: 'fulfilment-api', act: { sub: bob.id } }, 'introspection shows the chain')

  // Back and forth until the chain is MAX_DELEGATION_DEPTH (5) actors long: the next exchange is refused.
  let token = second.json().access_token as string
  for (const [auth, resource] of [[ordersApi, FULFILMENT], [fulfilmentApi, ORDERS], [ordersApi, FULFILMENT]] as const) {
    const res = await exchange(app, auth, { subject_token: token, resource })
    t.equal(res.statusCode, 200, res.body)
    token = res.json().access_token
  }
  assertOAuthError(t, await exchange(app, fulfilmentApi, { subject_token: token, resource: ORDERS }), 400, 'invalid_request', /delegation chain/, 'a sixth actor')
})

t.test('scopes: the requested ones when the subject holds them and the target defines them; anything wider is invalid_scope', async (t) => {
  const { app, ordersApi } = await setup(t)
  const narrow = await post(app, '/token', { grant_type: 'password', username: 'alice', password: PASSWORD, resource: ORDERS, scope: 'orders:write' })
  const res = await exchange(app, ordersApi, { subject_token: narrow.json().access_token, resource: FULFILMENT })
  t.equal(res.statusCode, 200, res.body)
  t.notOk('scope' in res.json(), 'nothing in common: a token without scopes')
  t.notOk(decodeJwt(res.json().access_token).scope)
  assertOAuthError(t, await exchange(app, ordersApi, { subject_token: narrow.json().access_token, resource: FULFILMENT, scope: 'orders:read' }), 400, 'invalid_scope', undefined, 'the target defines it, the subject does not hold it')
  assertOAuthError(t, await exchange(app, ordersApi, { subject_token: narrow.json().access_token, resource: FULFILMENT, scope: 'orders:write' }), 400, 'invalid_scope', undefined, 'the subject holds it, the target does not define it')
})

t.test('refusals (RFC 8693 §2.2.2): invalid_request, invalid_target, unauthorized_client (an unacceptable token is invalid_request too)', async (t) => {
  const { app, ordersApi, fulfilmentApi, subject } = await setup(t)
  assertOAuthError(t, await post(app, '/token', { grant_type: GRANT, subject_token_type: AT, resource: FULFILMENT }, { authorization: ordersApi }), 400, 'invalid_request', 'missing parameter: subject_token')
  assertOAuthError(t, await post(app, '/token', { grant_type: GRANT, subject_token: subject, resource: FULFILMENT }, { authorization: ordersApi }), 400, 'invalid_request', 'missing parameter: subject_token_type')
  assertOAuthError(t, await exchange(app, ordersApi, { subject_token: subject, subject_token_type: 'urn:ietf:params:oauth:token-type:id_token', resource: FULFILMENT }), 400, 'invalid_request', /subject_token_type/)
  assertOAuthError(t, await exchange(app, ordersApi, { subject_token: subject, requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token', resource: FULFILMENT }), 400, 'invalid_request', /requested_token_type/)
  assertOAuthError(t, await exchange(app, ordersApi, { subject_token: subject, actor_token: subject, resource: FULFILMENT }), 400, 'invalid_request', /actor_token_type/)

  assertOAuthError(t, await exchange(app, ordersApi, { subject_token: subject, resource: 'https://elsewhere.example.test' }), 400, 'invalid_target', /may not exchange/, 'not one of its targets')
  assertOAuthError(t, await exchange(app, ordersApi, { subject_token: subject }), 400, 'invalid_target', /name the target/, 'several targets, none named')
  assertOAuthError(t, await exchange(app, ordersApi, { subject_token: subject, resource: FULFILMENT, audience: BILLING }), 400, 'invalid_target', /one target/)
  await app.storage.resources.delete(BILLING)
  assertOAuthError(t, await exchange(app, ordersApi, { subject_token: subject, resource: BILLING }), 400, 'invalid_target', /unknown resource/, 'a target no longer registered')
  const none = await exchanger(app, 'no-targets', [ORDERS], [])
  assertOAuthError(t, await exchange(app, none, { subject_token: subject, resource: FULFILMENT }), 400, 'invalid_target', /no resource/, 'the default: no targets')

  assertOAuthError(t, await exchange(app, ordersApi, { subject_token: 'not-a-token', resource: FULFILMENT }), 400, 'invalid_request', /subject_token/)
  const forged = subject.slice(0, subject.lastIndexOf('.') + 1) + 'AAAA' + subject.slice(subject.lastIndexOf('.') + 5)
  assertOAuthError(t, await exchange(app, ordersApi, { subject_token: forged, resource: FULFILMENT }), 400, 'invalid_request', /subject_token/, 'a bad signature')
  // The confused deputy: fulfilment may act for its own resource only; a token meant for the orders API is not its to trade.
  assertOAuthError(t, await exchange(app, fulfilmentApi, { subject_token: subject, resource: ORDERS }), 400, 'invalid_request', /not issued to this client/, 'confused deputy')
  const own = await post(app, '/token', { grant_type: 'client_credentials' }, { authorization: ordersApi })
  assertOAuthError(t, await exchange(app, ordersApi, { subject_token: own.json().access_token, resource: FULFILMENT }), 400, 'invalid_request', /client's own token/, 'a client_credentials token')
  const othersActor = await post(app, '/token', { grant_type: 'password', username: 'alice', password: PASSWORD })
  assertOAuthError(t, await exchange(app, ordersApi, { subject_token: subject, resource: FULFILMENT, actor_token: othersActor.json().access_token, actor_token_type: AT }), 400, 'invalid_request', /actor_token: the token was not issued/, 'another client\'s token as the actor')
  assertOAuthError(t, await exchange(app, ordersApi, { subject_token: subject, resource: FULFILMENT, actor_token: 'nope', actor_token_type: AT }), 400, 'invalid_request', /actor_token/)

  const secret = await addClient(app, 'cc-only', { grantTypes: ['client_credentials'] })
  assertOAuthError(t, await exchange(app, basic('cc-only', secret!), { subject_token: subject, resource: FULFILMENT }), 400, 'unauthorized_client', undefined, 'a client not allowed the grant')
  assertOAuthError(t, await exchange(app, 'Basic ' + Buffer.from('orders-api:wrong').toString('base64'), { subject_token: subject, resource: FULFILMENT }), 401, 'invalid_client')
  assertOAuthError(t, await post(app, '/token', { grant_type: GRANT, subject_token_type: AT, subject_token: subject, resource: FULFILMENT }), 401, 'invalid_client', undefined, 'no client authentication')
  await t.rejects(createClient(app.storage, 'spa', { isPublic: true, grantTypes: [GRANT], scope: null, redirectUris: [] }), { message: /public client cannot have the token-exchange grant/ })
})

t.test('the subject token\'s standing: revoked, its user disabled or its password changed → invalid_request; revoking its family ends the exchanged token', async (t) => {
  const { app, ordersApi, subject, refresh } = await setup(t)
  const exchanged = (await exchange(app, ordersApi, { subject_token: subject, resource: FULFILMENT })).json().access_token as string
  t.ok(refresh, 'the subject token belongs to a refresh-token family')
  const active = async (token: string) => (await post(app, '/introspect', { token }, { authorization: ordersApi })).json().active

  // Revoking the subject access token alone (its jti) leaves the exchanged one standing, but it cannot be exchanged again.
  const other = (await post(app, '/token', { grant_type: 'password', username: 'alice', password: PASSWORD, resource: ORDERS })).json()
  const otherExchanged = (await exchange(app, ordersApi, { subject_token: other.access_token, resource: FULFILMENT })).json().access_token as string
  await post(app, '/revoke', { token: other.access_token, client_id: 'default' })
  assertOAuthError(t, await exchange(app, ordersApi, { subject_token: other.access_token, resource: FULFILMENT }), 400, 'invalid_request', /revoked/, 'a revoked subject token')
  t.equal(await active(otherExchanged), true, 'the exchanged token of a revoked access token stands (it is another token)')

  // Revoking the family (the refresh token) ends every access token of it, the exchanged ones included.
  t.equal(await active(exchanged), true)
  await post(app, '/revoke', { token: refresh!, client_id: 'default' })
  t.equal(await active(exchanged), false, 'the exchanged token carries the family\'s grant_id')

  const fresh = (await post(app, '/token', { grant_type: 'password', username: 'alice', password: PASSWORD, resource: ORDERS })).json().access_token as string
  await app.storage.users.update('alice', { disabled: true })
  assertOAuthError(t, await exchange(app, ordersApi, { subject_token: fresh, resource: FULFILMENT }), 400, 'invalid_request', /no longer allows/, 'a disabled user')
})

t.test('administration: exchange_sources and exchange_targets through /admin/clients name registered resources only', async (t) => {
  const { app } = await setup(t)
  await addUser(app, 'root', PASSWORD, { scope: 'admin' })
  const admin = { authorization: `Bearer ${(await post(app, '/token', { grant_type: 'password', username: 'root', password: PASSWORD })).json().access_token as string}` }
  const call = (method: 'POST' | 'PATCH', url: string, payload: object) => app.inject({ method, url, headers: admin, payload })

  const created = await call('POST', '/admin/clients', { client_id: 'gateway', grant_types: [GRANT], exchange_sources: [ORDERS], exchange_targets: [FULFILMENT, FULFILMENT] })
  t.equal(created.statusCode, 201, created.body)
  t.match(created.json(), { exchange_sources: [ORDERS], exchange_targets: [FULFILMENT] }, 'each once')
  const updated = await call('PATCH', '/admin/clients/gateway', { exchange_targets: [BILLING] })
  t.match(updated.json(), { exchange_sources: [ORDERS], exchange_targets: [BILLING] }, 'a list given replaces the stored one, the other stays')
  t.match((await call('PATCH', '/admin/clients/gateway', { exchange_sources: [] })).json(), { exchange_sources: [], exchange_targets: [BILLING] })
  for (const body of [{ exchange_targets: ['https://unregistered.example.test'] }, { exchange_sources: ['not a uri'] }, { exchange_targets: [`${ORDERS}#f`] }]) {
    const res = await call('PATCH', '/admin/clients/gateway', body)
    t.equal(res.statusCode, 400, JSON.stringify(body))
    t.equal(res.json().error, 'invalid_request')
  }
  t.match((await app.storage.clients.find('gateway')), { exchangeSources: [], exchangeTargets: [BILLING] }, 'a refused change leaves the client as it was')
  const spa = await call('POST', '/admin/clients', { client_id: 'spa', public: true, grant_types: [GRANT] })
  t.equal(spa.statusCode, 400, 'no exchange grant for a public client')
})

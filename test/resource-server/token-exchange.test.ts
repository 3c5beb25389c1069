import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import gatehouseAuth from '../../resource-server/index.js'
import { createClient } from '../../lib/admin/clients.js'
import { addUser, basic, buildListening } from '../support/helper.js'

// RFC 8693 over the network: a user calls the orders API (a resource server behind gatehouse/resource-server) with a
// token for it; the orders API exchanges that token at Gatehouse, authenticating as its own confidential client, and
// calls the fulfilment API with the new one, which accepts it (aud = fulfilment) and sees who acts for the user (act).
// Real sockets and fetch throughout; both stores (test/postgres/list.ts).

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'
const AT = 'urn:ietf:params:oauth:token-type:access_token'
const ORDERS = 'https://orders.example.test'
const FULFILMENT = 'https://fulfilment.example.test'
const PASSWORD = 'correct horse battery staple'

/** A resource server for `resource`, listening on loopback; `routes` adds its routes. Its base URL. */
async function resourceServer (t: Test, issuer: string, resource: string, scopes: string[], routes: (rs: FastifyInstance) => void): Promise<string> {
  const rs = Fastify({ logger: false })
  t.teardown(() => rs.close())
  await rs.register(gatehouseAuth, { issuer, resource, scopes })
  routes(rs)
  return rs.listen({ port: 0, host: '127.0.0.1' })
}

t.test('a resource server exchanges the token it received and calls the next API, which accepts it and sees act', async (t) => {
  const { app, url: issuer } = await buildListening(t)
  await app.storage.resources.create({ uri: ORDERS, name: 'Orders', scope: 'orders:read orders:write' })
  await app.storage.resources.create({ uri: FULFILMENT, name: 'Fulfilment', scope: 'orders:read shipping:write' })
  const alice = await addUser(app, 'alice', PASSWORD)
  const { secret } = await createClient(app.storage, 'orders-api', { isPublic: false, grantTypes: [GRANT], scope: null, redirectUris: [], exchangeSources: [ORDERS], exchangeTargets: [FULFILMENT] })

  const fulfilment = await resourceServer(t, issuer, FULFILMENT, ['orders:read', 'shipping:write'], (rs) => {
    rs.get('/shipments', { onRequest: [rs.authenticate, rs.requireScope('orders:read')] }, async (request) => {
      const { sub, aud, client_id: clientId, scope, act } = request.user
      return { sub, aud, client_id: clientId, scope, act }
    })
  })
  const orders = await resourceServer(t, issuer, ORDERS, ['orders:read', 'orders:write'], (rs) => {
    rs.get('/checkout', { onRequest: [rs.authenticate, rs.requireScope('orders:read')] }, async (request, reply) => {
      const received = request.headers.authorization!.slice('Bearer '.length)
      // The orders API trades the user's token for one to the fulfilment API (RFC 8693 §2.1), as its own client.
      const exchanged = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { authorization: basic('orders-api', secret!), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: GRANT, subject_token: received, subject_token_type: AT, resource: FULFILMENT })
      })
      const answer = await exchanged.json() as Record<string, string>
      if (exchanged.status !== 200) return reply.code(502).send(answer)
      const downstream = await fetch(`${fulfilment}/shipments`, { headers: { authorization: `Bearer ${answer.access_token}` } })
      return { status: downstream.status, seen: await downstream.json(), exchanged: answer }
    })
  })

  const login = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: 'alice', password: PASSWORD, resource: ORDERS, scope: 'orders:read orders:write' })
  })
  t.equal(login.status, 200)
  const userToken = (await login.json() as { access_token: string }).access_token

  const direct = await fetch(`${fulfilment}/shipments`, { headers: { authorization: `Bearer ${userToken}` } })
  t.equal(direct.status, 401, 'the user\'s token for the orders API is refused at the fulfilment API (aud)')

  const res = await fetch(`${orders}/checkout`, { headers: { authorization: `Bearer ${userToken}` } })
  t.equal(res.status, 200)
  const body = await res.json() as { status: number, seen: Record<string, unknown>, exchanged: Record<string, unknown> }
  t.match(body.exchanged, { issued_token_type: AT, token_type: 'Bearer', scope: 'orders:read' }, 'Gatehouse answered the exchange (RFC 8693 §2.2.1)')
  t.equal(body.status, 200, 'the fulfilment API accepted the exchanged token')
  t.same(body.seen, { sub: alice.id, aud: FULFILMENT, client_id: 'orders-api', scope: 'orders:read', act: { sub: 'orders-api' } }, 'it sees the user, itself as aud, and the orders API acting')

  const back = await fetch(`${orders}/checkout`, { headers: { authorization: `Bearer ${body.exchanged.access_token as string}` } })
  t.equal(back.status, 401, 'the exchanged token is the fulfilment API\'s, not the orders API\'s')
})

import t, { type Test } from 'tap'
import { request as httpRequest } from 'node:http'
import Fastify from 'fastify'
import { addUser, buildListening, freePort } from '../support/helper.js'
import { dpopHeaders, dpopKey, dpopProof, mintToken, proofAttacks } from '../support/dpop-resource.js'
import { DPOP_SIGNING_ALGS } from '../../lib/oauth/dpop-proof.js'
import type { ProofReplay } from '../../lib/oauth/dpop-replay.js'
import type { ResourceServerOptions } from '../../resource-server/index.js'

// gatehouse/resource-server and DPoP (RFC 9449 §7): another Fastify service on a real socket, Gatehouse running beside
// it, tokens bound to a key minted by Gatehouse, proofs made by the test with jose. SECURITY-CASES K1's attacks at
// Gatehouse's own routes: ../security/k1-dpop-resources.test.ts.

const PASSWORD = 'correct horse battery staple'
const ALGS = `algs="${DPOP_SIGNING_ALGS.join(' ')}"`

async function plugin () {
  return (await import('@gatehouse/server/resource-server') as typeof import('../../resource-server/index.js')).default
}

interface Reply { status: number, headers: Record<string, string | string[] | undefined>, body: string }

/** One request over a socket with node:http (which, unlike fetch, sends a Host header of our choosing). */
function call (url: string, method: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (chunk: string) => { body += chunk }).on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject).end()
  })
}

/** A resource server listening on its own port, named `http://127.0.0.1:<port>` (its resource), with two routes. */
async function resourceServer (t: Test, options: (base: string) => ResourceServerOptions) {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const rs = Fastify({ logger: false })
  t.teardown(() => rs.close())
  await rs.register(await plugin(), options(base))
  rs.get('/orders', { onRequest: [rs.authenticate, rs.requireScope('orders:read')] }, async (request) => ({ sub: request.user.sub, jkt: request.user.cnf?.jkt ?? null }))
  rs.post('/raw', async (request) => {
    await request.jwtVerify()
    return { sub: request.user.sub }
  })
  await rs.listen({ port, host: '127.0.0.1' })
  return { base, get: (path: string, headers?: Record<string, string>) => call(`${base}${path}`, 'GET', headers) }
}

async function gatehouse (t: Test) {
  const { app, url } = await buildListening(t)
  const alice = await addUser(app, 'alice', PASSWORD, { scope: 'orders:read profile' })
  return { app, url, alice }
}

const errorOf = (reply: Reply) => (JSON.parse(reply.body) as { error: string }).error

t.test('dpop allowed (the default with a resource): a bound token with its proof, the refusals, Bearer as before, the metadata', async (t) => {
  const { app, url, alice } = await gatehouse(t)
  const rs = await resourceServer(t, (base) => ({ issuer: url, resource: base }))
  const key = await dpopKey()
  const bound = await mintToken(app, alice, { jkt: key.jkt, audience: rs.base })
  const unbound = await mintToken(app, alice, { audience: rs.base })
  const proof = (token: string, htm = 'GET', path = '/orders') => dpopProof(key, { htm, htu: `${rs.base}${path}`, accessToken: token })
  const metadata = `resource_metadata="${rs.base}/.well-known/oauth-protected-resource"`
  const dpopChallenge = (error: string, description: string) =>
    `DPoP error="${error}", error_description="${description}", ${ALGS}, ${metadata}, Bearer realm="${rs.base}", ${metadata}`

  const ok = await rs.get('/orders', dpopHeaders(bound, await proof(bound)))
  t.equal(ok.status, 200, 'a bound token with a proof by its key: 200')
  t.same(JSON.parse(ok.body), { sub: alice.id, jkt: key.jkt }, 'request.user holds the claims, cnf included')
  const raw = await call(`${rs.base}/raw`, 'POST', dpopHeaders(bound, await proof(bound, 'POST', '/raw')))
  t.equal(raw.status, 200, 'a bare request.jwtVerify() takes it too')

  t.equal((await rs.get('/orders', { authorization: `Bearer ${unbound}` })).status, 200, 'an unbound token as Bearer: 200, as before')

  for (const attack of await proofAttacks(key, bound, { htm: 'GET', htu: `${rs.base}/orders` })) {
    if (attack.replay) t.equal((await rs.get('/orders', attack.headers)).status, 200, `${attack.label}: the first use is accepted`)
    const res = await rs.get('/orders', attack.headers)
    t.equal(res.status, 401, `${attack.label}: 401`)
    t.match(res.headers['www-authenticate'], new RegExp(`^DPoP error="${attack.error}", error_description="[^"]+", ${ALGS}, ${metadata}, Bearer realm=`), `${attack.label}: DPoP error="${attack.error}"`)
    t.equal(errorOf(res), attack.error, `${attack.label}: the body's error`)
  }

  const exact: Array<[string, Reply, string, string]> = [
    ['no proof', await rs.get('/orders', { authorization: `DPoP ${bound}` }), 'invalid_dpop_proof', 'a DPoP-bound access token needs a DPoP proof (the DPoP header)'],
    ['an unbound token as DPoP', await rs.get('/orders', dpopHeaders(unbound, await proof(unbound))), 'invalid_token', 'this access token is not bound to a DPoP key: send it as Bearer'],
    ['a token that is no JWT, as DPoP', await rs.get('/orders', dpopHeaders('garbage', await proof('garbage'))), 'invalid_token', 'the access token is invalid, expired or revoked'],
    ['the bound token as Bearer', await rs.get('/orders', { authorization: `Bearer ${bound}` }), 'invalid_token', 'this access token is bound to a DPoP key: send it as Authorization: DPoP with a DPoP proof']
  ]
  for (const [label, res, error, description] of exact) {
    t.equal(res.status, 401, `${label}: 401`)
    t.equal(res.headers['www-authenticate'], dpopChallenge(error, description), `${label}: the exact challenge`)
  }

  const narrow = await mintToken(app, alice, { jkt: key.jkt, audience: rs.base, scope: 'profile' })
  const forbidden = await rs.get('/orders', dpopHeaders(narrow, await proof(narrow)))
  t.equal(forbidden.status, 403, 'a DPoP token without orders:read: 403')
  t.match(forbidden.headers['www-authenticate'], /^DPoP error="insufficient_scope", error_description="this resource needs the scope: orders:read", scope="orders:read", algs=/, 'with the DPoP challenge')

  const bearerBad = await rs.get('/orders', { authorization: 'Bearer garbage' })
  t.equal(bearerBad.headers['www-authenticate'], `Bearer realm="${rs.base}", error="invalid_token", error_description="the access token is invalid, expired or revoked", ${metadata}`, 'a bad bearer token: the Bearer challenge alone, as before')

  const doc = JSON.parse((await rs.get('/.well-known/oauth-protected-resource')).body)
  t.same(doc.dpop_signing_alg_values_supported, [...DPOP_SIGNING_ALGS], 'the metadata lists the proof algorithms')
  t.equal(doc.dpop_bound_access_tokens_required, undefined, 'and does not require DPoP')
})

t.test('dpop required: bearer tokens refused, bound ones with their proof accepted, the metadata says so', async (t) => {
  const { app, url, alice } = await gatehouse(t)
  const rs = await resourceServer(t, (base) => ({ issuer: url, resource: base, dpop: 'required' }))
  const key = await dpopKey()
  const bound = await mintToken(app, alice, { jkt: key.jkt, audience: rs.base })
  const unbound = await mintToken(app, alice, { audience: rs.base })
  const metadata = `resource_metadata="${rs.base}/.well-known/oauth-protected-resource"`

  t.equal((await rs.get('/orders', dpopHeaders(bound, await dpopProof(key, { htm: 'GET', htu: `${rs.base}/orders`, accessToken: bound })))).status, 200, 'DPoP: 200')
  const bearer = await rs.get('/orders', { authorization: `Bearer ${unbound}` })
  t.equal(bearer.status, 401, 'an unbound token as Bearer: 401')
  t.equal(bearer.headers['www-authenticate'], `DPoP error="invalid_token", error_description="this resource takes only DPoP-bound access tokens, as Authorization: DPoP with a DPoP proof", ${ALGS}, ${metadata}`, 'the DPoP challenge alone')
  const none = await rs.get('/orders')
  t.equal(none.status, 401, 'no token: 401')
  t.equal(none.headers['www-authenticate'], `DPoP ${ALGS}, ${metadata}`, 'the bare DPoP challenge (§7.1)')
  t.equal(errorOf(none), 'unauthorized')

  const doc = JSON.parse((await rs.get('/.well-known/oauth-protected-resource')).body)
  t.equal(doc.dpop_bound_access_tokens_required, true, 'dpop_bound_access_tokens_required: true')
  t.same(doc.dpop_signing_alg_values_supported, [...DPOP_SIGNING_ALGS])
})

t.test('a pluggable replay store: two instances sharing one refuse a proof the other accepted', async (t) => {
  const { app, url, alice } = await gatehouse(t)
  const seen = new Map<string, number>()
  const shared: ProofReplay = {
    async firstUse (key, ttl) {
      if (seen.has(key)) return false
      seen.set(key, ttl)
      return true
    }
  }
  // Both instances are one service (one publicUrl), as behind a load balancer.
  const publicUrl = 'https://orders.example'
  const one = await resourceServer(t, () => ({ issuer: url, audience: publicUrl, publicUrl, dpopReplay: shared }))
  const two = await resourceServer(t, () => ({ issuer: url, audience: publicUrl, publicUrl, dpopReplay: shared }))
  const key = await dpopKey()
  const bound = await mintToken(app, alice, { jkt: key.jkt, audience: publicUrl })
  const headers = dpopHeaders(bound, await dpopProof(key, { htm: 'GET', htu: `${publicUrl}/orders`, accessToken: bound }))
  t.equal((await one.get('/orders', headers)).status, 200, 'instance one accepts the proof (htu from publicUrl, not from the socket\'s address)')
  const again = await two.get('/orders', headers)
  t.equal(again.status, 401, 'instance two refuses it')
  t.equal(errorOf(again), 'invalid_dpop_proof')
  t.equal(seen.size, 1, 'one key recorded')
  t.match([...seen.keys()][0], /^[A-Za-z0-9_-]{22}$/, 'by a digest of the key\'s thumbprint and the jti (a fixed, small size)')
})

t.test('without a URL, DPoP is off unless asked for, which is refused at start; bound tokens are never bearer tokens', async (t) => {
  const { app, url, alice } = await gatehouse(t)
  const audience = 'https://orders.test'
  const rs = await resourceServer(t, () => ({ issuer: url, audience }))
  const key = await dpopKey()
  const bound = await mintToken(app, alice, { jkt: key.jkt, audience })
  const asDpop = await rs.get('/orders', dpopHeaders(bound, await dpopProof(key, { htm: 'GET', htu: `${rs.base}/orders`, accessToken: bound })))
  t.equal(asDpop.status, 401, 'the DPoP scheme is no credential here: 401')
  t.equal(asDpop.headers['www-authenticate'], `Bearer realm="${audience}"`, 'the bare Bearer challenge')
  const asBearer = await rs.get('/orders', { authorization: `Bearer ${bound}` })
  t.equal(asBearer.status, 401, 'the bound token as Bearer: still refused')
  t.equal(errorOf(asBearer), 'invalid_token')

  const bare = Fastify({ logger: false })
  t.teardown(() => bare.close())
  await t.rejects(async () => { await bare.register(await plugin(), { issuer: url, audience, dpop: 'allowed' }) }, /dpop needs publicUrl/, 'dpop asked for without a URL: an error at start')
  const bad = Fastify({ logger: false })
  t.teardown(() => bad.close())
  await t.rejects(async () => { await bad.register(await plugin(), { issuer: url, audience, publicUrl: 'https://x.example/?q=1' }) }, /publicUrl must have no query/, 'a publicUrl with a query: an error at start')
})

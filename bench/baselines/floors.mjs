/**
 * Floors: what the least a correct server must do costs, measured with the same libraries Gatehouse uses
 * (its own copies, ../../node_modules), the same logger settings as fastify-bare.mjs.
 *
 * - POST /token-jwt: parses the form (@fastify/formbody, as Gatehouse) and answers a token reply with an
 *   ES256 JWT signed by fast-jwt (Gatehouse's signer) with a P-256 key: the floor of any JWT-issuing grant.
 * - GET /users/me-jwt: @fastify/jwt with its verified-token cache, `await request.jwtVerify()`, then the
 *   same JSON as GET /users/me: the bearer check a user would write by hand.
 * - POST /token-refresh (when DATABASE_URL is set): the store calls of Gatehouse's refresh grant on its own
 *   store (dist/lib/stores: `grants.findToken`, then the rotation transaction `grants.rotate`, the same
 *   statements on the same database) and one ES256 signature: the floor of the refresh grant (no client
 *   authentication, user check, caches, hooks or schema).
 */
import Fastify, { LogController } from 'fastify'
import formbody from '@fastify/formbody'
import fastifyJwt from '@fastify/jwt'
import { createSigner } from 'fast-jwt'
import { createHash, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'

const fastify = Fastify({
  logger: { level: 'info', redact: { paths: ['req.headers.authorization'], censor: '[redacted]' } },
  logController: new LogController({ disableRequestLogging: true })
})
await fastify.register(formbody)

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' })
const publicPem = publicKey.export({ type: 'spki', format: 'pem' })
const kid = 'floor'
const sign = createSigner({ key: privatePem, algorithm: 'ES256', kid, header: { typ: 'at+jwt' } })
const ISSUER = 'http://localhost'
const TTL = 3600
const token = (sub, clientId, scope) => {
  const now = Math.floor(Date.now() / 1000)
  return sign({ iss: ISSUER, sub, aud: ISSUER, exp: now + TTL, iat: now, jti: randomUUID(), client_id: clientId, ...(scope ? { scope } : {}) })
}
const reply = (accessToken, scope, refreshToken) =>
  ({ access_token: accessToken, token_type: 'Bearer', expires_in: TTL, ...(scope ? { scope } : {}), ...(refreshToken ? { refresh_token: refreshToken } : {}) })

fastify.post('/token-jwt', async (request, res) => {
  const scope = request.body?.scope
  res.header('cache-control', 'no-store').header('pragma', 'no-cache')
  return reply(token('bench-svc', 'bench-svc', scope), scope)
})

await fastify.register(fastifyJwt, { secret: { private: privatePem, public: publicPem }, sign: { algorithm: 'ES256' }, verify: { algorithms: ['ES256'], cache: true } })
const user = { sub: '0b6c1b9e-3a57-4f0e-9d5e-6f3f1a2b7c44', username: 'bench', full_name: null, email: null, disabled: false, scope: 'items:read' }
fastify.get('/users/me-jwt', async (request) => {
  await request.jwtVerify()
  return user
})
// A token for /users/me-jwt, signed with this server's key.
fastify.get('/token-for-me', async () => ({ access_token: token(user.sub, 'default', 'items:read') }))

if (process.env.DATABASE_URL) {
  const { openStorage } = await import('../../dist/lib/stores/index.js')
  const storage = await openStorage(process.env.DATABASE_URL)
  const sha = (s) => createHash('sha256').update(s, 'utf8').digest('base64url')
  fastify.post('/token-refresh', async (request, res) => {
    const now = Math.floor(Date.now() / 1000)
    const next = randomBytes(32).toString('base64url')
    const found = await storage.grants.findToken(sha(request.body?.refresh_token ?? ''))
    res.header('cache-control', 'no-store').header('pragma', 'no-cache')
    if (!found) return res.code(400).send({ error: 'invalid_grant' })
    const { grant } = found
    const result = await storage.grants.rotate(found.token.hash,
      { hash: sha(next), grantId: grant.id, scope: grant.scope, issuedAt: now, expiresAt: Math.min(now + 1_209_600, grant.expiresAt), consumedAt: null },
      { now, denyUntil: now + TTL + 10 })
    if (result.outcome !== 'rotated') return res.code(400).send({ error: 'invalid_grant' })
    return reply(token(result.grant.userId, result.grant.clientId, result.grant.scope), result.grant.scope, next)
  })
}

await fastify.listen({ port: Number(process.env.PORT ?? 3103), host: '127.0.0.1' })

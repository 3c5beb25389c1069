/**
 * Baseline: a bare Fastify route with Gatehouse's default logger settings (pino at info, request
 * logging off, the same redaction; see server.ts). It answers what Gatehouse's GET /users/me answers,
 * without the token check. `fastify` resolves to the service's own copy (../../node_modules).
 */
import Fastify, { LogController } from 'fastify'

const fastify = Fastify({
  logger: { level: 'info', redact: { paths: ['req.headers.authorization'], censor: '[redacted]' } },
  logController: new LogController({ disableRequestLogging: true })
})

const user = { sub: '0b6c1b9e-3a57-4f0e-9d5e-6f3f1a2b7c44', username: 'bench', full_name: null, email: null, disabled: false, scope: 'items:read' }
fastify.get('/users/me', async () => user)

await fastify.listen({ port: Number(process.env.PORT ?? 3102), host: '127.0.0.1' })

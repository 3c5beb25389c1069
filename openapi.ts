import Fastify from 'fastify'
import fp from 'fastify-plugin'
import app from './app.js'
import { baseOptions } from './lib/http/server-options.js'

/**
 * The OpenAPI document as YAML, generated from the running route schemas (`gatehouse openapi`, and the
 * test that keeps openapi.yaml current). The app is built on an in-memory database with a fixed issuer,
 * so the output depends on the code alone. It sits beside app.ts because it builds the app.
 */
export async function generateOpenApiYaml (): Promise<string> {
  // No start deadline worth failing over: making the document starts a whole app (its first signing keys too),
  // which on a loaded machine (CI running many test files on two cores) has taken longer than avvio's 10 s.
  const fastify = Fastify({ logger: false, ...baseOptions })
  await fastify.register(fp(app), {
    env: { DATABASE_URL: 'sqlite::memory:', ISSUER: 'http://localhost:3000', ARGON2_MEMORY_KIB: '64', ARGON2_TIME_COST: '1' }
  })
  await fastify.ready()
  try {
    return fastify.swagger({ yaml: true })
  } finally {
    await fastify.close()
  }
}

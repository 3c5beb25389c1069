import fp from 'fastify-plugin'
import formbody from '@fastify/formbody'
import { parseForm } from '../lib/body-validation.js'

/**
 * application/x-www-form-urlencoded bodies (the OAuth endpoints and the login form). The parser marks what
 * it makes, so form bodies are type-coerced like query strings and JSON bodies never are (lib/body-validation.ts).
 */
export default fp(async (fastify) => {
  await fastify.register(formbody, { parser: parseForm })
}, { name: 'formbody' })

import fp from 'fastify-plugin'
import formbody from '@fastify/formbody'

/** application/x-www-form-urlencoded bodies (the OAuth endpoints and the login form). */
export default fp(async (fastify) => {
  await fastify.register(formbody)
}, { name: 'formbody' })

import fp from 'fastify-plugin'
import { createPasswordHasher, type PasswordHasher } from '../lib/passwords.js'

declare module 'fastify' {
  interface FastifyInstance {
    passwords: PasswordHasher
  }
}

/** argon2id hashing with the configured cost, off the event loop. */
export default fp(async (fastify) => {
  fastify.decorate('passwords', await createPasswordHasher(fastify.config.argon2))
}, { name: 'passwords', dependencies: ['config'] })

import fp from 'fastify-plugin'
import { availableParallelism } from 'node:os'
import { argon2Params, createPasswordHasher, type PasswordHasher } from '../lib/passwords.js'

declare module 'fastify' {
  interface FastifyInstance {
    passwords: PasswordHasher
  }
}

/** argon2id hashing with the configured cost, off the event loop, behind a bounded queue (PASSWORD_QUEUE_SECONDS). */
export default fp(async (fastify) => {
  // One core is left to the event loop (on a 2-core machine, hashing on both starves every other request
  // during a login flood: GET /users/me p99 in seconds); the CLI hashes on all of them.
  const passwords = await createPasswordHasher(argon2Params(fastify.config), Math.max(1, availableParallelism() - 1), fastify.config.passwordQueueSeconds)
  // Make the dummy hash now, so the first sign-in of an unknown user costs what every other one does.
  await passwords.verify(null, '')
  fastify.decorate('passwords', passwords)
}, { name: 'passwords', dependencies: ['config'] })

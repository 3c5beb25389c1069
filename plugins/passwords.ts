import fp from 'fastify-plugin'
import { argon2Params, createPasswordHasher, hashesPerProcess, type PasswordHasher } from '../lib/passwords.js'

declare module 'fastify' {
  interface FastifyInstance {
    passwords: PasswordHasher
  }
}

/** argon2id hashing with the configured cost, off the event loop (this process's share of the cores). */
export default fp(async (fastify) => {
  const passwords = await createPasswordHasher(argon2Params(fastify.config), hashesPerProcess(fastify.config.workers))
  // Make the dummy hash now, so the first sign-in of an unknown user costs what every other one does.
  await passwords.verify(null, '')
  fastify.decorate('passwords', passwords)
}, { name: 'passwords', dependencies: ['config'] })

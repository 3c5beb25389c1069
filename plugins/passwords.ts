import fp from 'fastify-plugin'
import { argon2Params, createPasswordHasher, hashesPerProcess, type PasswordHasher } from '../lib/credentials/passwords.js'

declare module 'fastify' {
  interface FastifyInstance {
    passwords: PasswordHasher
  }
}

/** argon2id hashing with the configured cost, off the event loop, behind a bounded queue (PASSWORD_QUEUE_SECONDS). */
export default fp(async (fastify) => {
  // This process's share of the cores, one left to the event loops (lib/credentials/passwords.ts hashesPerProcess).
  const passwords = await createPasswordHasher(argon2Params(fastify.config), hashesPerProcess(fastify.config.workers), fastify.config.passwordQueueSeconds)
  // Make the dummy hash now, so the first sign-in of an unknown user costs what every other one does.
  await passwords.verify(null, '')
  fastify.decorate('passwords', passwords)
}, { name: 'passwords', dependencies: ['config'] })

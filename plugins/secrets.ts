import fp from 'fastify-plugin'
import { resolveSecretsKey, secretBox, type SecretBox } from '../lib/credentials/secret-box.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Seals and opens second-factor secrets with SECRETS_KEY (lib/credentials/secret-box.ts); undefined with
     * PostgreSQL and no SECRETS_KEY, where authenticator apps cannot be enrolled (docs/second-factors.md).
     */
    secrets: SecretBox | undefined
  }
}

export default fp(async (fastify) => {
  const key = resolveSecretsKey(fastify.config)
  if (key === undefined) {
    fastify.log.warn('SECRETS_KEY is not set: authenticator apps (TOTP) cannot be enrolled or used with PostgreSQL; set the same key on every instance (docs/second-factors.md)')
  }
  fastify.decorate('secrets', key === undefined ? undefined : secretBox(key))
}, { name: 'secrets', dependencies: ['config'] })

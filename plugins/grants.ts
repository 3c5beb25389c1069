import fp from 'fastify-plugin'
import { createGrants, type Grants } from '../lib/oauth/grants/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The token endpoint's grants, built once: `grants.select(body)` picks one, `handle({ body, client, clientIp, addressKey, log })` runs it. */
    grants: Grants
  }
}

export default fp(async (fastify) => {
  const { storage, passwords, tokenIssuer: issuer, accessTokens, throttle, events, clock, config } = fastify
  fastify.decorate('grants', createGrants({ storage, passwords, issuer, accessTokens, throttle, events, clock, config }))
}, { name: 'grants', dependencies: ['config', 'clock', 'storage', 'passwords', 'throttle', 'events', 'token-issuer', 'access-tokens'] })

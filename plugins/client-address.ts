import fp from 'fastify-plugin'
import { addressKey } from '../lib/limits/address-key.js'

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The client's address as every per-address limit counts it (lib/limits/address-key.ts): `request.ip` (after
     * TRUST_PROXY), an IPv6 address by its first IPV6_PREFIX_LENGTH bits. Logs and events keep `request.ip`.
     */
    readonly addressKey: string
  }
}

export default fp(async (fastify) => {
  const prefixLength = fastify.config.ipv6PrefixLength
  fastify.decorateRequest('addressKey', {
    getter () { return addressKey(this.ip, prefixLength) }
  })
}, { name: 'client-address', dependencies: ['config'] })

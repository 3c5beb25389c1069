import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'

declare module 'fastify' {
  interface FastifyInstance {
    /** Call inside an admin route plugin: every route in it then needs a bearer token with scope `admin`. */
    requireAdmin: (instance: FastifyInstance) => void
  }
}

export default fp(async (fastify) => {
  fastify.decorate('requireAdmin', (instance: FastifyInstance) => {
    instance.addHook('preHandler', instance.authenticate)
    instance.addHook('preHandler', instance.requireScope('admin'))
  })
}, { name: 'admin-auth', dependencies: ['authenticate'] })

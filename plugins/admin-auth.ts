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
    // preValidation: who is calling is settled before the body is judged, so strangers learn nothing from it.
    instance.addHook('preValidation', instance.authenticate)
    instance.addHook('preValidation', instance.requireScope('admin'))
  })
}, { name: 'admin-auth', dependencies: ['authenticate'] })

import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { adminActor } from '../lib/admin/actor.js'

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
    // Every change that succeeded is a security event: who (the token's subject), what (method and route,
    // the record, the names of the fields sent: never their values, which may be a password).
    instance.addHook('onResponse', (request, reply, done) => {
      if (request.method !== 'GET' && reply.statusCode < 400 && request.auth) {
        const body = request.body
        instance.events.emit({
          type: 'admin_change',
          actor: adminActor(request.auth),
          action: `${request.method} ${request.routeOptions.url ?? ''}`,
          target: Object.values(request.params as Record<string, string>).join('/'),
          fields: body !== null && typeof body === 'object' && !Array.isArray(body) ? Object.keys(body) : []
        }, request.log)
      }
      done()
    })
  })
}, { name: 'admin-auth', dependencies: ['authenticate', 'events'] })

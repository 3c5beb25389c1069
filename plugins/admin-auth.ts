import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { adminActor, adminChange } from '../lib/admin/actor.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Call inside an admin route plugin: every route in it then needs a bearer token with scope `admin`. */
    requireAdmin: (instance: FastifyInstance) => void
  }
  interface FastifyRequest {
    /**
     * The record an admin change created, set by its handler (a create's URL cannot name it yet): the admin_change
     * event's target. Unset, the target is the record the URL names.
     */
    adminTarget: string | undefined
  }
}

export default fp(async (fastify) => {
  fastify.decorateRequest('adminTarget', undefined)
  fastify.decorate('requireAdmin', (instance: FastifyInstance) => {
    // preValidation: who is calling is settled before the body is judged, so strangers learn nothing from it.
    instance.addHook('preValidation', instance.authenticate)
    instance.addHook('preValidation', instance.requireScope('admin'))
    // Every change that succeeded is a security event: who (the token's subject), what (method and route,
    // the record, the names of the fields sent: never their values, which may be a password).
    instance.addHook('onResponse', (request, reply, done) => {
      if (request.method !== 'GET' && reply.statusCode < 400 && request.auth) {
        instance.events.emit(adminChange({
          actor: adminActor(request.auth),
          action: `${request.method} ${request.routeOptions.url ?? ''}`,
          params: request.params as Record<string, string> | undefined,
          created: request.adminTarget,
          body: request.body
        }), request.log)
      }
      done()
    })
  })
}, { name: 'admin-auth', dependencies: ['authenticate', 'events'] })

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { listEvents } from '../../lib/admin/events.js'
import { adminErrors, adminSecurity } from '../../schemas/admin.js'
import { EventPageView, EventQuerySchema } from '../../schemas/events.js'

/** /admin/events: recent security events (scope admin), as `gatehouse events list` and the console's events page show them. */
const adminEventRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage } = fastify
  fastify.requireAdmin(fastify)

  fastify.get('/admin/events', {
    schema: {
      operationId: 'listSecurityEvents',
      tags: ['admin'],
      security: adminSecurity,
      summary: 'List recent security events',
      description: 'Stored security events, newest first, filtered by type, user and client; paged by a cursor: pass the answer\'s `next_before` ' +
        'as `before` for the next (older) page. Events are written within a second of happening and kept EVENTS_KEEP_DAYS (docs/operating.md).',
      querystring: EventQuerySchema,
      response: { 200: { ...EventPageView, description: 'a page of events, newest first, and the cursor of the next' }, ...adminErrors }
    }
  }, async (request) => listEvents(storage, request.query))
}

export default adminEventRoutes

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { adminActor } from '../../lib/admin/actor.js'
import { adminInvite, listInvitations, revokeInvitation } from '../../lib/admin/invitations.js'
import { createInvitationSchema, listInvitationsSchema, revokeInvitationSchema } from '../../schemas/invitations.js'

/**
 * /admin/invitations (scope admin): invite an address, list the pending invitations, revoke one. The rules are
 * lib/admin/invitations.ts (shared with the console) and lib/accounts/invitations.ts; the page the link opens is
 * routes/browser/invitation.ts.
 */
const adminInvitationRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, clock, mail, throttle, events } = fastify
  fastify.requireAdmin(fastify)

  fastify.post('/admin/invitations', { schema: createInvitationSchema }, async (request, reply) => {
    const { email, scope } = request.body
    const view = await adminInvite({ storage, send: mail.send, throttle, events, now: clock.now(), log: request.log },
      { actor: adminActor(request.auth), addressKey: request.addressKey }, { email, scope })
    request.adminTarget = view.id
    reply.code(201)
    return view
  })

  fastify.get('/admin/invitations', { schema: listInvitationsSchema }, async () => listInvitations(storage, clock.now()))

  fastify.delete('/admin/invitations/:id', { schema: revokeInvitationSchema }, async (request, reply) => {
    await revokeInvitation(storage, request.params.id)
    return reply.code(204).send(null)
  })
}

export default adminInvitationRoutes

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { adminActor } from '../../lib/admin/actor.js'
import { invite, INVITATIONS_LISTED, toInvitationView } from '../../lib/accounts/invitations.js'
import { accountLimits } from '../../lib/accounts/limits.js'
import { notFound, tooManyRequests } from '../../lib/errors.js'
import { createInvitationSchema, listInvitationsSchema, revokeInvitationSchema } from '../../schemas/invitations.js'

/**
 * /admin/invitations (scope admin): invite an address, list the pending invitations, revoke one. The rules are
 * lib/accounts/invitations.ts; the page the link opens is routes/browser/invitation.ts.
 */
const adminInvitationRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, clock, mail, throttle, events } = fastify
  fastify.requireAdmin(fastify)

  fastify.post('/admin/invitations', { schema: createInvitationSchema }, async (request, reply) => {
    const { email, scope } = request.body
    // The per-address message limit every message counts against (lib/accounts/limits.ts): an administrator's
    // token in a loop cannot flood one inbox. Not the per-client-address one: inviting a team is many invitations.
    const wait = await throttle.take(accountLimits('invitation', request.addressKey, email).filter((l) => l.kind === 'request'))
    if (wait !== undefined) throw tooManyRequests(wait, 'this address was sent too many messages in the last hour; try again later')
    const link = await invite({ storage, send: mail.send, now: clock.now() }, { email, scope })
    events.emit({ type: 'invitation_sent', actor: adminActor(request.auth), invitationId: link.id }, request.log)
    request.adminTarget = link.id
    reply.code(201)
    return toInvitationView(link)
  })

  fastify.get('/admin/invitations', { schema: listInvitationsSchema }, async () =>
    (await storage.accountLinks.listPending('invitation', clock.now(), INVITATIONS_LISTED)).map(toInvitationView))

  fastify.delete('/admin/invitations/:id', { schema: revokeInvitationSchema }, async (request, reply) => {
    if (!await storage.accountLinks.revoke(request.params.id, 'invitation')) throw notFound('no pending invitation with this id')
    return reply.code(204).send(null)
  })
}

export default adminInvitationRoutes

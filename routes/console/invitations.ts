import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { adminInvite, listInvitations, revokeInvitation } from '../../lib/admin/invitations.js'
import { GatehouseError } from '../../lib/errors.js'
import { consoleKeySchemas } from '../../schemas/console-keys.js'
import { logChange } from './change.js'
import type { ConsoleDeps } from './deps.js'

/** What the page says after each action (its `done` query). */
const DONE: Record<string, string> = {
  invited: 'Invitation sent: the link works for 7 days.',
  revoked: 'Invitation revoked: its link no longer works.'
}

/**
 * The console's invitations page: the pending invitations, the form that invites an address, a revoke button per
 * row. Every rule is the admin API's (lib/admin/invitations.ts: the per-address message limit, the invitation_sent
 * event, revoke's not-found; lib/accounts/invitations.ts: the address, the scope, a user's address): a refusal shows
 * its message on the page. Every change is an admin_change event (change.ts).
 */
const invitations: FastifyPluginAsync<ConsoleDeps> = async (fastify) => {
  const { storage, clock, mail, throttle, events } = fastify

  async function invitationsPage (reply: FastifyReply, extra: Record<string, unknown> = {}, status = 200): Promise<FastifyReply> {
    const list = await listInvitations(storage, clock.now())
    return reply.consolePage('invitations', { invitations: list, values: {}, ...extra }, { status })
  }

  fastify.get('/console/invitations', { schema: consoleKeySchemas.invitations, config: { browser: 'page' } }, async (request, reply) => {
    const done = (request.query as { done?: string }).done
    return invitationsPage(reply, { done: done === undefined ? undefined : DONE[done] })
  })

  fastify.post('/console/invitations', { schema: consoleKeySchemas.invite, config: { browser: 'form' } }, async (request, reply) => {
    const fields = request.formFields()
    const email = typeof fields.email === 'string' ? fields.email.trim() : ''
    const scopeText = typeof fields.scope === 'string' ? fields.scope.trim() : ''
    const values = { email, scope: scopeText }
    try {
      const view = await adminInvite({ storage, send: mail.send, throttle, events, now: clock.now(), log: request.log },
        { actor: request.consoleSession?.user.username ?? '', addressKey: request.addressKey }, { email, scope: scopeText === '' ? undefined : scopeText })
      logChange(request, view.id)
    } catch (err) {
      if (!(err instanceof GatehouseError) || err.statusCode >= 500 || err.statusCode === 403 || err.statusCode === 404) throw err
      if (err.headers['retry-after'] !== undefined) reply.header('retry-after', err.headers['retry-after'])
      return invitationsPage(reply, { values, problem: err.message }, err.statusCode)
    }
    return reply.redirect('/console/invitations?done=invited', 303)
  })

  fastify.post('/console/invitations/:id/revoke', { schema: consoleKeySchemas.revokeInvitation, config: { browser: 'form' } }, async (request, reply) => {
    const { id } = request.params as { id: string }
    await revokeInvitation(storage, id) // unknown, accepted, revoked or expired: 404, the error page
    logChange(request, id)
    return reply.redirect('/console/invitations?done=revoked', 303)
  })
}

export default invitations

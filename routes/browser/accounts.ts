import type { FastifyPluginAsync } from 'fastify'
import { verifyEmail } from '../../lib/accounts/verification.js'
import { badAuthorizationRequest } from '../../lib/errors.js'
import { verifyEmailSchema } from '../../schemas/accounts.js'

/**
 * The self-service account pages reached through a mailed link (lib/accounts/: the rules; lib/accounts/links.ts:
 * the links). Every bad link is the same error page: nothing tells a used link from an unknown one.
 */
const accounts: FastifyPluginAsync = async (fastify) => {
  const { storage, clock, events } = fastify

  fastify.get('/verify-email', { schema: verifyEmailSchema, config: { browser: 'page' } }, async (request, reply) => {
    const user = await verifyEmail(storage, (request.query as { token?: unknown }).token, clock.now())
    if (!user) throw badAuthorizationRequest('This link does not work: it was used already, replaced by a newer one, or has expired. Ask for a new one.')
    events.emit({ type: 'email_verified', userId: user.id, ip: request.ip }, request.log)
    return reply.page('email-verified', { username: user.username })
  })
}

export default accounts

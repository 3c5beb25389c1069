import type { FastifyPluginAsync } from 'fastify'
import { pendingSignup } from '../../lib/accounts/signup.js'
import { verifyEmail } from '../../lib/accounts/verification.js'
import { confirmEmailChange } from '../../lib/accounts/email-change.js'
import { badAuthorizationRequest, PageError } from '../../lib/errors.js'
import { verifyEmailSchema } from '../../schemas/accounts.js'
import { showSignupConfirm } from './signup-confirm.js'

/**
 * The self-service account pages reached through a mailed link (lib/accounts/: the rules; lib/accounts/links.ts:
 * the links). Every bad link is the same error page: nothing tells a used link from an unknown one.
 */
const accounts: FastifyPluginAsync = async (fastify) => {
  const { storage, clock, events, mail } = fastify
  const send = (kind: string, to: string, data?: Record<string, unknown>) => mail.send(kind, to, data)
  const badLink = () => badAuthorizationRequest('This link does not work: it was used already, replaced by a newer one, or has expired. Ask for a new one.')

  fastify.get('/verify-email', { schema: verifyEmailSchema, config: { browser: 'page' } }, async (request, reply) => {
    const { token } = request.query as { token?: unknown }
    // A sign-up's link only shows its button (signup-confirm.ts): mail scanners fetch links, and a GET makes nothing.
    const signup = await pendingSignup(storage, token, clock.now())
    if (signup !== undefined && typeof token === 'string') return showSignupConfirm(request, reply, token, signup)
    const user = await verifyEmail(storage, token, clock.now())
    if (!user) {
      // Not a verification link: a change of address (lib/accounts/email-change.ts), the same page when it works.
      const change = await confirmEmailChange({ storage, send }, token, clock.now())
      if (change?.outcome === 'taken') throw new PageError('invalid_request', 'Another account uses this address now: your address did not change.', 409)
      if (change === undefined) throw badLink()
      events.emit({ type: 'email_changed', userId: change.user.id, ip: request.ip }, request.log)
      return reply.page('email-verified', { username: change.user.username })
    }
    events.emit({ type: 'email_verified', userId: user.id, ip: request.ip }, request.log)
    return reply.page('email-verified', { username: user.username })
  })
}

export default accounts

import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { takeAccountLimit } from '../../lib/accounts/limits.js'
import { PageError } from '../../lib/errors.js'
import { isMailAddress } from '../../lib/mail/addresses.js'
import { safeReturnTo, type Query } from '../../lib/oauth/authorize.js'
import { OutboxFullError } from '../../lib/ops/outbox.js'
import { forgotPasswordPageSchema, forgotPasswordSchema } from '../../schemas/accounts.js'

/**
 * "Forgot your password?": asks for an e-mail address and sends each account using it a reset link. The answer is
 * the same page, status and work whether or not an account uses the address (SECURITY-CASES U1): the request is
 * only stored here, and answered outside it (plugins/account-requests.ts says why).
 */
const forgotPassword: FastifyPluginAsync = async (fastify) => {
  const { throttle, passwordResets } = fastify

  const show = (reply: FastifyReply, input: { returnTo: string | undefined, email?: string, message?: string, sent?: boolean, status?: number }) =>
    reply.page('forgot-password', { csrf: reply.csrfToken(), ...input }, { status: input.status })

  fastify.get('/forgot-password', { schema: forgotPasswordPageSchema, config: { browser: 'page' } }, async (request, reply) =>
    show(reply, { returnTo: safeReturnTo((request.query as Query).return_to) }))

  // The queued request is worked on once the answer is out (plugins/account-requests.ts), never inside it.
  const onResponse = async () => passwordResets.nudge()
  fastify.post('/forgot-password', { schema: forgotPasswordSchema, config: { browser: 'form' }, onResponse }, async (request, reply) => {
    const fields = request.formFields()
    const returnTo = safeReturnTo(fields.return_to)
    const email = typeof fields.email === 'string' ? fields.email.trim() : ''
    if (!isMailAddress(email)) return show(reply, { returnTo, email, message: 'Enter the e-mail address of your account.', status: 400 })
    const wait = await takeAccountLimit(throttle, 'forgot_password', request.addressKey, email)
    if (wait !== undefined) {
      reply.header('retry-after', String(wait))
      return show(reply, { returnTo, email, message: 'Too many requests. Try again later.', status: 429 })
    }
    try {
      await passwordResets.request({ email, ip: request.ip, returnTo })
    } catch (err) {
      if (err instanceof OutboxFullError) throw new PageError('temporarily_unavailable', 'We cannot send messages right now. Try again later.', 503)
      throw err
    }
    return show(reply, { returnTo, sent: true })
  })
}

export default forgotPassword

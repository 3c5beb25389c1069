import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { openReset, resetPassword } from '../../lib/accounts/password-reset.js'
import { badAuthorizationRequest } from '../../lib/errors.js'
import { resetPasswordPageSchema, resetPasswordSchema } from '../../schemas/accounts.js'

/** Every link that does not work is this one page: nothing tells a used link from an unknown or expired one. */
const badLink = () => badAuthorizationRequest('This link does not work: it was used already, replaced by a newer one, or has expired. Ask for a new one.')

/**
 * The reset link mailed by /forgot-password, the admin API or the CLI (lib/accounts/password-reset.ts): a form for
 * the new password, then the change, which ends every session and refuses every earlier token (SECURITY-CASES U2, U3).
 */
const resetPasswordPage: FastifyPluginAsync = async (fastify) => {
  const { storage, passwords, clock, config, events } = fastify
  const deps = { storage, passwords, clock, config }

  const form = (reply: FastifyReply, token: string, input: { username: string, message?: string, status?: number }) =>
    reply.page('reset-password', { csrf: reply.csrfToken(), token, ...input }, { status: input.status })

  fastify.get('/reset-password', { schema: resetPasswordPageSchema, config: { browser: 'page' } }, async (request, reply) => {
    const { token } = request.query as { token?: unknown }
    const reset = await openReset(storage, token, clock.now())
    if (!reset || typeof token !== 'string') throw badLink()
    return form(reply, token, { username: reset.user.username })
  })

  fastify.post('/reset-password', { schema: resetPasswordSchema, config: { browser: 'form' } }, async (request, reply) => {
    const { token, password, password_confirmation: confirmation } = request.formFields()
    if (typeof token !== 'string') throw badLink()
    const reset = await openReset(storage, token, clock.now())
    if (!reset) throw badLink()
    if (typeof password !== 'string' || password === '') return form(reply, token, { username: reset.user.username, message: 'Enter a new password.', status: 400 })
    // Optional: a page that asks twice sends both; a script or a password manager may send one.
    // eslint-disable-next-line no-restricted-syntax -- two fields of one form, both the person's own typing: no stored secret is compared
    if (typeof confirmation === 'string' && confirmation !== password) {
      return form(reply, token, { username: reset.user.username, message: 'The two passwords differ. Enter the same one twice.', status: 400 })
    }
    const outcome = await resetPassword(deps, { token, password, now: clock.now() })
    if (outcome.result === 'bad_link') throw badLink()
    if (outcome.result === 'refused') return form(reply, token, { username: outcome.reset.user.username, message: outcome.problem, status: 400 })
    events.emit({ type: 'password_reset', userId: outcome.user.id, ip: request.ip }, request.log)
    // Back to the pending /authorize request itself (checked by safeReturnTo: only ever a path of ours), which shows
    // the login page for it, or to the login page.
    return reply.page('password-changed', { username: outcome.user.username, signIn: outcome.returnTo ?? '/login', continues: outcome.returnTo !== undefined })
  })
}

export default resetPasswordPage

import type { FastifyPluginAsync } from 'fastify'
import { askEmailChange } from '../../lib/accounts/email-change.js'
import { changePassword } from '../../lib/accounts/password-change.js'
import { updateUser } from '../../lib/admin/users.js'
import { AdminError } from '../../lib/errors.js'
import { PASSWORD_SIGN_IN } from '../../lib/oauth/sign-in-methods.js'
import { accountPageSchema, emailFormSchema, passwordFormSchema, profileFormSchema } from '../../schemas/accounts.js'
import { doneRedirect, LOGIN_FOR_ACCOUNT, showAccount, signedInOr } from './account-page.js'

const text = (value: unknown): string | undefined => typeof value === 'string' ? value : undefined

/**
 * GET /account and its own forms: profile, e-mail, password (the rules: lib/accounts/email-change.ts,
 * password-change.ts). Sessions, apps and providers: account-access.ts.
 */
const account: FastifyPluginAsync = async (fastify) => {
  const { storage, passwords, throttle, events, clock, config, mail } = fastify
  const send = (kind: string, to: string, data?: Record<string, unknown>) => mail.send(kind, to, data)

  fastify.get('/account', { schema: accountPageSchema, config: { browser: 'page' } }, async (request, reply) => {
    const signedIn = await signedInOr(request, reply)
    return signedIn && showAccount(reply, signedIn, { done: (request.query as { done?: unknown }).done })
  })

  fastify.post('/account/profile', { schema: profileFormSchema, config: { browser: 'form' } }, async (request, reply) => {
    const signedIn = await signedInOr(request, reply)
    if (!signedIn) return reply
    const fullName = text(request.formFields().full_name)?.trim()
    if (fullName === undefined) return showAccount(reply, signedIn, { message: { section: 'profile', text: 'Enter your full name.' } })
    try {
      await updateUser({ storage, passwords, clock, config }, signedIn.user.username, { fullName: fullName === '' ? null : fullName })
    } catch (err) {
      if (!(err instanceof AdminError)) throw err
      return showAccount(reply, signedIn, { message: { section: 'profile', text: 'Use at most 256 characters for your name.' } })
    }
    events.emit({ type: 'profile_changed', userId: signedIn.user.id, ip: request.ip, fields: ['full_name'] }, request.log)
    return doneRedirect(reply, 'profile')
  })

  fastify.post('/account/email', { schema: emailFormSchema, config: { browser: 'form' } }, async (request, reply) => {
    const signedIn = await signedInOr(request, reply)
    if (!signedIn) return reply
    const email = text(request.formFields().email) ?? ''
    const asked = await askEmailChange({ storage, send, throttle }, signedIn.user, { email, addressKey: request.addressKey, now: clock.now() })
    if (asked.outcome === 'refused') return showAccount(reply, signedIn, { message: { section: 'email', text: asked.message } })
    if (asked.outcome === 'throttled') {
      reply.header('retry-after', String(asked.retryAfter))
      return showAccount(reply, signedIn, { message: { section: 'email', text: 'Too many requests: try again later. Nothing was sent.', status: 429 } })
    }
    events.emit({ type: 'email_change_requested', userId: signedIn.user.id, ip: request.ip }, request.log)
    return doneRedirect(reply, 'email')
  })

  fastify.post('/account/password', { schema: passwordFormSchema, config: { browser: 'form' } }, async (request, reply) => {
    const signedIn = await signedInOr(request, reply)
    if (!signedIn) return reply
    const fields = request.formFields()
    const changed = await changePassword({ storage, passwords, throttle, events, log: request.log, clock, config }, signedIn.user, {
      current: text(fields.current_password) ?? '',
      next: text(fields.new_password) ?? '',
      confirmation: text(fields.new_password_confirmation),
      clientIp: request.ip,
      addressKey: request.addressKey
    })
    if (changed.outcome === 'refused') return showAccount(reply, signedIn, { message: { section: 'password', text: changed.message } })
    if (changed.outcome === 'wrong') return showAccount(reply, signedIn, { message: { section: 'password', text: 'Your current password is not right.', status: 401 } })
    if (changed.outcome === 'throttled') {
      reply.header('retry-after', String(changed.retryAfter))
      return showAccount(reply, signedIn, { message: { section: 'password', text: 'Too many wrong passwords. Wait a minute, then try again.', status: 429 } })
    }
    events.emit({ type: 'password_changed', userId: signedIn.user.id, ip: request.ip }, request.log)
    // Every session ended with the change, this one too: this browser, which just proved the password, starts a new one.
    if (!await reply.signIn(changed.user, PASSWORD_SIGN_IN)) return reply.redirect(LOGIN_FOR_ACCOUNT, 303)
    return doneRedirect(reply, 'password')
  })
}

export default account

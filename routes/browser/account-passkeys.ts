import type { FastifyPluginAsync } from 'fastify'
import { hasPassword } from '../../lib/accounts/account-access.js'
import { confirmPassword } from '../../lib/accounts/password-change.js'
import { MAX_FACTORS_PER_USER } from '../../lib/limits/table-bounds.js'
import { finishRegistration, removePasskey, startRegistration } from '../../lib/mfa/passkeys.js'
import { CHALLENGE_TTL_SECONDS } from '../../lib/mfa/webauthn.js'
import { passkeyRegisterOptionsSchema, passkeyRegisterSchema, passkeyRemoveSchema } from '../../schemas/passkeys.js'
import { doneRedirect, showAccount, signedInOr } from './account-page.js'
import { passkeyBinding, passkeyCeremonyAllowed, passkeyDeps, spendPasskeyAttempt } from './passkeys.js'

/** Why a passkey was not added, in the words of the pages that add one (the account page, /login/enroll). */
export const NOT_ADDED: Record<string, string> = {
  malformed: 'Your browser did not create a passkey. Try again.',
  challenge: 'That took too long, or was sent twice. Try again.',
  too_many: `You have ${MAX_FACTORS_PER_USER} second factors already: remove one first.`,
  registered: 'That passkey is added already.'
}

/**
 * The account page's passkeys: "Add a passkey" (a discoverable credential with user verification, named by the
 * user), and removing one, which asks for the current password again (or, for a user without one, a sign-in within
 * the last minutes): a session left open on someone else's screen must not take a factor away.
 */
const accountPasskeys: FastifyPluginAsync = async (fastify) => {
  const { events, clock, storage, passwords, throttle } = fastify

  fastify.post('/account/passkeys/options', { schema: passkeyRegisterOptionsSchema, config: { browser: 'form' } }, async (request, reply) => {
    const signedIn = await signedInOr(request, reply)
    if (!signedIn) return reply
    await passkeyCeremonyAllowed(request)
    return reply.send(await startRegistration(passkeyDeps(request), signedIn.user, passkeyBinding(request)))
  })

  fastify.post('/account/passkeys', { schema: passkeyRegisterSchema, config: { browser: 'form' } }, async (request, reply) => {
    const signedIn = await signedInOr(request, reply)
    if (!signedIn) return reply
    const fields = request.formFields()
    const result = await finishRegistration(passkeyDeps(request), signedIn.user, { response: fields.response, name: fields.name, binding: passkeyBinding(request) })
    if (result.outcome === 'refused') {
      await spendPasskeyAttempt(request)
      request.log.info({ reason: result.reason, detail: result.detail }, 'a passkey was not added')
      const text = NOT_ADDED[result.reason] ?? 'The passkey could not be checked (it must verify you, with a PIN or biometrics). Try again.'
      return showAccount(reply, signedIn, { message: { section: 'passkeys', text } })
    }
    events.emit({ type: 'passkey_registered', userId: signedIn.user.id, factorId: result.factor.id, ip: request.ip }, request.log)
    return doneRedirect(reply, 'passkey')
  })

  fastify.post('/account/passkeys/remove', { schema: passkeyRemoveSchema, config: { browser: 'form' } }, async (request, reply) => {
    const signedIn = await signedInOr(request, reply)
    if (!signedIn) return reply
    const { user, session } = signedIn
    const fields = request.formFields()
    if (hasPassword(user)) {
      const password = typeof fields.current_password === 'string' ? fields.current_password : ''
      const checked = await confirmPassword({ storage, passwords, throttle, events, log: request.log }, user, { password, clientIp: request.ip, addressKey: request.addressKey })
      if (checked.outcome === 'throttled') {
        reply.header('retry-after', String(checked.retryAfter))
        return showAccount(reply, signedIn, { message: { section: 'passkeys', text: 'Too many wrong passwords. Wait a minute, then try again.', status: 429 } })
      }
      if (checked.outcome === 'wrong') return showAccount(reply, signedIn, { message: { section: 'passkeys', text: 'Your current password is not right: nothing was removed.', status: 401 } })
    } else if (session.authTime < clock.now() - CHALLENGE_TTL_SECONDS) {
      return showAccount(reply, signedIn, { message: { section: 'passkeys', text: 'Sign out and in again, then remove it within 5 minutes.' } })
    }
    const id = typeof fields.id === 'string' ? fields.id : ''
    if (!await removePasskey(storage, user.id, id, clock.now())) return showAccount(reply, signedIn, { message: { section: 'passkeys', text: 'That passkey is not yours, or is gone already.' } })
    events.emit({ type: 'mfa_removed', userId: user.id, factorId: id, factor: 'passkey', ip: request.ip }, request.log)
    return doneRedirect(reply, 'passkey_removed')
  })
}

export default accountPasskeys

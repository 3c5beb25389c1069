import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { hasPassword } from '../../lib/accounts/account-access.js'
import { noSecretsKey, tooManyFactors } from '../../lib/errors.js'
import { confirmTotpEnrolment, removeApp, replaceRecoveryCodes, startTotpEnrolment } from '../../lib/mfa/enrolment.js'
import { reauthenticate, type Reauthentication } from '../../lib/mfa/reauthentication.js'
import type { SignedIn } from '../../lib/oauth/interaction.js'
import { confirmTotpSchema, regenerateRecoveryCodesSchema, removeTotpSchema, startTotpSchema } from '../../schemas/second-factors.js'
import { doneRedirect, showAccount, signedInOr } from './account-page.js'

/**
 * The account page's authenticator-app forms (the rules: lib/mfa/enrolment.ts): add an app (its secret shown
 * once, counting only once confirmed with a code), the recovery codes that come with the first factor, new
 * recovery codes, and removing an app. Changes to factors ask for the password (or, for new codes, a code) again.
 */
const accountFactors: FastifyPluginAsync = async (fastify) => {
  const { storage, secrets, clock, config, events, passwords, throttle } = fastify
  const deps = { storage, secrets, issuerName: config.issuerName }

  /** The answer to a failed re-authentication; undefined when it passed. */
  function refused (reply: FastifyReply, signedIn: SignedIn, proof: Reauthentication): Promise<FastifyReply> | undefined {
    if (proof === 'ok') return undefined
    if (proof === 'missing') return showAccount(reply, signedIn, { message: { section: 'factors', text: hasPassword(signedIn.user) ? 'Enter your current password.' : 'Enter a code.' } })
    if (proof === 'wrong') return showAccount(reply, signedIn, { message: { section: 'factors', text: 'That is not right.', status: 401 } })
    reply.header('retry-after', String(proof.throttled))
    return showAccount(reply, signedIn, { message: { section: 'factors', text: 'Too many wrong attempts. Wait a while, then try again.', status: 429 } })
  }

  fastify.post('/account/factors/totp', { schema: startTotpSchema, config: { browser: 'form' } }, async (request, reply) => {
    const signedIn = await signedInOr(request, reply)
    if (!signedIn) return reply
    const started = await startTotpEnrolment(deps, signedIn.user, { name: request.formFields().name, now: clock.now() })
    if (started.outcome === 'no_secrets_key') throw noSecretsKey()
    if (started.outcome === 'too_many') throw tooManyFactors()
    return showAccount(reply, signedIn, { factors: { enrolment: started.enrolment } })
  })

  fastify.post('/account/factors/totp/confirm', { schema: confirmTotpSchema, config: { browser: 'form' } }, async (request, reply) => {
    const signedIn = await signedInOr(request, reply)
    if (!signedIn) return reply
    const fields = request.formFields()
    const confirmed = await confirmTotpEnrolment(deps, signedIn.user, { factorId: fields.factor_id, code: fields.code, now: clock.now() })
    if (confirmed.outcome === 'wrong') {
      const text = confirmed.enrolment ? 'That code is not right: enter the one the app shows now.' : 'That setup expired: add the app again.'
      return showAccount(reply, signedIn, { message: { section: 'factors', text }, factors: { enrolment: confirmed.enrolment } })
    }
    events.emit({ type: 'mfa_enrolled', userId: signedIn.user.id, ip: request.ip, factor: 'totp' }, request.log)
    if (confirmed.recoveryCodes === undefined) return doneRedirect(reply, 'factor')
    return showAccount(reply, signedIn, { factors: { recoveryCodes: confirmed.recoveryCodes } })
  })

  fastify.post('/account/factors/recovery-codes', { schema: regenerateRecoveryCodesSchema, config: { browser: 'form' } }, async (request, reply) => {
    const signedIn = await signedInOr(request, reply)
    if (!signedIn) return reply
    const { user } = signedIn
    if (await storage.factors.countConfirmed(user.id) === 0) return showAccount(reply, signedIn, { message: { section: 'factors', text: 'Add an authenticator app first.' } })
    const fields = request.formFields()
    const proof = await reauthenticate({ storage, passwords, throttle, secrets, events, log: request.log }, user, {
      password: fields.current_password, code: fields.code, codeAllowed: true, clientIp: request.ip, addressKey: request.addressKey, now: clock.now()
    })
    const answer = refused(reply, signedIn, proof)
    if (answer) return answer
    const recoveryCodes = await replaceRecoveryCodes(storage, user, clock.now())
    events.emit({ type: 'mfa_enrolled', userId: user.id, ip: request.ip, factor: 'recovery_codes' }, request.log)
    return showAccount(reply, signedIn, { factors: { recoveryCodes } })
  })

  fastify.post('/account/factors/remove', { schema: removeTotpSchema, config: { browser: 'form' } }, async (request, reply) => {
    const signedIn = await signedInOr(request, reply)
    if (!signedIn) return reply
    const { user } = signedIn
    const fields = request.formFields()
    // The password, when the account has one: a code may come from the very app being removed.
    const proof = await reauthenticate({ storage, passwords, throttle, secrets, events, log: request.log }, user, {
      password: fields.current_password, code: fields.code, codeAllowed: !hasPassword(user), clientIp: request.ip, addressKey: request.addressKey, now: clock.now()
    })
    const answer = refused(reply, signedIn, proof)
    if (answer) return answer
    const removed = await removeApp(storage, user, fields.factor_id, clock.now())
    if (!removed) return showAccount(reply, signedIn, { message: { section: 'factors', text: 'That app is not one of yours (or was removed already).' } })
    events.emit({ type: 'mfa_removed', userId: user.id, ip: request.ip, factor: 'totp', factorId: removed.id }, request.log)
    return doneRedirect(reply, 'factor_removed')
  })
}

export default accountFactors

import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { STEP_UP_PATH, withReturnTo } from '../../lib/browser/return-to.js'
import { noSecretsKey, tooManyFactors } from '../../lib/errors.js'
import { withSecondFactor } from '../../lib/mfa/assurance.js'
import { confirmTotpEnrolment, pendingEnrolment, startTotpEnrolment, type TotpEnrolment } from '../../lib/mfa/enrolment.js'
import type { SignedIn } from '../../lib/oauth/interaction.js'
import { assetUrls } from '../../lib/browser/assets.js'
import { finishRegistration, startRegistration } from '../../lib/mfa/passkeys.js'
import { passkeyAmr } from '../../lib/mfa/webauthn.js'
import { loginEnrollConfirmSchema, loginEnrollPageSchema, loginEnrollStartSchema } from '../../schemas/second-factors.js'
import { passkeyEnrolOptionsSchema, passkeyEnrolSchema } from '../../schemas/passkeys.js'
import { NOT_ADDED } from './account-passkeys.js'
import { formTargets } from './pages.js'
import { passkeyBinding, passkeyCeremonyAllowed, passkeyDeps, spendPasskeyAttempt } from './passkeys.js'
import { factorReturnTo, loginFor } from './second-factor.js'

/**
 * /login/enroll?return_to=…: a signed-in user who must have a second factor (MFA=required, a client that requires
 * one, acr_values) and has none adds an authenticator app here, in the flow (the rules: lib/mfa/enrolment.ts, as
 * on the account page), sees the recovery codes once, and goes on with the session upgraded to two factors (a new
 * session, amr + otp + mfa, auth_time now: the app's first code was just entered). Or adds a passkey (as on the
 * account page: lib/mfa/passkeys.ts), the only way where authenticator apps cannot be added (PostgreSQL without
 * SECRETS_KEY): the session then gets amr + hwk/swk + mfa, the new key having just verified its user.
 */
const loginEnroll: FastifyPluginAsync = async (fastify) => {
  const { storage, secrets, clock, config } = fastify
  const deps = { storage, secrets, issuerName: config.issuerName }

  const show = async (reply: FastifyReply, signedIn: SignedIn, returnTo: string | null, more: { enrolment?: TotpEnrolment | undefined, message?: string, passkeyMessage?: string, recoveryCodes?: string[] } = {}, status?: number) =>
    reply.page('login-enroll', {
      csrf: reply.csrfToken(),
      username: signedIn.user.username,
      returnTo: returnTo ?? undefined,
      secretsAvailable: secrets !== undefined,
      continueHref: returnTo ?? '/login',
      scripts: assetUrls(),
      ...more
      // A confirmation may 303 on through /authorize to the client: CSP form-action must allow its origin. The
      // passkey button's scripts run with the page's nonce.
    }, { status, script: true, formTargets: formTargets((await reply.request.pendingAuthorization({ returnTo }))?.authz) })

  /** The signed-in user with no factor yet; otherwise the redirect that answers (nobody: login; a factor already: the factor page). */
  async function who (reply: FastifyReply, signedIn: SignedIn | undefined, returnTo: string | null): Promise<SignedIn | undefined> {
    if (!signedIn) await reply.redirect(loginFor(returnTo), 303)
    else if (await storage.factors.countConfirmed(signedIn.user.id) > 0) await reply.redirect(withReturnTo(STEP_UP_PATH, returnTo), 303)
    else return signedIn
    return undefined
  }

  fastify.get('/login/enroll', { schema: loginEnrollPageSchema, config: { browser: 'page' } }, async (request, reply) => {
    const returnTo = factorReturnTo((request.query as { return_to?: unknown }).return_to)
    const signedIn = await who(reply, await request.browserSession(), returnTo)
    if (!signedIn) return reply
    return show(reply, signedIn, returnTo, { enrolment: await pendingEnrolment(deps, signedIn.user, clock.now()) })
  })

  fastify.post('/login/enroll', { schema: loginEnrollStartSchema, config: { browser: 'form' } }, async (request, reply) => {
    const returnTo = factorReturnTo(request.formFields().return_to)
    const signedIn = await who(reply, await request.browserSession(), returnTo)
    if (!signedIn) return reply
    const started = await startTotpEnrolment(deps, signedIn.user, { now: clock.now() })
    if (started.outcome === 'no_secrets_key') throw noSecretsKey()
    if (started.outcome === 'too_many') throw tooManyFactors()
    return show(reply, signedIn, returnTo, { enrolment: started.enrolment })
  })

  fastify.post('/login/enroll/confirm', { schema: loginEnrollConfirmSchema, config: { browser: 'form' } }, async (request, reply) => {
    const fields = request.formFields()
    const returnTo = factorReturnTo(fields.return_to)
    const signedIn = await who(reply, await request.browserSession(), returnTo)
    if (!signedIn) return reply
    const confirmed = await confirmTotpEnrolment(deps, signedIn.user, { factorId: fields.factor_id, code: fields.code, now: clock.now() })
    if (confirmed.outcome === 'wrong') {
      return show(reply, signedIn, returnTo, { enrolment: confirmed.enrolment, message: confirmed.enrolment ? 'That code is not right: enter the one the app shows now.' : 'That setup expired: start again.' }, 400)
    }
    fastify.events.emit({ type: 'mfa_enrolled', userId: signedIn.user.id, ip: request.ip, factor: 'totp' }, request.log)
    const { session } = signedIn
    const upgraded = await reply.signIn(signedIn.user, { provider: session.provider, amr: withSecondFactor(session.amr, 'otp') })
    if (!upgraded) return reply.redirect(loginFor(returnTo), 303)
    if (confirmed.recoveryCodes === undefined) return reply.redirect(returnTo ?? '/login', 303)
    return show(reply, upgraded, returnTo, { recoveryCodes: confirmed.recoveryCodes })
  })

  fastify.post('/login/enroll/passkey/options', { schema: passkeyEnrolOptionsSchema, config: { browser: 'form' } }, async (request, reply) => {
    const signedIn = await who(reply, await request.browserSession(), null)
    if (!signedIn) return reply
    await passkeyCeremonyAllowed(request)
    return reply.send(await startRegistration(passkeyDeps(request), signedIn.user, passkeyBinding(request)))
  })

  fastify.post('/login/enroll/passkey', { schema: passkeyEnrolSchema, config: { browser: 'form' } }, async (request, reply) => {
    const fields = request.formFields()
    const returnTo = factorReturnTo(fields.return_to)
    const signedIn = await who(reply, await request.browserSession(), returnTo)
    if (!signedIn) return reply
    const result = await finishRegistration(passkeyDeps(request), signedIn.user, { response: fields.response, name: fields.name, binding: passkeyBinding(request) })
    if (result.outcome === 'refused') {
      await spendPasskeyAttempt(request)
      request.log.info({ reason: result.reason, detail: result.detail }, 'a passkey was not added (in-flow enrolment)')
      const passkeyMessage = NOT_ADDED[result.reason] ?? 'The passkey could not be checked (it must verify you, with a PIN or biometrics). Try again.'
      return show(reply, signedIn, returnTo, { enrolment: await pendingEnrolment(deps, signedIn.user, clock.now()), passkeyMessage }, 400)
    }
    fastify.events.emit({ type: 'passkey_registered', userId: signedIn.user.id, factorId: result.factor.id, ip: request.ip }, request.log)
    const { session } = signedIn
    const upgraded = await reply.signIn(signedIn.user, { provider: session.provider, amr: withSecondFactor(session.amr, passkeyAmr(result.factor.data?.deviceType)) })
    return reply.redirect(upgraded ? returnTo ?? '/login' : loginFor(returnTo), 303)
  })
}

export default loginEnroll

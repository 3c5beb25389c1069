import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { localReturnTo } from '../../lib/browser/return-to.js'
import { PageError, tooManyRequests } from '../../lib/errors.js'
import { finishAssertion, startSecondFactor, startSignIn, type PasskeyDeps } from '../../lib/mfa/passkeys.js'
import { passkeyLimits, passkeySignInAmr, relyingParty } from '../../lib/mfa/webauthn.js'
import { passwordFormAllowed } from '../../lib/oauth/sign-in-methods.js'
import { passkeyFactorOptionsSchema, passkeyFactorSchema, passkeySignInOptionsSchema, passkeySignInSchema } from '../../schemas/passkeys.js'
import { showLogin, signedIn } from './pages.js'
import { factorState, loginFor, secondFactorPassed, showFactorPage } from './second-factor.js'

/** The browser's binding for a challenge: its CSRF cookie, which the form's CSRF check has just matched against the field. */
export const passkeyBinding = (request: FastifyRequest): string => String(request.formFields().csrf)

/** The passkey ceremonies started and failed from this address (lib/mfa/webauthn.ts passkeyLimits): seconds to wait, or undefined. */
export const spendPasskeyAttempt = (request: FastifyRequest): Promise<number | undefined> => request.server.throttle.take(passkeyLimits(request.addressKey))

/** Refused for the address: the 429 page (the options request's script shows its own words). */
export async function passkeyCeremonyAllowed (request: FastifyRequest): Promise<void> {
  const wait = await spendPasskeyAttempt(request)
  if (wait !== undefined) throw tooManyRequests(wait, 'too many passkey attempts from this address; wait a minute, then try again')
}

/** The relying party and the store the ceremonies need (lib/mfa/passkeys.ts). */
export const passkeyDeps = (request: FastifyRequest): PasskeyDeps => {
  const { storage, clock, config } = request.server
  return { storage, clock, rp: relyingParty(config.issuer, config.issuerName) }
}

/**
 * The login page's "Sign in with a passkey" (and its conditional UI in the username field): a discoverable
 * credential, user verification required, no username and no password. A verified assertion ends as the login form
 * does (pages.ts signedIn), with a session whose `amr` says two factors (a passkey with its user verified). And the
 * same button on the second-factor page (/login/factor): one of that user's passkeys after the password (or on top
 * of a session, a step-up), ending as a right code does (second-factor.ts secondFactorPassed: `hwk` or `swk`).
 */
const passkeys: FastifyPluginAsync = async (fastify) => {
  const { events } = fastify

  fastify.post('/login/passkey/options', { schema: passkeySignInOptionsSchema, config: { browser: 'form' } }, async (request, reply) => {
    await passkeyCeremonyAllowed(request)
    return reply.send(await startSignIn(passkeyDeps(request), passkeyBinding(request)))
  })

  fastify.post('/login/passkey', { schema: passkeySignInSchema, config: { browser: 'form' } }, async (request, reply) => {
    const pending = await request.pendingAuthorization()
    const local = localReturnTo(request.formFields().return_to)
    const { authz } = pending ?? {}
    const returnTo = pending?.returnTo ?? local
    // A client that signs its users in through providers only takes no local sign-in, a passkey's neither.
    if (!passwordFormAllowed(authz?.client)) throw new PageError('access_denied', 'this application signs you in through its sign-in providers only', 403)
    const result = await finishAssertion(passkeyDeps(request), { response: request.formFields().response, binding: passkeyBinding(request), userId: null })
    if (result.outcome === 'refused') {
      events.emit({ type: 'mfa_failed', factor: 'passkey', reason: result.reason, ip: request.ip, ...(result.detail ? { detail: result.detail.slice(0, 200) } : {}) }, request.log)
      // A failure counts once more toward the address's ceremonies.
      const wait = await spendPasskeyAttempt(request)
      if (wait !== undefined) {
        reply.header('retry-after', String(wait))
        return showLogin(reply, { returnTo, authz, message: 'Too many failed attempts. Wait a minute, then try again.', status: 429 })
      }
      return showLogin(reply, { returnTo, authz, message: 'That passkey was not accepted. Try again, or sign in with your password.', status: 401 })
    }
    events.emit({ type: 'passkey_signin', userId: result.user.id, factorId: result.factor.id, amr: result.amr, step: 'signin', ip: request.ip }, request.log)
    return signedIn(reply, result.user, { provider: null, amr: passkeySignInAmr(result.amr) }, pending, undefined, local)
  })

  fastify.post('/login/factor/passkey/options', { schema: passkeyFactorOptionsSchema, config: { browser: 'form' } }, async (request, reply) => {
    const state = await factorState(request)
    if (!state) return reply.redirect(loginFor(null), 303)
    await passkeyCeremonyAllowed(request)
    return reply.send(await startSecondFactor(passkeyDeps(request), state.user.id, passkeyBinding(request)))
  })

  fastify.post('/login/factor/passkey', { schema: passkeyFactorSchema, config: { browser: 'form' } }, async (request, reply) => {
    const state = await factorState(request)
    // The password step expired (or the user changed): start over at the password.
    if (!state) return reply.redirect(loginFor(null), 303)
    const result = await finishAssertion(passkeyDeps(request), { response: request.formFields().response, binding: passkeyBinding(request), userId: state.user.id })
    if (result.outcome === 'refused') {
      events.emit({ type: 'mfa_failed', factor: 'passkey', userId: state.user.id, reason: result.reason, ip: request.ip, ...(result.detail ? { detail: result.detail.slice(0, 200) } : {}) }, request.log)
      const wait = await spendPasskeyAttempt(request)
      if (wait !== undefined) {
        reply.header('retry-after', String(wait))
        return showFactorPage(reply, state, 'Too many failed attempts. Wait a minute, then try again.', 429)
      }
      return showFactorPage(reply, state, 'That passkey was not accepted. Try again, or enter a code.', 401)
    }
    events.emit({ type: 'passkey_signin', userId: result.user.id, factorId: result.factor.id, amr: result.amr, step: 'second-factor', ip: request.ip }, request.log)
    return secondFactorPassed(request, reply, state, result.amr)
  })
}

export default passkeys

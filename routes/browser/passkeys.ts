import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { localReturnTo } from '../../lib/browser/return-to.js'
import { PageError, tooManyRequests } from '../../lib/errors.js'
import { finishAssertion, startSecondFactor, startSignIn, type PasskeyDeps, type Refused } from '../../lib/mfa/passkeys.js'
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
 * An assertion refused (the login page's or the second-factor page's): the event, one more ceremony spent from
 * this address; then `show` the page again, 429 with Retry-After past the address's limit, else 401 with `again`.
 */
async function refusedAssertion (request: FastifyRequest, reply: FastifyReply, refusal: Refused, userId: string | undefined,
  show: (message: string, status: number) => Promise<FastifyReply>, again: string): Promise<FastifyReply> {
  const { reason, detail } = refusal
  request.server.events.emit({ type: 'mfa_failed', factor: 'passkey', ...(userId === undefined ? {} : { userId }), reason, ip: request.ip, ...(detail ? { detail: detail.slice(0, 200) } : {}) }, request.log)
  const wait = await spendPasskeyAttempt(request)
  if (wait === undefined) return show(again, 401)
  reply.header('retry-after', String(wait))
  return show('Too many failed attempts. Wait a minute, then try again.', 429)
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
      return refusedAssertion(request, reply, result, undefined, (message, status) => showLogin(reply, { returnTo, authz, message, status }),
        'That passkey was not accepted. Try again, or sign in with your password.')
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
      return refusedAssertion(request, reply, result, state.user.id, (message, status) => showFactorPage(reply, state, message, status),
        'That passkey was not accepted. Try again, or enter a code.')
    }
    events.emit({ type: 'passkey_signin', userId: result.user.id, factorId: result.factor.id, amr: result.amr, step: 'second-factor', ip: request.ip }, request.log)
    return secondFactorPassed(request, reply, state, result.amr)
  })
}

export default passkeys

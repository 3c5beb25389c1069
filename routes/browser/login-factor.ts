import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { ENROL_PATH, withReturnTo } from '../../lib/browser/return-to.js'
import { checkSecondFactorCode } from '../../lib/mfa/second-factor.js'
import { usedTwoFactors } from '../../lib/mfa/assurance.js'
import { loginFactorPageSchema, loginFactorSchema } from '../../schemas/second-factors.js'
import { factorState, loginFor, secondFactorPassed, showFactorPage as show, type FactorState } from './second-factor.js'

/** The longest input worth checking: a code or a recovery code, with room for spaces. Anything longer is wrong. */
const MAX_CODE_INPUT = 64

/**
 * GET and POST /login/factor: the second factor after the password (or on top of an existing session: step-up),
 * as a code from an authenticator app or a recovery code (lib/mfa/second-factor.ts: counted against the account's
 * brute-force limit, each code good once). What comes before and after: second-factor.ts.
 */
const loginFactor: FastifyPluginAsync = async (fastify) => {
  const { storage, throttle, events, secrets, clock } = fastify

  /** A step-up that has nothing to do here: two factors already (on), or no factor to ask for (enrol one first). */
  async function stepUpElsewhere (reply: FastifyReply, state: FactorState & { mode: 'step-up' }): Promise<FastifyReply | undefined> {
    if (usedTwoFactors(state.signedIn.session.amr)) return reply.redirect(state.returnTo ?? '/login', 303)
    if (await storage.factors.countConfirmed(state.user.id) === 0) return reply.redirect(withReturnTo(ENROL_PATH, state.returnTo), 303)
    return undefined
  }

  fastify.get('/login/factor', { schema: loginFactorPageSchema, config: { browser: 'page' } }, async (request, reply) => {
    const state = await factorState(request)
    if (!state) return reply.redirect(loginFor(null), 303)
    if (state.mode === 'step-up') {
      const elsewhere = await stepUpElsewhere(reply, state)
      if (elsewhere) return elsewhere
    }
    return show(reply, state)
  })

  fastify.post('/login/factor', { schema: loginFactorSchema, config: { browser: 'form' } }, async (request, reply) => {
    const state = await factorState(request)
    // The step expired (or the user changed): start over at the password.
    if (!state) return reply.redirect(loginFor(null), 303)
    if (state.mode === 'step-up') {
      const elsewhere = await stepUpElsewhere(reply, state)
      if (elsewhere) return elsewhere
    }
    const code = request.formFields().code
    if (typeof code !== 'string' || code.trim() === '') return show(reply, state, 'Enter the code.', 400)
    const pending = await request.pendingAuthorization({ returnTo: state.returnTo })
    const check = await checkSecondFactorCode({ storage, throttle, secrets, events, log: request.log }, state.user, {
      code: code.length > MAX_CODE_INPUT ? '' : code,
      clientIp: request.ip,
      addressKey: request.addressKey,
      clientId: pending?.authz.client.id ?? '(login page)',
      now: clock.now()
    })
    if (check.outcome === 'throttled') {
      reply.header('retry-after', String(check.retryAfter))
      return show(reply, state, 'Too many wrong codes. Wait a while, then try again.', 429)
    }
    if (check.outcome === 'wrong') return show(reply, state, 'That code is not right, or was used already. Try the next one your app shows.', 401)
    return secondFactorPassed(request, reply, state, 'otp')
  })
}

export default loginFactor

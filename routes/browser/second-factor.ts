import type { FastifyReply, FastifyRequest } from 'fastify'
import { localReturnTo, withReturnTo } from '../../lib/browser/return-to.js'
import { safeReturnTo, type Query } from '../../lib/oauth/authorize.js'
import type { SignedIn } from '../../lib/oauth/interaction.js'
import { PASSWORD_SIGN_IN, type SignInMethod } from '../../lib/oauth/sign-in-methods.js'
import { withSecondFactor, type SecondFactorAmr } from '../../lib/mfa/assurance.js'
import type { User } from '../../lib/stores/types.js'
import { assetUrls } from '../../lib/browser/assets.js'
import { passkeysOf } from '../../lib/mfa/passkeys.js'
import { formTargets, showLogin, signedIn } from './pages.js'

/**
 * What the second-factor pages share (not a route file): who is being asked for a second factor, and the one ending
 * of a second factor passed. Two ways to arrive (docs/second-factors.md):
 * - `password`: POST /login found the password right for a user with a factor and left a password step
 *   (lib/mfa/password-step.ts), no session;
 * - `step-up`: a session that used one factor, sent here by /authorize (the mfa prompt) to add the second.
 * The TOTP/recovery-code form (login-factor.ts) and the passkey (the passkey routes) both end in secondFactorPassed.
 */
export type FactorState =
  | { mode: 'password', user: User, returnTo: string | null }
  | { mode: 'step-up', user: User, signedIn: SignedIn, returnTo: string | null }

/** A return_to this flow may carry: a pending /authorize path, or a page of ours (/account). */
export const factorReturnTo = (value: unknown): string | null => safeReturnTo(value) ?? localReturnTo(value) ?? null

/**
 * Who this browser is finishing a sign-in for: a password step (it wins: the newest thing the browser did), else
 * the session; undefined when neither. In step-up mode `return_to` comes from the request (query or form).
 */
export async function factorState (request: FastifyRequest): Promise<FactorState | undefined> {
  const step = await request.passwordStep()
  if (step) return { mode: 'password', user: step.user, returnTo: step.returnTo }
  const session = await request.browserSession()
  if (!session) return undefined
  const own = request.method === 'POST' ? request.formFields().return_to : (request.query as Query).return_to
  return { mode: 'step-up', user: session.user, signedIn: session, returnTo: factorReturnTo(own) }
}

/** Where a browser with no sign-in to finish goes: the login page, keeping the request. */
export const loginFor = (returnTo: string | null): string => withReturnTo('/login', returnTo)

/**
 * The second factor was right: a new session (new id, new CSRF token, the password step forgotten) whose `amr`
 * adds the factor and `mfa` (lib/mfa/assurance.ts), `auth_time` now; then on as every sign-in goes on
 * (pages.ts signedIn): to the client, the consent page, or the page the sign-in was for. When the user changed
 * meanwhile (a new password, a disable) nothing starts and the login page asks again.
 */
export async function secondFactorPassed (request: FastifyRequest, reply: FastifyReply, state: FactorState, factor: SecondFactorAmr): Promise<FastifyReply> {
  const first: SignInMethod = state.mode === 'password' ? PASSWORD_SIGN_IN : { provider: state.signedIn.session.provider, amr: state.signedIn.session.amr }
  const method: SignInMethod = { provider: first.provider, amr: withSecondFactor(first.amr, factor) }
  const pending = await request.pendingAuthorization({ returnTo: state.returnTo })
  reply.endPasswordStep()
  const again = () => showLogin(reply, { returnTo: pending?.returnTo ?? localReturnTo(state.returnTo), authz: pending?.authz, message: 'Your account changed meanwhile: sign in again.', status: 401 })
  return signedIn(reply, state.user, method, pending, again, localReturnTo(state.returnTo) ?? '/login')
}

/**
 * The second-factor page (/login/factor): the code form, and "Sign in with a passkey" when the user has one (its
 * scripts with the page's nonce), with `message` and `status` after a refusal.
 */
export async function showFactorPage (reply: FastifyReply, state: FactorState, message?: string, status?: number): Promise<FastifyReply> {
  const hasPasskey = (await passkeysOf(reply.server.storage, state.user.id)).length > 0
  return reply.page('login-factor', {
    csrf: reply.csrfToken(),
    returnTo: state.returnTo ?? undefined,
    username: state.user.username,
    stepUp: state.mode === 'step-up',
    loginHref: loginFor(state.returnTo),
    message,
    passkeys: hasPasskey ? assetUrls() : undefined
    // The right code 303s on to the client: CSP form-action must allow its origin (as on the login page).
  }, { status, formTargets: formTargets((await reply.request.pendingAuthorization({ returnTo: state.returnTo }))?.authz), script: hasPasskey })
}

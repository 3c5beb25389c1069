import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { completeSignup, type PendingSignup } from '../../lib/accounts/signup.js'
import { badAuthorizationRequest, PageError } from '../../lib/errors.js'
import { PASSWORD_SIGN_IN } from '../../lib/oauth/sign-in-methods.js'
import type { PendingAuthorization } from '../../plugins/browser-session.js'
import { signupConfirmSchema } from '../../schemas/accounts.js'
import { signedIn } from './pages.js'

/** The request a sign-up continues, if it still stands (its client may be gone: the account is made either way). */
async function pendingOf (request: FastifyRequest, returnTo: string | null): Promise<PendingAuthorization | undefined> {
  try {
    return await request.pendingAuthorization({ returnTo })
  } catch (err) {
    request.log.info({ err }, 'sign-up: the pending authorization request no longer stands')
    return undefined
  }
}

/**
 * The page a sign-up link opens (GET /verify-email, accounts.ts): one button; the GET itself changes nothing. Its
 * form 303s on to the client, so the client's origin is a form target (CSP form-action), as on the login page.
 */
export async function showSignupConfirm (request: FastifyRequest, reply: FastifyReply, token: string, signup: PendingSignup): Promise<FastifyReply> {
  const pending = await pendingOf(request, signup.returnTo)
  const formTargets = pending ? [new URL(pending.authz.redirectUri).origin] : []
  return reply.page('signup-confirm', { username: signup.username, email: signup.email, token, csrf: reply.csrfToken() }, { formTargets })
}

/** As accounts.ts says of every bad link: a used one reads as an unknown one. */
const badLink = () => badAuthorizationRequest('This link does not work: it was used already or has expired. Sign up again.')

/**
 * The confirmation page's button: uses the sign-up link, makes the account (lib/accounts/signup.ts), signs its
 * owner in and continues the /authorize request the sign-up began, as the login form does (pages.ts signedIn).
 * A POST, with the CSRF field: a mail scanner fetching the link never makes an account.
 */
const signupConfirm: FastifyPluginAsync = async (fastify) => {
  const { storage, clock, events } = fastify

  fastify.post('/verify-email', { schema: signupConfirmSchema, config: { browser: 'form' } }, async (request, reply) => {
    const outcome = await completeSignup(storage, request.formFields().token, clock.now())
    if (outcome.kind === 'bad_link') throw badLink()
    if (outcome.kind === 'username_taken') throw new PageError('invalid_request', 'That username was taken meanwhile. Sign up again with another one.', 409)
    if (outcome.kind === 'email_taken') throw new PageError('invalid_request', 'This e-mail address has an account already. Sign in, or reset its password.', 409)
    const { user, returnTo } = outcome
    events.emit({ type: 'signup', userId: user.id, ip: request.ip }, request.log)
    // The password was chosen by this person on the form (RFC 8176 `pwd`); on to the request the sign-up began.
    return signedIn(reply, user, PASSWORD_SIGN_IN, await pendingOf(request, returnTo))
  })
}

export default signupConfirm

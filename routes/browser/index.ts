import type { FastifyError, FastifyPluginAsync } from 'fastify'
import browserSession from '../../plugins/browser-session.js'
import { AuthorizationError, GatehouseError, NoSuchEndpointError } from '../../lib/errors.js'
import { fromFrameworkError } from '../../lib/http/framework-errors.js'
import { responseTo } from '../../lib/oauth/authorize.js'
import { spendPushedRequest } from '../../lib/oauth/pushed-requests.js'
import account from './account.js'
import accountAccess from './account-access.js'
import accountPasskeys from './account-passkeys.js'
import accountFactors from './account-factors.js'
import accounts from './accounts.js'
import authorize from './authorize.js'
import consent from './consent.js'
import device from './device.js'
import invitation from './invitation.js'
import forgotPassword from './forgot-password.js'
import login from './login.js'
import loginEnroll from './login-enroll.js'
import loginFactor from './login-factor.js'
import logout from './logout.js'
import passkeys from './passkeys.js'
import signup from './signup.js'
import signupConfirm from './signup-confirm.js'
import { answerClient } from './pages.js'
import resetPassword from './reset-password.js'
import upstream from './upstream.js'

/**
 * The browser pages, one file each: GET /authorize (authorize.ts), the login form (login.ts), sign-in through
 * upstream providers (upstream.ts), the consent form (consent.ts), logout (logout.ts), the pages mailed links open
 * (accounts.ts) and the account page (account.ts, account-access.ts). They share one
 * encapsulated context: the browser session (plugins/browser-session.ts: cookies, the session, the pending
 * authorization request, CSRF on every `browser: 'form'` route) and the error pages below apply to them and to
 * nothing else. The decision what comes next is lib/oauth/interaction.ts; the rules of the request are
 * lib/oauth/authorize.ts. A new page is a file here, registered below.
 */
const browserPages: FastifyPluginAsync = async (fastify) => {
  const { config: { issuer }, storage, clock } = fastify

  // An HTML page for every failure; an answer back to the client (a redirect, or a form posting it) only for an
  // AuthorizationError, whose target was checked (RFC 6749 §4.1.2.1); a path that names nothing is answered as any
  // unknown path (JSON).
  fastify.setErrorHandler(async (err: FastifyError | GatehouseError, request, reply) => {
    if (err instanceof AuthorizationError) {
      // An error ends a pushed request's sign-in as a code does (RFC 9126): spent first, or an error page when another answer did.
      try {
        await spendPushedRequest(storage.pushedRequests, err.pushed, clock.now())
      } catch (spent) {
        if (!(spent instanceof GatehouseError)) throw spent
        return reply.page('error', { error: spent.error, description: spent.message }, { status: spent.statusCode })
      }
      return answerClient(reply, responseTo(err, { error: err.error, error_description: err.message, state: err.state, iss: issuer }))
    }
    // The app's error handler answers it (JSON 404, as for any unknown path): not the not-found handler, which
    // would call it a wrong method of /login/{name}.
    if (err instanceof NoSuchEndpointError) throw err
    const known = err instanceof GatehouseError ? err : fromFrameworkError(err, false)
    if (!known) {
      request.log.error({ err }, 'a browser request failed')
      return reply.page('error', { error: 'server_error', description: 'Something went wrong on our side. Try again in a moment.' }, { status: 500 })
    }
    for (const [name, value] of Object.entries(known.headers)) if (name !== 'cache-control') reply.header(name, value)
    return reply.page('error', { error: known.error, description: known.message }, { status: known.statusCode })
  })

  await fastify.register(browserSession)
  for (const page of [authorize, login, loginFactor, loginEnroll, passkeys, upstream, consent, device, logout, accounts, account, accountAccess, accountFactors, accountPasskeys, invitation, signup, signupConfirm, forgotPassword, resetPassword]) await fastify.register(page)
}

export default browserPages

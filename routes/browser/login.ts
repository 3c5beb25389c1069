import type { FastifyPluginAsync } from 'fastify'
import { OAuthError, PageError } from '../../lib/errors.js'
import { localReturnTo, STEP_UP_PATH, withReturnTo } from '../../lib/browser/return-to.js'
import { safeReturnTo, type Query } from '../../lib/oauth/authorize.js'
import { signIn } from '../../lib/oauth/sign-in.js'
import { PASSWORD_SIGN_IN, passwordFormAllowed } from '../../lib/oauth/sign-in-methods.js'
import type { User } from '../../lib/stores/types.js'
import { loginPageSchema, loginSchema } from '../../schemas/browser.js'
import { showLogin, signedIn } from './pages.js'

/**
 * The login page and its form. The password rules are the password grant's (lib/oauth/sign-in.ts: limits
 * decided before any hash, one answer for an unknown user, a wrong password and a disabled user).
 */
const login: FastifyPluginAsync = async (fastify) => {
  const { storage, passwords, throttle, events } = fastify

  fastify.get('/login', { schema: loginPageSchema, config: { browser: 'page' } }, async (request, reply) => {
    const session = await request.browserSession()
    const returnTo = safeReturnTo((request.query as Query).return_to)
    // A page of ours that asked for a sign-in (the account page): straight back when signed in already.
    const local = localReturnTo((request.query as Query).return_to)
    if (session && local !== undefined) return reply.redirect(local, 303)
    if (session && returnTo === undefined) return reply.page('signed-in', { username: session.user.username, csrf: reply.csrfToken() })
    return showLogin(reply, { returnTo: returnTo ?? local })
  })

  fastify.post('/login', { schema: loginSchema, config: { browser: 'form' } }, async (request, reply) => {
    const pending = await request.pendingAuthorization()
    const local = localReturnTo(request.formFields().return_to)
    const { authz } = pending ?? {}
    const returnTo = pending?.returnTo ?? local
    // A client that signs its users in through providers only: no password is checked for its requests.
    if (!passwordFormAllowed(authz?.client)) throw new PageError('access_denied', 'this application signs you in through its sign-in providers only', 403)
    const { username, password } = request.formFields()
    if (typeof username !== 'string' || typeof password !== 'string' || username === '' || password === '') {
      return showLogin(reply, { returnTo, authz, username: typeof username === 'string' ? username : undefined, message: 'Enter your username and password.', status: 400 })
    }
    let user: User
    try {
      user = await signIn({ storage, passwords, throttle, log: request.log, events }, { username, password, clientIp: request.ip, addressKey: request.addressKey, clientId: authz?.client.id ?? '(login page)' })
    } catch (err) {
      if (err instanceof OAuthError && err.error === 'invalid_grant') {
        return showLogin(reply, { returnTo, authz, username, message: 'Invalid username or password.', status: 401 })
      }
      if (err instanceof OAuthError && err.error === 'too_many_requests') {
        reply.header('retry-after', err.headers['retry-after'] ?? '60')
        return showLogin(reply, { returnTo, authz, username, message: 'Too many failed attempts. Wait a minute, then try again.', status: 429 })
      }
      throw err
    }
    // A second factor to come (docs/second-factors.md): no session yet, only a sealed password step for this browser.
    if (await storage.factors.countConfirmed(user.id) > 0) {
      reply.startPasswordStep(user, returnTo ?? null)
      return reply.redirect(withReturnTo(STEP_UP_PATH, returnTo), 303)
    }
    // The user changed while the password was checked (a new one, or disabled): the one just entered is wrong now.
    const wrongNow = () => showLogin(reply, { returnTo, authz, username, message: 'Invalid username or password.', status: 401 })
    return signedIn(reply, user, PASSWORD_SIGN_IN, pending, wrongNow, local)
  })
}

export default login

import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { checkSignupForm, requestSignup, SignupsFullError, usernameTaken } from '../../lib/accounts/signup.js'
import { takeAccountLimit } from '../../lib/accounts/limits.js'
import { PageError, temporarilyUnavailable, tooManyRequests } from '../../lib/errors.js'
import { OutboxFullError } from '../../lib/ops/outbox.js'
import { safeReturnTo, type Query } from '../../lib/oauth/authorize.js'
import { signupFormSchema, signupPageSchema } from '../../schemas/accounts.js'

interface SignupPage {
  returnTo?: string | undefined
  username?: string
  email?: string
  fullName?: string
  field?: string
  message?: string
  status?: number
}

/** SIGNUP=off: both routes are the page Keycloak shows for a closed registration, a 404 (nothing to find here). */
const notOpen = () => new PageError('invalid_request', 'sign-up is not open: ask an administrator for an account', 404)
/** Over a limit, or too many waiting: nothing was sent or stored (the error page, 429 with Retry-After). */
const tryLater = (seconds: number) => tooManyRequests(seconds, 'too many sign-ups from here or for this address; try again later')

/**
 * The sign-up page (SIGNUP=open): a form whose answer, once the username is free, is "check your e-mail" whatever
 * the address, after the same work: the request is only checked, hashed and stored here, and answered outside it
 * (lib/accounts/signup.ts has the rules, plugins/account-requests.ts why; the account is made at POST
 * /verify-email: signup-confirm.ts).
 */
const signup: FastifyPluginAsync = async (fastify) => {
  const { config, storage, passwords, throttle, accountRequests, clock } = fastify

  function showForm (reply: FastifyReply, page: SignupPage): Promise<FastifyReply> {
    const query = page.returnTo === undefined ? '' : `?return_to=${encodeURIComponent(page.returnTo)}`
    return reply.page('signup', { ...page, csrf: reply.csrfToken(), loginHref: `/login${query}` }, { status: page.status })
  }

  fastify.get('/signup', { schema: signupPageSchema, config: { browser: 'page' } }, async (request, reply) => {
    if (config.signup !== 'open') throw notOpen()
    return showForm(reply, { returnTo: safeReturnTo((request.query as Query).return_to) })
  })

  // The queued sign-up is answered once the answer is out (plugins/account-requests.ts), never inside it.
  const onResponse = async () => accountRequests.nudge()
  fastify.post('/signup', { schema: signupFormSchema, config: { browser: 'form' }, onResponse }, async (request, reply) => {
    if (config.signup !== 'open') throw notOpen()
    const fields = request.formFields()
    const check = checkSignupForm({ username: fields.username, email: fields.email, password: fields.password, fullName: fields.full_name, returnTo: fields.return_to })
    const typed = (value: unknown) => typeof value === 'string' ? value.slice(0, 256) : undefined
    const again = { returnTo: safeReturnTo(fields.return_to), username: typed(fields.username), email: typed(fields.email), fullName: typed(fields.full_name), status: 400 }
    if (!check.ok) return showForm(reply, { ...again, field: check.field, message: check.message })
    const { request: wanted } = check
    // The one thing the form says about other accounts (CONTRACT.md): a username is public, an e-mail is not.
    if (await usernameTaken(storage, wanted.username)) {
      return showForm(reply, { ...again, field: 'username', message: `The username ${wanted.username} is taken. Choose another.` })
    }
    const wait = await takeAccountLimit(throttle, 'signup', request.addressKey, wanted.email)
    if (wait !== undefined) throw tryLater(wait)
    try {
      await requestSignup({ storage, passwords, queue: accountRequests.signUp }, wanted, clock.now())
    } catch (err) {
      if (err instanceof SignupsFullError || err instanceof OutboxFullError) {
        request.log.warn({ reason: err.message }, 'sign-up refused: too many waiting')
        throw temporarilyUnavailable(3600, 'too many sign-ups are waiting right now; try again later')
      }
      throw err
    }
    return reply.page('signup-sent', { email: wanted.email })
  })
}

export default signup

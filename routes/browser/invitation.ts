import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { acceptInvitation, addressTaken, choiceProblem, type AccountChoice, type AcceptRefusal } from '../../lib/accounts/invitations.js'
import { findLink } from '../../lib/accounts/links.js'
import { badAuthorizationRequest, PageError } from '../../lib/errors.js'
import { safeReturnTo, type Query } from '../../lib/oauth/authorize.js'
import { PASSWORD_SIGN_IN } from '../../lib/oauth/sign-in-methods.js'
import { acceptInvitationSchema, invitationPageSchema } from '../../schemas/invitations.js'
import { signedIn } from './pages.js'

/** Every link that does not work gets this one page: nothing tells a used link from a revoked or unknown one. */
const BAD_LINK = 'This invitation link does not work: it was used already, revoked, or has expired. Ask for a new invitation.'

const REFUSED: Record<AcceptRefusal, string> = {
  link: BAD_LINK,
  username_taken: 'Someone took this username just before you, and the invitation is used up. Ask for a new invitation.',
  email_taken: 'An account with this e-mail address exists already: sign in with it, or reset its password.'
}

const text = (value: unknown): string | undefined => typeof value === 'string' ? value : undefined

/**
 * The page an invitation's link opens (lib/accounts/invitations.ts: the rules): choose a username and a password,
 * then the account exists, its address verified, and the browser is signed in, on to the pending authorization
 * request when the page carried one (`return_to`), else the signed-in page.
 */
const invitation: FastifyPluginAsync = async (fastify) => {
  const { storage, passwords, clock, events } = fastify

  interface Form { token: string, email: string, returnTo?: string | undefined, username?: string | undefined, fullName?: string | undefined, message?: string }
  const showForm = (reply: FastifyReply, form: Form, status = 200) => reply.page('invitation', { ...form, csrf: reply.csrfToken() }, { status })

  fastify.get('/invitation', { schema: invitationPageSchema, config: { browser: 'page' } }, async (request, reply) => {
    const query = request.query as Query
    const link = await findLink(storage.accountLinks, query.token, 'invitation', clock.now())
    if (link?.email == null) throw badAuthorizationRequest(BAD_LINK)
    if (await addressTaken(storage, link.email)) throw badAuthorizationRequest(REFUSED.email_taken)
    return showForm(reply, { token: String(query.token), email: link.email, returnTo: safeReturnTo(query.return_to) })
  })

  fastify.post('/invitation', { schema: acceptInvitationSchema, config: { browser: 'form' } }, async (request, reply) => {
    const fields = request.formFields()
    const token = text(fields.token)
    const link = await findLink(storage.accountLinks, token, 'invitation', clock.now())
    if (token === undefined || link?.email == null) throw badAuthorizationRequest(BAD_LINK)
    const pending = await request.pendingAuthorization()
    const choice: AccountChoice = {
      username: text(fields.username) ?? '',
      password: text(fields.password) ?? '',
      passwordConfirmation: text(fields.password_confirmation),
      fullName: text(fields.full_name)
    }
    const problem = await choiceProblem(storage, choice, link.email)
    if (problem !== undefined) {
      return showForm(reply, { token, email: link.email, returnTo: pending?.returnTo, username: choice.username, fullName: choice.fullName, message: problem }, 400)
    }
    const outcome = await acceptInvitation({ storage, passwords, now: clock.now() }, token, choice)
    if ('refused' in outcome) throw new PageError('invalid_request', REFUSED[outcome.refused], outcome.refused === 'link' ? 400 : 409)
    events.emit({ type: 'invitation_accepted', userId: outcome.user.id, invitationId: outcome.link.id, ip: request.ip }, request.log)
    return signedIn(reply, outcome.user, PASSWORD_SIGN_IN, pending)
  })
}

export default invitation

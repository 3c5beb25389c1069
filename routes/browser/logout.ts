import type { FastifyPluginAsync } from 'fastify'
import { badAuthorizationRequest } from '../../lib/errors.js'
import { redirectBack, type Query } from '../../lib/oauth/authorize.js'
import { decideLogout, namedClientId, type LogoutAsk, type LogoutHint } from '../../lib/oauth/rp-logout.js'
import { logoutFormSchema, logoutSchema } from '../../schemas/browser.js'
import { shownClient } from '../../lib/oauth/client-display.js'

function text (fields: Record<string, unknown>, name: string): string | undefined {
  const value = fields[name]
  return typeof value === 'string' ? value : undefined
}

/**
 * Signing out: OpenID Connect RP-Initiated Logout 1.0. What GET /logout does is decided by lib/oauth/rp-logout.ts:
 * an error page for a request that cannot be trusted (a hint that does not verify, an unregistered
 * post_logout_redirect_uri), the confirmation page (whose form posts to POST /logout with the CSRF token) when
 * the request is not tied to the signed-in session, else the sign-out. POST /logout (that form, and the signed-in
 * page's sign-out button) is CSRF-checked like every form. Ending the session tells the session's clients through
 * back-channel logout (the session store queues the messages).
 */
const logout: FastifyPluginAsync = async (fastify) => {
  const { storage, idTokens } = fastify

  async function readLogout (fields: Record<string, unknown>, hintSent: boolean, hint: LogoutHint | undefined): Promise<Omit<LogoutAsk, 'session'>> {
    const clientId = text(fields, 'client_id')
    const named = namedClientId(hint, clientId)
    const client = named === undefined ? undefined : await storage.clients.find(named)
    return { hintSent, hint, clientId, client, postLogoutRedirectUri: text(fields, 'post_logout_redirect_uri'), state: text(fields, 'state') }
  }

  fastify.get('/logout', { schema: logoutSchema, config: { browser: 'page' } }, async (request, reply) => {
    const query = request.query as Query
    const hintText = text(query, 'id_token_hint')
    const ask = await readLogout(query, hintText !== undefined, hintText === undefined ? undefined : idTokens.hint(hintText))
    const signedIn = await request.browserSession()
    const decision = decideLogout({ ...ask, session: signedIn && { userId: signedIn.user.id, sid: signedIn.session.sid ?? null } })
    if (decision.kind === 'error') throw badAuthorizationRequest(decision.description)
    if (decision.kind === 'confirm' && signedIn !== undefined) {
      const { target } = decision
      return reply.page('logout', {
        csrf: reply.csrfToken(),
        username: signedIn.user.username,
        clientId: decision.clientId,
        clientName: ask.client !== undefined && ask.client.id === decision.clientId ? shownClient(ask.client).name : undefined,
        postLogoutRedirectUri: target,
        state: decision.state
      }, { formTargets: target !== undefined && URL.canParse(target) ? [new URL(target).origin] : [] })
    }
    await reply.signOut()
    if (decision.target !== undefined) return reply.redirect(redirectBack(decision.target, { state: decision.state }), 303)
    return reply.page('signed-out', {})
  })

  fastify.post('/logout', { schema: logoutFormSchema, config: { browser: 'form' } }, async (request, reply) => {
    await reply.signOut()
    // The form's fields are checked again: a posted URI is held to the same registration as the query's (and one
    // that is not registered is simply not followed: the user asked to sign out, and is signed out).
    const decision = decideLogout({ ...await readLogout(request.formFields(), false, undefined), session: undefined })
    if (decision.kind === 'sign-out' && decision.target !== undefined) return reply.redirect(redirectBack(decision.target, { state: decision.state }), 303)
    return reply.page('signed-out', {})
  })
}

export default logout

import type { FastifyPluginAsync } from 'fastify'
import { redirectBack, type Query } from '../../lib/oauth/authorize.js'
import type { Client } from '../../lib/stores/types.js'
import { logoutFormSchema, logoutSchema } from '../../schemas/browser.js'

/** What a logout request names: the client (by its ID token or `client_id`), where to go after, and `state`. */
interface LogoutRequest { client: Client | undefined, target: string | undefined, state: string | undefined }

function text (fields: Record<string, unknown>, name: string): string | undefined {
  const value = fields[name]
  return typeof value === 'string' ? value : undefined
}

/**
 * Signing out: OpenID Connect RP-Initiated Logout 1.0. GET /logout ends the session at once only when the
 * request is tied to it: an `id_token_hint` this issuer signed for the signed-in user, naming an existing
 * client. Anything else (no hint, another user's, a client that is gone) could be a cross-site link, so the user
 * is asked first (§2: the OP SHOULD ask whether to log out) with the confirmation page, whose form posts to POST
 * /logout with the CSRF token and carries `post_logout_redirect_uri` and `state` on when they are allowed. POST
 * /logout (that form, and the signed-in page's sign-out button) is CSRF-checked like every form.
 */
const logout: FastifyPluginAsync = async (fastify) => {
  const { storage, idTokens } = fastify

  /**
   * §3: the return target only when registered for the client the request names, matched exactly (never another
   * URI, never a prefix); a `client_id` that contradicts the hint's audience names no client.
   */
  async function readLogout (fields: Record<string, unknown>, hintedAud: string | undefined): Promise<LogoutRequest> {
    const clientId = text(fields, 'client_id')
    const named = hintedAud !== undefined && clientId !== undefined && clientId !== hintedAud ? undefined : hintedAud ?? clientId
    const client = named === undefined ? undefined : await storage.clients.find(named)
    const wanted = text(fields, 'post_logout_redirect_uri')
    const target = wanted !== undefined && client?.postLogoutRedirectUris.includes(wanted) ? wanted : undefined
    return { client, target, state: target === undefined ? undefined : text(fields, 'state') }
  }

  fastify.get('/logout', { schema: logoutSchema, config: { browser: 'page' } }, async (request, reply) => {
    const query = request.query as Query
    const hint = text(query, 'id_token_hint')
    const hinted = hint === undefined ? undefined : idTokens.hint(hint)
    const wanted = await readLogout(query, hinted?.aud)
    const signedIn = await request.browserSession()
    const tied = hinted !== undefined && signedIn !== undefined && hinted.sub === signedIn.user.id && wanted.client?.id === hinted.aud
    if (signedIn !== undefined && !tied) {
      return reply.page('logout', {
        csrf: reply.csrfToken(),
        username: signedIn.user.username,
        clientId: wanted.target === undefined ? undefined : wanted.client?.id,
        postLogoutRedirectUri: wanted.target,
        state: wanted.state
      }, { formTargets: wanted.target !== undefined && URL.canParse(wanted.target) ? [new URL(wanted.target).origin] : [] })
    }
    await reply.signOut()
    if (wanted.target !== undefined) return reply.redirect(redirectBack(wanted.target, { state: wanted.state }), 303)
    return reply.page('signed-out', {})
  })

  fastify.post('/logout', { schema: logoutFormSchema, config: { browser: 'form' } }, async (request, reply) => {
    await reply.signOut()
    // The form's fields are checked again: a posted URI is held to the same registration as the query's.
    const wanted = await readLogout(request.formFields(), undefined)
    if (wanted.target !== undefined) return reply.redirect(redirectBack(wanted.target, { state: wanted.state }), 303)
    return reply.page('signed-out', {})
  })
}

export default logout

import type { FastifyPluginAsync } from 'fastify'
import { redirectBack, type Query } from '../../lib/oauth/authorize.js'
import { logoutFormSchema, logoutSchema } from '../../schemas/browser.js'

/** Signing out: OpenID Connect RP-Initiated Logout 1.0 (GET /logout), and the signed-in page's form (POST /logout). */
const logout: FastifyPluginAsync = async (fastify) => {
  const { storage, idTokens } = fastify

  fastify.get('/logout', { schema: logoutSchema, config: { browser: 'page' } }, async (request, reply) => {
    const query = request.query as Query
    await reply.signOut()
    const text = (name: string) => typeof query[name] === 'string' ? query[name] as string : undefined
    const hint = text('id_token_hint')
    const hinted = hint === undefined ? undefined : idTokens.hint(hint)
    const clientId = hinted?.aud ?? text('client_id')
    const target = text('post_logout_redirect_uri')
    // RP-Initiated Logout §3: only a URI registered for that client, matched exactly; never another.
    if (target !== undefined && clientId !== undefined && (hinted === undefined || text('client_id') === undefined || text('client_id') === hinted.aud)) {
      const client = await storage.clients.find(clientId)
      if (client?.postLogoutRedirectUris.includes(target)) return reply.redirect(redirectBack(target, { state: text('state') }), 303)
    }
    return reply.page('signed-out', {})
  })

  fastify.post('/logout', { schema: logoutFormSchema, config: { browser: 'form' } }, async (_request, reply) => {
    await reply.signOut()
    return reply.page('signed-out', {})
  })
}

export default logout

import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { decideNext, redirectWithCode } from '../../lib/oauth/authorization-flow.js'
import { authorizePath, readAuthorizationRequest, type AuthorizationRequest, type Query } from '../../lib/oauth/authorize.js'
import type { PromptName, SignedIn } from '../../lib/oauth/interaction.js'
import { authorizeSchema } from '../../schemas/browser.js'
import { showConsent, showLogin } from './pages.js'

/** What a prompt's page needs: the request, where its form returns to, who is signed in, the scopes at stake. */
interface PromptPage { authz: AuthorizationRequest, returnTo: string, signedIn: SignedIn | undefined, scopes: string[] | undefined }

/** The page of each prompt of the interaction policy (lib/oauth/interaction.ts): a new prompt needs one here. */
const pages: Record<PromptName, (reply: FastifyReply, page: PromptPage) => Promise<FastifyReply>> = {
  login: (reply, { authz, returnTo }) => showLogin(reply, { authz, returnTo }),
  consent: (reply, { authz, returnTo, signedIn, scopes }) => {
    if (signedIn === undefined) throw new Error('the consent page needs someone signed in')
    return showConsent(reply, { authz, returnTo, user: signedIn.user, scopes: scopes ?? [] })
  }
}

/**
 * GET /authorize (RFC 6749 §4.1.1, OIDC Core §3.1.2): the request is checked (lib/oauth/authorize.ts), then the
 * interaction policy says what this browser needs: the login page, the consent page, or a code straight back.
 */
const authorize: FastifyPluginAsync = async (fastify) => {
  const { storage, clock, config } = fastify

  fastify.get('/authorize', { schema: authorizeSchema, config: { browser: 'page' } }, async (request, reply) => {
    const query = request.query as Query
    const authz = await readAuthorizationRequest(query, storage.clients)
    const signedIn = await request.browserSession()
    const now = clock.now()
    const next = await decideNext(storage, { authz, signedIn, now, log: request.log })
    if (next.kind === 'code') return reply.redirect(await redirectWithCode({ storage, issuer: config.issuer }, authz, next, now), 303)
    // The forms come back here without prompt=login, which they satisfy (asking again would loop).
    const returnTo = authorizePath(query, { prompts: ['login'] })
    return pages[next.kind](reply, { authz, returnTo, signedIn, scopes: next.scopes })
  })
}

export default authorize

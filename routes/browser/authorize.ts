import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { ENROL_PATH, STEP_UP_PATH, withReturnTo } from '../../lib/browser/return-to.js'
import { badAuthorizationRequest } from '../../lib/errors.js'
import { codeResponse, decideNext } from '../../lib/oauth/authorization-flow.js'
import { authorizePath, readAuthorizationRequest, type AuthorizationRequest, type Query } from '../../lib/oauth/authorize.js'
import type { PromptName, SignedIn } from '../../lib/oauth/interaction.js'
import { authorizePostSchema, authorizeSchema } from '../../schemas/browser.js'
import { answerClient, showConsent, showLogin } from './pages.js'

/** What a prompt's page needs: the request, where its form returns to, who is signed in, the scopes at stake, their factors. */
interface PromptPage { authz: AuthorizationRequest, returnTo: string, signedIn: SignedIn | undefined, scopes: string[] | undefined, factors: number }

/** The page of each prompt of the interaction policy (lib/oauth/interaction.ts): a new prompt needs one here. */
const pages: Record<PromptName, (reply: FastifyReply, page: PromptPage) => Promise<FastifyReply>> = {
  login: (reply, { authz, returnTo }) => showLogin(reply, { authz, returnTo }),
  consent: (reply, { authz, returnTo, signedIn, scopes }) => {
    if (signedIn === undefined) throw new Error('the consent page needs someone signed in')
    return showConsent(reply, { authz, returnTo, user: signedIn.user, scopes: scopes ?? [] })
  },
  // 303, as every sign-in step (RFC 9700 §4.12); return_to is this request's /authorize path (safeReturnTo's shape).
  mfa: async (reply, { returnTo, factors }) => reply.redirect(withReturnTo(factors > 0 ? STEP_UP_PATH : ENROL_PATH, returnTo), 303)
}

/**
 * GET and POST /authorize (RFC 6749 §4.1.1, OIDC Core §3.1.2, §3.1.2.1: both MUST be supported): the request is
 * checked (lib/oauth/authorize.ts), then the interaction policy says what this browser needs: the login page, a
 * second factor (a redirect to its page), the consent page, or a code straight back. POST carries the same parameters as a form the client's page submits: it
 * is not one of our forms, so no CSRF token (`browser: 'page'`); it answers exactly as GET does.
 */
const authorize: FastifyPluginAsync = async (fastify) => {
  const { storage, clock, config, idTokens } = fastify
  const readIdTokenHint = (token: string) => idTokens.hint(token)

  async function answer (request: FastifyRequest, reply: FastifyReply, query: Query): Promise<FastifyReply> {
    const clients = fastify.clientLookup(request.addressKey, { page: true })
    const now = clock.now()
    const pushed = { store: storage.pushedRequests, now, requiredEverywhere: config.requirePar === 'on' }
    const requestObjects = { keys: fastify.clientKeys, issuer: config.issuer, now }
    const authz = await readAuthorizationRequest(query, { clients, resources: storage.resources, readIdTokenHint, pushed, requestObjects })
    const signedIn = await request.browserSession()
    const next = await decideNext(storage, { authz, signedIn, now, mfa: config.mfa, log: request.log })
    if (next.kind === 'code') return answerClient(reply, await codeResponse({ storage, issuer: config.issuer }, authz, next, now))
    // The forms come back here (as a GET) without prompt=login, which they satisfy (asking again would loop). A pushed
    // request comes back as its client_id and request_uri alone: a sign-in since it started satisfies its prompt=login.
    // A request object's parameters, verified once, are what the forms return to (never the object again).
    const returnTo = authz.pushed?.path ?? authorizePath(authz.parameters ?? query, { prompts: ['login'] })
    return pages[next.kind](reply, { authz, returnTo, signedIn, scopes: next.scopes, factors: next.factors })
  }

  fastify.get('/authorize', { schema: authorizeSchema, config: { browser: 'page' } }, async (request, reply) => answer(request, reply, request.query as Query))

  fastify.post('/authorize', { schema: authorizePostSchema, config: { browser: 'page' } }, async (request, reply) => {
    // OIDC Core §3.1.2.1: form serialization; anything else (JSON, an empty form) has no request in it.
    const fields = request.formFields()
    if (Object.keys(fields).length === 0) throw badAuthorizationRequest('POST /authorize takes the request as a form (application/x-www-form-urlencoded)')
    return answer(request, reply, fields)
  })
}

export default authorize

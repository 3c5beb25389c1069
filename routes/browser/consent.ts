import type { FastifyPluginAsync } from 'fastify'
import { AuthorizationError, badAuthorizationRequest } from '../../lib/errors.js'
import { codeResponse, decideNext } from '../../lib/oauth/authorization-flow.js'
import { consentScopes } from '../../lib/oauth/claims.js'
import { withResourceUris } from '../../lib/oauth/resources.js'
import { consentSchema } from '../../schemas/browser.js'
import { answerClient } from './pages.js'

/**
 * The consent form: allow remembers the scopes for this user and client and goes on to the client with a code;
 * deny sends access_denied back to the client (RFC 6749 §4.1.2.1).
 */
const consent: FastifyPluginAsync = async (fastify) => {
  const { storage, clock, config } = fastify

  fastify.post('/consent', { schema: consentSchema, config: { browser: 'form' } }, async (request, reply) => {
    const { authz, returnTo } = await request.pendingAuthorization({ required: true })
    const signedIn = await request.browserSession()
    if (!signedIn) return reply.redirect(returnTo, 303)
    const { decision } = request.formFields()
    if (decision === 'deny') throw new AuthorizationError('access_denied', 'the user denied the request', authz)
    if (decision !== 'allow') throw badAuthorizationRequest('decision must be allow or deny')
    const now = clock.now()
    // The consent form answers the consent prompt; a scope the user does not hold is still refused.
    const next = await decideNext(storage, { authz, signedIn, now, fresh: { login: true, consent: true }, mfa: config.mfa, log: request.log })
    // What the user allowed is kept even when the login prompt comes back (a max_age passed while they read the page):
    // otherwise the sign-in it asks for would lead to this page again, and a short max_age would never let them through.
    // With the scopes the `claims` parameter reaches (a claim asked for by name is consented like its scope). Not while
    // a second factor is wanted: a session on one factor (a known password) decides nothing for the user yet.
    if (next.scopes !== undefined && next.kind !== 'mfa') await storage.consents.grant(signedIn.user.id, authz.client.id, withResourceUris(consentScopes(next.scopes, authz.claims), authz.resources), now)
    if (next.kind !== 'code') return reply.redirect(returnTo, 303)
    return answerClient(reply, await codeResponse({ storage, issuer: config.issuer }, authz, next, now))
  })
}

export default consent

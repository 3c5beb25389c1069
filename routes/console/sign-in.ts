import type { FastifyPluginAsync } from 'fastify'
import type { JSONWebKeySet } from 'jose'
import { consoleCookieAttributes, cookieAttributes } from '../../lib/browser/cookies.js'
import { CONSOLE_CLIENT_ID, consoleRedirectUri } from '../../lib/console/client.js'
import { verifyConsoleIdToken } from '../../lib/console/id-token.js'
import { admission, openSignIn, stateMatches } from '../../lib/console/sign-in.js'
import { GatehouseError, PageError } from '../../lib/errors.js'
import type { TokenRequestBody } from '../../schemas/token.js'
import { consoleSchemas } from '../../schemas/console.js'
import type { ConsoleDeps } from './deps.js'

/** Why the console refused someone who signed in, as the page says it. */
const REFUSALS = {
  not_admin: 'Only administrators (users holding the admin scope) can use the console.',
  mfa_required: 'The console needs a second factor: sign in with your authenticator app or passkey.',
  nonce: 'This sign-in could not be completed; start again.',
  disabled: 'This account cannot use the console.'
} as const

/**
 * The console's sign-in (lib/console/sign-in.ts): GET /console/callback ends it, POST /console/logout ends the
 * session. The callback redeems the code through the token endpoint's own grant (fastify.grants), in-process, and
 * verifies the ID token as any relying party does; only then does a console session start.
 */
const signIn: FastifyPluginAsync<ConsoleDeps> = async (fastify, { sessions, box, names }) => {
  const { config, storage, clock, grants, signingKeys, events } = fastify

  fastify.get('/console/callback', { schema: consoleSchemas.callback, config: { browser: 'page', console: 'sign-in' } }, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>
    const started = openSignIn(box, request.cookies[names.consoleSignIn], clock.now())
    // Single use: whatever the outcome, this sign-in is over.
    if (request.cookies[names.consoleSignIn] !== undefined) reply.setCookie(names.consoleSignIn, '', cookieAttributes(names, 0))
    if (!started || !stateMatches(started, query.state)) {
      events.emit({ type: 'console_signin_failed', reason: 'state', ip: request.ip }, request.log)
      throw new PageError('invalid_request', 'this sign-in was not started in this browser, was already used, or has expired; start again', 400)
    }
    // A user without `admin` is refused at /authorize (invalid_scope: a scope the user does not hold).
    if (query.error !== undefined) {
      events.emit({ type: 'console_signin_failed', reason: query.error.slice(0, 64), ip: request.ip }, request.log)
      if (query.error === 'invalid_scope' || query.error === 'access_denied') throw new PageError('access_denied', REFUSALS.not_admin, 403)
      throw new PageError('invalid_request', 'the sign-in did not complete; start again', 400)
    }
    const client = await storage.clients.find(CONSOLE_CLIENT_ID)
    if (typeof query.code !== 'string' || !client) throw new PageError('invalid_request', 'the sign-in did not complete; start again', 400)
    const body = { grant_type: 'authorization_code', code: query.code, redirect_uri: consoleRedirectUri(config.issuer), code_verifier: started.codeVerifier, client_id: CONSOLE_CLIENT_ID } as TokenRequestBody
    let tokens
    try {
      tokens = await grants.select(body).handle({ body, client, clientIp: request.ip, addressKey: request.addressKey, log: request.log })
    } catch (err) {
      if (!(err instanceof GatehouseError)) throw err
      throw new PageError('invalid_request', 'the sign-in did not complete; start again', 400)
    }
    const claims = tokens.id_token === undefined ? undefined : await verifyConsoleIdToken(tokens.id_token, { jwks: signingKeys.jwks() as JSONWebKeySet, issuer: config.issuer, nowMs: clock.nowMs() })
    if (!claims) throw new PageError('invalid_request', 'the sign-in did not complete; start again', 400)
    const user = typeof claims.sub === 'string' ? await storage.users.findById(claims.sub) : undefined
    const factors = user ? await storage.factors.countConfirmed(user.id) : 0
    const decision = admission({ idToken: claims, grantedScope: tokens.scope, user, factors, signIn: started })
    if (decision.outcome === 'refused') {
      events.emit({ type: 'console_signin_failed', reason: decision.reason, userId: user?.id, ip: request.ip }, request.log)
      throw new PageError('access_denied', REFUSALS[decision.reason], decision.reason === 'nonce' ? 400 : 403)
    }
    const amr = Array.isArray(claims.amr) ? claims.amr.filter((v): v is string => typeof v === 'string') : []
    const session = user && await sessions.start(user, amr, request.headers['user-agent'])
    if (!session) throw new PageError('access_denied', REFUSALS.disabled, 403)
    events.emit({ type: 'console_signin', userId: session.signedIn.user.id, ip: request.ip }, request.log)
    reply.setCookie(names.console, session.cookie, consoleCookieAttributes(names, sessions.cookieMaxAge))
    return reply.redirect(started.returnTo, 303)
  })

  fastify.post('/console/logout', { schema: consoleSchemas.logout, config: { browser: 'form' } }, async (request, reply) => {
    await sessions.end(request.cookies[names.console])
    reply.setCookie(names.console, '', consoleCookieAttributes(names, 0))
    return reply.consolePage('signed-out', {})
  })
}

export default signIn

import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { describeScopes } from '../../lib/browser/scope-words.js'
import { BrowserSessions, checkCsrf, cookieNames, newSecret, parseCookies, setCookie } from '../../lib/browser/sessions.js'
import { AuthorizationError, badAuthorizationRequest, GatehouseError, OAuthError } from '../../lib/errors.js'
import { fromFrameworkError } from '../../lib/framework-errors.js'
import { issueCode } from '../../lib/oauth/authorization-codes.js'
import {
  authorizePath, queryOf, readAuthorizationRequest, redirectBack, safeReturnTo, scopesFor,
  type AuthorizationRequest, type Query
} from '../../lib/oauth/authorize.js'
import { parseScope } from '../../lib/oauth/scopes.js'
import { BAD_CREDENTIALS, signIn } from '../../lib/oauth/sign-in.js'
import type { Session, User } from '../../lib/stores/types.js'
import { MAX_PASSWORD_LENGTH } from '../../schemas/common.js'
import { authorizeSchema, consentSchema, loginPageSchema, loginSchema, logoutFormSchema, logoutSchema } from '../../schemas/browser.js'

type SignedIn = { session: Session, user: User }
type Next =
  | { kind: 'redirect', location: string }
  | { kind: 'login' }
  | { kind: 'consent', scopes: string[], user: User }

/**
 * The browser side of the authorization code flow: GET /authorize, the login and consent forms, and logout.
 * The rules live in lib/oauth/authorize.ts (the request), lib/oauth/sign-in.ts (passwords, brute force),
 * lib/browser/sessions.ts (cookies, CSRF) and lib/oauth/authorization-codes.ts; this file reads, calls, renders.
 */
const browserRoutes: FastifyPluginAsync = async (fastify) => {
  const { storage, config, clock, passwords, throttle, accessTokens, events } = fastify
  const names = cookieNames(config.issuer)
  const sessions = new BrowserSessions({ storage, clock, config })
  const issuerOrigin = new URL(config.issuer).origin

  // Nothing here may be cached or leak a code through a Referer (RFC 9700 §4.2.4), redirects included.
  fastify.addHook('onRequest', async (_request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache').header('referrer-policy', 'no-referrer')
  })

  // HTML pages for every failure, redirects back to the client only for AuthorizationError (its target is trusted).
  fastify.setErrorHandler(async (err: FastifyError | GatehouseError, request, reply) => {
    if (err instanceof AuthorizationError) {
      return reply.code(303).header('location', redirectBack(err.redirectUri, { error: err.error, error_description: err.message, state: err.state, iss: config.issuer })).send()
    }
    const known = err instanceof GatehouseError ? err : fromFrameworkError(err, false)
    if (!known) {
      request.log.error({ err }, 'a browser request failed')
      return reply.page('error', { error: 'server_error', description: 'Something went wrong on our side. Try again in a moment.' }, { status: 500 })
    }
    for (const [name, value] of Object.entries(known.headers)) if (name !== 'cache-control') reply.header(name, value)
    return reply.page('error', { error: known.error, description: known.message }, { status: known.statusCode })
  })

  const cookiesOf = (request: FastifyRequest) => parseCookies(request.headers.cookie)
  const formTargets = (request: AuthorizationRequest | undefined) => request ? [new URL(request.redirectUri).origin] : []

  /** This browser's CSRF token, set as a cookie when it has none yet. */
  function csrfToken (request: FastifyRequest, reply: FastifyReply): string {
    const existing = cookiesOf(request).get(names.csrf)
    if (existing !== undefined && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing
    const token = newSecret()
    reply.header('set-cookie', setCookie(names.csrf, token, { secure: names.secure }))
    return token
  }

  function showLogin (request: FastifyRequest, reply: FastifyReply, input: { returnTo?: string, authz?: AuthorizationRequest, username?: string, message?: string, status?: number }) {
    return reply.page('login', {
      csrf: csrfToken(request, reply),
      returnTo: input.returnTo,
      clientId: input.authz?.client.id,
      username: input.username ?? input.authz?.loginHint,
      message: input.message
    }, { status: input.status, formTargets: formTargets(input.authz) })
  }

  /**
   * Where an authorization request goes next for this browser: the login page (no session, prompt=login,
   * max_age passed), the consent page (scopes not yet allowed, prompt=consent), or back to the client with a
   * code. `fresh` is set right after the login or consent form, which satisfied those prompts.
   */
  async function next (authz: AuthorizationRequest, signedIn: SignedIn | undefined, fresh: { login?: boolean, consent?: boolean } = {}): Promise<Next> {
    const now = clock.now()
    const needsLogin = !signedIn ||
      (!fresh.login && authz.prompt.has('login')) ||
      (authz.maxAge !== undefined && now - signedIn.session.authTime > authz.maxAge)
    if (needsLogin) {
      if (authz.prompt.has('none')) throw new AuthorizationError('login_required', 'the user is not signed in', authz)
      return { kind: 'login' }
    }
    const { session, user } = signedIn
    const scopes = scopesFor(authz, user.scope)
    if (!authz.client.skipConsent && !fresh.consent) {
      const consent = await storage.consents.find(user.id, authz.client.id)
      const allowed = parseScope(consent?.scope)
      if (!consent || authz.prompt.has('consent') || scopes.some((s) => !allowed.includes(s))) {
        if (authz.prompt.has('none')) throw new AuthorizationError('consent_required', 'the user has not allowed this client these scopes', authz)
        return { kind: 'consent', scopes, user }
      }
    }
    const code = await issueCode(storage, { request: authz, user, scopes, authTime: session.authTime, now })
    return { kind: 'redirect', location: redirectBack(authz.redirectUri, { code, state: authz.state, iss: config.issuer }) }
  }

  async function render (request: FastifyRequest, reply: FastifyReply, authz: AuthorizationRequest, query: Query, step: Next) {
    if (step.kind === 'redirect') return reply.code(303).header('location', step.location).send()
    if (step.kind === 'login') return showLogin(request, reply, { authz, returnTo: authorizePath(query, { prompts: ['login'] }) })
    return reply.page('consent', {
      csrf: csrfToken(request, reply),
      returnTo: authorizePath(query, { prompts: ['login'] }),
      clientId: authz.client.id,
      username: step.user.username,
      scopes: describeScopes(step.scopes)
    }, { formTargets: formTargets(authz) })
  }

  fastify.get('/authorize', { schema: authorizeSchema }, async (request, reply) => {
    const query = request.query as Query
    const authz = await readAuthorizationRequest(query, storage.clients)
    const signedIn = await sessions.current(cookiesOf(request).get(names.session))
    return render(request, reply, authz, query, await next(authz, signedIn))
  })

  fastify.get('/login', { schema: loginPageSchema }, async (request, reply) => {
    const signedIn = await sessions.current(cookiesOf(request).get(names.session))
    const returnTo = safeReturnTo((request.query as Query).return_to)
    if (signedIn && returnTo === undefined) return reply.page('signed-in', { username: signedIn.user.username, csrf: csrfToken(request, reply) })
    return showLogin(request, reply, { returnTo })
  })

  fastify.post('/login', { schema: loginSchema }, async (request, reply) => {
    const body = formBody(request)
    const cookies = cookiesOf(request)
    checkCsrf({ cookie: cookies.get(names.csrf), field: body.csrf, origin: request.headers.origin, fetchSite: request.headers['sec-fetch-site'], issuerOrigin })
    const returnTo = safeReturnTo(body.return_to)
    const query = returnTo === undefined ? undefined : queryOf(returnTo)
    const authz = query === undefined ? undefined : await readAuthorizationRequest(query, storage.clients)
    const { username, password } = body
    if (typeof username !== 'string' || typeof password !== 'string' || username === '' || password === '') {
      return showLogin(request, reply, { returnTo, authz, username: typeof username === 'string' ? username : undefined, message: 'Enter your username and password.', status: 400 })
    }
    let user: User
    try {
      // The password grant's rules: limits checked before any hash, one answer for every failure.
      if (username.length > 256 || password.length > MAX_PASSWORD_LENGTH) throw new OAuthError('invalid_grant', BAD_CREDENTIALS)
      user = await signIn({ storage, passwords, throttle, log: request.log, events }, { username, password, clientIp: request.ip, clientId: authz?.client.id ?? '(login page)' })
    } catch (err) {
      if (err instanceof OAuthError && err.error === 'invalid_grant') {
        return showLogin(request, reply, { returnTo, authz, username, message: 'Invalid username or password.', status: 401 })
      }
      if (err instanceof OAuthError && err.error === 'too_many_requests') {
        reply.header('retry-after', err.headers['retry-after'] ?? '60')
        return showLogin(request, reply, { returnTo, authz, username, message: 'Too many failed attempts. Wait a minute, then try again.', status: 429 })
      }
      throw err
    }
    // A new session under a new id, and a new CSRF token: nothing from before the sign-in carries over.
    const { cookie, session } = await sessions.start(user, cookies.get(names.session))
    reply.header('set-cookie', setCookie(names.session, cookie, { secure: names.secure, maxAge: sessions.ttl }))
    reply.header('set-cookie', setCookie(names.csrf, newSecret(), { secure: names.secure }))
    if (authz === undefined || returnTo === undefined) return reply.code(303).header('location', '/login').send()
    // Straight on to the client when no consent is needed (RFC 9700 §4.12: 303, never 307).
    const step = await next(authz, { session, user }, { login: true })
    return reply.code(303).header('location', step.kind === 'redirect' ? step.location : returnTo).send()
  })

  fastify.post('/consent', { schema: consentSchema }, async (request, reply) => {
    const body = formBody(request)
    const cookies = cookiesOf(request)
    checkCsrf({ cookie: cookies.get(names.csrf), field: body.csrf, origin: request.headers.origin, fetchSite: request.headers['sec-fetch-site'], issuerOrigin })
    const returnTo = safeReturnTo(body.return_to)
    if (returnTo === undefined) throw badAuthorizationRequest('the consent form has no authorization request')
    const authz = await readAuthorizationRequest(queryOf(returnTo), storage.clients)
    const signedIn = await sessions.current(cookies.get(names.session))
    if (!signedIn) return reply.code(303).header('location', returnTo).send()
    if (body.decision === 'deny') throw new AuthorizationError('access_denied', 'the user denied the request', authz)
    if (body.decision !== 'allow') throw badAuthorizationRequest('decision must be allow or deny')
    await storage.consents.grant(signedIn.user.id, authz.client.id, scopesFor(authz, signedIn.user.scope), clock.now())
    const step = await next(authz, signedIn, { login: true, consent: true })
    return reply.code(303).header('location', step.kind === 'redirect' ? step.location : returnTo).send()
  })

  const endSession = async (request: FastifyRequest, reply: FastifyReply) => {
    await sessions.end(cookiesOf(request).get(names.session))
    reply.header('set-cookie', setCookie(names.session, '', { secure: names.secure, maxAge: 0 }))
  }

  fastify.get('/logout', { schema: logoutSchema }, async (request, reply) => {
    const query = request.query as Query
    await endSession(request, reply)
    const text = (name: string) => typeof query[name] === 'string' ? query[name] as string : undefined
    const hint = text('id_token_hint')
    const hinted = hint === undefined ? undefined : accessTokens.idTokenHint(hint)
    const clientId = hinted?.aud ?? text('client_id')
    const target = text('post_logout_redirect_uri')
    // OIDC RP-Initiated Logout §3: only a URI registered for that client, matched exactly; never another.
    if (target !== undefined && clientId !== undefined && (hinted === undefined || text('client_id') === undefined || text('client_id') === hinted.aud)) {
      const client = await storage.clients.find(clientId)
      if (client?.postLogoutRedirectUris.includes(target)) {
        return reply.code(303).header('location', redirectBack(target, { state: text('state') })).send()
      }
    }
    return reply.page('signed-out', {})
  })

  fastify.post('/logout', { schema: logoutFormSchema }, async (request, reply) => {
    const body = formBody(request)
    checkCsrf({ cookie: cookiesOf(request).get(names.csrf), field: body.csrf, origin: request.headers.origin, fetchSite: request.headers['sec-fetch-site'], issuerOrigin })
    await endSession(request, reply)
    return reply.page('signed-out', {})
  })
}

/** A form's fields (anything else, JSON included, is an empty form: the CSRF check then refuses it). */
function formBody (request: FastifyRequest): Record<string, unknown> {
  const type = request.headers['content-type'] ?? ''
  const body = request.body
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type) || body === null || typeof body !== 'object') return {}
  return body as Record<string, unknown>
}

export default browserRoutes

import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { describeScopes } from '../../lib/browser/scope-words.js'
import { BrowserSessions, checkCsrf, cookieNames, hashSessionId, newSecret, parseCookies, setCookie } from '../../lib/browser/sessions.js'
import { AuthorizationError, badAuthorizationRequest, GatehouseError, OAuthError, PageError, tooManyRequests, unknownProvider, upstreamRefused, upstreamUnreachable } from '../../lib/errors.js'
import { fromFrameworkError } from '../../lib/http/framework-errors.js'
import { issueCode } from '../../lib/oauth/authorization-codes.js'
import {
  authorizePath, queryOf, readAuthorizationRequest, redirectBack, safeReturnTo, scopesFor,
  type AuthorizationRequest, type Query
} from '../../lib/oauth/authorize.js'
import { parseScope } from '../../lib/oauth/scopes.js'
import { upstreamStartLimits } from '../../lib/oauth/brute-force.js'
import { BAD_CREDENTIALS, signIn } from '../../lib/oauth/sign-in.js'
import type { Session, UpstreamProvider, User } from '../../lib/stores/types.js'
import { resolveAccount } from '../../lib/upstream/accounts.js'
import { UpstreamCallError } from '../../lib/upstream/client.js'
import { MAX_PASSWORD_LENGTH, PROVIDER_NAME } from '../../schemas/common.js'
import { authorizeSchema, consentSchema, loginPageSchema, loginSchema, logoutFormSchema, logoutSchema, upstreamCallbackSchema, upstreamLoginSchema } from '../../schemas/browser.js'

type SignedIn = { session: Session, user: User }
type Next =
  | { kind: 'redirect', location: string }
  | { kind: 'login' }
  | { kind: 'consent', scopes: string[], user: User }

/**
 * The browser side of the authorization code flow: GET /authorize, the login and consent forms, and logout.
 * The rules live in lib/oauth/authorize.ts (the request), lib/oauth/sign-in.ts (passwords, brute force),
 * lib/browser/sessions.ts (cookies, CSRF) and lib/oauth/authorization-codes.ts; this file reads, calls, renders.
 * Sign-in through upstream providers (GET /login/{name}, …/callback) ends exactly as the login form does
 * (`signedIn` below); its rules live in lib/upstream/ (openid-client, accounts) and lib/admin/providers.ts.
 */
/** How long a sign-in sent to a provider may take to come back. */
const UPSTREAM_TRANSACTION_TTL_SECONDS = 600

const browserRoutes: FastifyPluginAsync = async (fastify) => {
  const { storage, config, clock, passwords, throttle, accessTokens, events, providers } = fastify
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

  /** The providers the login page offers for this request: all of them, or those the client names (then no password form). */
  async function offeredProviders (authz: AuthorizationRequest | undefined): Promise<UpstreamProvider[]> {
    const all = await storage.providers.list()
    const only = authz?.client.providers
    return only === null || only === undefined ? all : all.filter((p) => only.includes(p.name))
  }

  async function showLogin (request: FastifyRequest, reply: FastifyReply, input: { returnTo?: string, authz?: AuthorizationRequest, username?: string, message?: string, status?: number }) {
    const query = input.returnTo === undefined ? '' : `?return_to=${encodeURIComponent(input.returnTo)}`
    return reply.page('login', {
      csrf: csrfToken(request, reply),
      returnTo: input.returnTo,
      clientId: input.authz?.client.id,
      username: input.username ?? input.authz?.loginHint,
      message: input.message,
      passwordForm: passwordFormAllowed(input.authz),
      providers: (await offeredProviders(input.authz)).map((p) => ({ name: p.name, displayName: p.displayName, href: `/login/${p.name}${query}` }))
    }, { status: input.status, formTargets: formTargets(input.authz) })
  }

  /**
   * Signs `user` in for this browser and moves on: the one ending of every sign-in (the login form, an upstream
   * provider). A new session under a new id, and a new CSRF token: nothing from before the sign-in carries
   * over. Then straight on to the client when no consent is needed (RFC 9700 §4.12: 303, never 307).
   */
  async function signedIn (request: FastifyRequest, reply: FastifyReply, user: User, authz: AuthorizationRequest | undefined, returnTo: string | undefined) {
    const { cookie, session } = await sessions.start(user, cookiesOf(request).get(names.session))
    reply.header('set-cookie', setCookie(names.session, cookie, { secure: names.secure, maxAge: sessions.ttl }))
    reply.header('set-cookie', setCookie(names.csrf, newSecret(), { secure: names.secure }))
    if (authz === undefined || returnTo === undefined) return reply.code(303).header('location', '/login').send()
    const step = await next(authz, { session, user }, { login: true })
    return reply.code(303).header('location', step.kind === 'redirect' ? step.location : returnTo).send()
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
    // A client that signs its users in through providers only: no password is checked for its requests.
    if (!passwordFormAllowed(authz)) throw new PageError('access_denied', 'this application signs you in through its sign-in providers only', 403)
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
    return signedIn(request, reply, user, authz, returnTo)
  })

  /** The provider a URL names, or the 404 page (undefined: not a provider name at all, so no such path: the caller answers as for any unknown path). */
  async function providerNamed (name: string): Promise<UpstreamProvider | undefined> {
    if (!PROVIDER_NAME.test(name)) return undefined
    const provider = await storage.providers.find(name)
    if (!provider) throw unknownProvider()
    return provider
  }

  /** A name no provider can have: no such path, answered as the not-found handler answers any unknown path (JSON). */
  function noSuchPath (request: FastifyRequest, reply: FastifyReply) {
    request.errorCode = 'not_found'
    return reply.code(404).type('application/json; charset=utf-8').send({ error: 'not_found', error_description: 'no such endpoint' })
  }

  /** A client restricted to some providers offers no other (checked when the sign-in starts and when it comes back). */
  function checkOffered (provider: UpstreamProvider, authz: AuthorizationRequest | undefined): void {
    const only = authz?.client.providers
    if (only !== null && only !== undefined && !only.includes(provider.name)) throw new PageError('access_denied', 'this application does not offer that sign-in provider', 403)
  }

  /** No: back to the client as access_denied when an authorization request is pending, else a 403 page. */
  function refuse (authz: AuthorizationRequest | undefined, description: string): never {
    if (authz) throw new AuthorizationError('access_denied', description, authz)
    throw new PageError('access_denied', description, 403)
  }

  fastify.get('/login/:name', { schema: upstreamLoginSchema }, async (request, reply) => {
    const provider = await providerNamed((request.params as { name: string }).name)
    if (!provider) return noSuchPath(request, reply)
    const returnTo = safeReturnTo((request.query as Query).return_to)
    // The pending authorization request is checked now, so a bad one never reaches the provider.
    const authz = returnTo === undefined ? undefined : await readAuthorizationRequest(queryOf(returnTo), storage.clients)
    checkOffered(provider, authz)
    // A flood of starts would fill the pending sign-ins (and make us call the provider): bounded per address.
    const wait = await throttle.take(upstreamStartLimits(request.ip))
    if (wait !== undefined) {
      events.emit({ type: 'upstream_failed', provider: provider.name, reason: 'throttled', ip: request.ip }, request.log)
      throw tooManyRequests(wait, 'too many sign-ins started from this address; wait a minute, then try again')
    }
    // This browser's binding: a random value in a cookie (kept across sign-ins, so two tabs work); the store keeps its hash.
    let binding = cookiesOf(request).get(names.upstream)
    if (binding === undefined || !/^[A-Za-z0-9_-]{43}$/.test(binding)) {
      binding = newSecret()
      reply.header('set-cookie', setCookie(names.upstream, binding, { secure: names.secure }))
    }
    const checks = { state: newSecret(), nonce: newSecret(), codeVerifier: newSecret() }
    let location: URL
    try {
      location = await providers.upstream.authorizationUrl(provider, checks)
    } catch (err) {
      throw upstreamFailure(request, provider, err)
    }
    const now = clock.now()
    await storage.upstreamTransactions.create({
      idHash: hashSessionId(checks.state),
      bindingHash: hashSessionId(binding),
      provider: provider.name,
      nonce: checks.nonce,
      codeVerifier: checks.codeVerifier,
      returnTo: returnTo ?? null,
      createdAt: now,
      expiresAt: now + UPSTREAM_TRANSACTION_TTL_SECONDS
    })
    return reply.code(303).header('location', location.href).send()
  })

  fastify.get('/login/:name/callback', { schema: upstreamCallbackSchema }, async (request, reply) => {
    const provider = await providerNamed((request.params as { name: string }).name)
    if (!provider) return noSuchPath(request, reply)
    const query = request.query as Query
    const binding = cookiesOf(request).get(names.upstream)
    // The pending sign-in: this browser's, for this provider, not used before, not expired (one atomic consume).
    const transaction = typeof query.state === 'string' && binding !== undefined
      ? await storage.upstreamTransactions.consume(hashSessionId(query.state), hashSessionId(binding), clock.now())
      : undefined
    if (!transaction || transaction.provider !== provider.name) {
      events.emit({ type: 'upstream_failed', provider: provider.name, reason: 'state', ip: request.ip }, request.log)
      throw upstreamRefused('this sign-in was not started in this browser, was already used, or has expired; start again')
    }
    const returnTo = transaction.returnTo ?? undefined
    const authz = returnTo === undefined ? undefined : await readAuthorizationRequest(queryOf(returnTo), storage.clients)
    checkOffered(provider, authz)
    let profile
    try {
      profile = await providers.upstream.complete(provider, new URL(request.url, 'http://callback.invalid').searchParams, {
        state: query.state as string,
        nonce: transaction.nonce,
        codeVerifier: transaction.codeVerifier
      })
    } catch (err) {
      const failure = upstreamFailure(request, provider, err)
      if (failure.error === 'access_denied') refuse(authz, 'the sign-in provider did not sign you in')
      throw failure
    }
    const account = await resolveAccount({ storage, clock }, provider, profile)
    if (account.outcome === 'refused') {
      events.emit({ type: 'upstream_failed', provider: provider.name, reason: account.reason, ip: request.ip }, request.log)
      refuse(authz, account.reason === 'disabled' ? 'this account is disabled' : 'this account may not sign in here')
    }
    events.emit({ type: 'upstream_signin', provider: provider.name, userId: account.user.id, outcome: account.outcome, ip: request.ip }, request.log)
    return signedIn(request, reply, account.user, authz, returnTo)
  })

  /** An upstream failure as the page (or refusal) it becomes, logged (the provider's error and description, short; never a secret) and counted. */
  function upstreamFailure (request: FastifyRequest, provider: UpstreamProvider, err: unknown): PageError {
    if (!(err instanceof UpstreamCallError)) throw err
    const failure = err.failure
    const detail = failure.kind === 'denied' ? `${failure.error}${failure.description ? `: ${failure.description}` : ''}` : failure.detail
    events.emit({ type: 'upstream_failed', provider: provider.name, reason: failure.kind, ip: request.ip, detail }, request.log)
    if (failure.kind === 'denied') return new PageError('access_denied', 'the sign-in provider did not sign you in', 403)
    if (failure.kind === 'unreachable') return upstreamUnreachable()
    return upstreamRefused('the sign-in provider\'s answer failed a check; start again')
  }

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

/** The password form is offered (and accepted) unless the client signs its users in through providers only. */
function passwordFormAllowed (authz: AuthorizationRequest | undefined): boolean {
  return authz?.client.providers === null || authz?.client.providers === undefined
}

/** A form's fields (anything else, JSON included, is an empty form: the CSRF check then refuses it). */
function formBody (request: FastifyRequest): Record<string, unknown> {
  const type = request.headers['content-type'] ?? ''
  const body = request.body
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type) || body === null || typeof body !== 'object') return {}
  return body as Record<string, unknown>
}

export default browserRoutes

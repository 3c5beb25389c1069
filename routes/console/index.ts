import { randomBytes } from 'node:crypto'
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import browserSession from '../../plugins/browser-session.js'
import { consoleCookieAttributes, cookieAttributes, cookieNames, newSecret } from '../../lib/browser/cookies.js'
import { ensureConsoleClient } from '../../lib/console/client.js'
import { ConsoleSessions } from '../../lib/console/sessions.js'
import { authorizationPath, consoleReturnTo, sealSignIn, SIGN_IN_SECONDS } from '../../lib/console/sign-in.js'
import { secretBox } from '../../lib/credentials/secret-box.js'
import { GatehouseError, PageError } from '../../lib/errors.js'
import { fromFrameworkError } from '../../lib/http/framework-errors.js'
import type { SignedIn } from '../../lib/oauth/interaction.js'
import type { PageOptions } from '../../plugins/views.js'
import dashboard from './dashboard.js'
import signIn from './sign-in.js'
import users from './users.js'
import clients from './clients.js'
import providers from './providers.js'
import resources from './resources.js'
import invitations from './invitations.js'
import keys from './keys.js'
import events from './events.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A console route every request of which needs no console session: only the sign-in's callback says `sign-in`. */
    console?: 'sign-in'
  }
  interface FastifyRequest {
    /** The console session of this request (set before the handler of every console route but the callback). */
    consoleSession: SignedIn | undefined
  }
  interface FastifyReply {
    /** Renders views/console/<name>.eta in the console's layout, with the signed-in administrator and the CSRF field's value. */
    consolePage: (name: string, data?: Record<string, unknown>, options?: PageOptions) => Promise<FastifyReply>
  }
}

/**
 * The admin console (docs/console.md): one encapsulated context whose pages are a file each (dashboard.ts, users.ts,
 * clients.ts, providers.ts, resources.ts, invitations.ts, keys.ts, events.ts,
 * sign-in.ts; views/console/<page>.eta). What it adds
 * to the browser pages' machinery (plugins/browser-session.ts: cookies, CSRF on every `browser: 'form'` route) is its
 * session: every route here needs a live console session (lib/console/sessions.ts), checked before anything else;
 * without one a page starts the sign-in (a 303 to /authorize as the `gatehouse-console` client, lib/console/sign-in.ts)
 * and a form post is refused. Every change goes through the admin API's own services (lib/admin/) and is an
 * admin_change event naming the console user and the target. Not a CORS route: no other origin may read a console page.
 */
const consolePages: FastifyPluginAsync = async (fastify) => {
  const { config, storage, clock } = fastify
  const names = cookieNames(config.issuer)
  const sessions = new ConsoleSessions({ storage, clock })
  // The sign-in's seal: SECRETS_KEY's box; without one (PostgreSQL and no SECRETS_KEY) a key of this process, so a
  // sign-in then finishes on the instance it started on (as the password step, docs/second-factors.md).
  const box = fastify.secrets ?? secretBox(randomBytes(32))

  // The console's own client, created (or put right) when this process first sends someone to sign in to the console,
  // not at start: a deployment whose console is never used has no such row. Safe with several instances at once.
  let consoleClient: Promise<unknown> | undefined
  const consoleClientReady = async (): Promise<void> => {
    consoleClient ??= ensureConsoleClient(storage, config.issuer).catch((err: unknown) => { consoleClient = undefined; throw err })
    await consoleClient
  }

  fastify.setErrorHandler(async (err: FastifyError | GatehouseError, request, reply) => {
    const known = err instanceof GatehouseError ? err : fromFrameworkError(err, false)
    if (!known) {
      request.log.error({ err }, 'a console request failed')
      return reply.consolePage('error', { error: 'server_error', description: 'Something went wrong on our side. Try again in a moment.' }, { status: 500 })
    }
    for (const [name, value] of Object.entries(known.headers)) if (name !== 'cache-control') reply.header(name, value)
    const error = 'error' in known && typeof known.error === 'string' ? known.error : 'invalid_request'
    return reply.consolePage('error', { error, description: known.message }, { status: known.statusCode })
  })

  await fastify.register(browserSession)
  fastify.decorateRequest('consoleSession', undefined)

  /** Sends this browser through the sign-in, coming back to `returnTo` (a console path). */
  async function startSignIn (reply: FastifyReply, returnTo: string): Promise<FastifyReply> {
    await consoleClientReady()
    const started = { state: newSecret(), nonce: newSecret(), codeVerifier: newSecret(), returnTo, mfa: config.consoleRequireMfa === 'on', expiresAt: clock.now() + SIGN_IN_SECONDS }
    // Lax, not Strict: it must come back on the redirect that ends the sign-in, whichever site the first link was on.
    reply.setCookie(names.consoleSignIn, sealSignIn(box, started), cookieAttributes(names, SIGN_IN_SECONDS))
    return reply.redirect(authorizationPath(config.issuer, started), 303)
  }

  async function requireConsoleSession (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const signedIn = await sessions.current(request.cookies[names.console])
    if (signedIn) {
      request.consoleSession = signedIn
      return undefined
    }
    if (request.cookies[names.console] !== undefined) reply.setCookie(names.console, '', consoleCookieAttributes(names, 0))
    if (request.method === 'GET') return startSignIn(reply, consoleReturnTo(request.url))
    throw new PageError('access_denied', 'your console session has ended; sign in again', 403)
  }

  // Every console route is a browser route (a page or a form) that needs a console session, unless it says it is
  // the sign-in's callback. onRequest: settled before the body is read or the CSRF field judged.
  fastify.addHook('onRoute', (route: RouteOptions) => {
    if (route.config?.browser === undefined) throw new Error(`${String(route.method)} ${route.url}: a console route says config.browser`)
    if (route.config.console === 'sign-in') return
    route.onRequest = [...[route.onRequest ?? []].flat(), requireConsoleSession]
  })

  fastify.decorateReply('consolePage', function (this: FastifyReply, name: string, data: Record<string, unknown> = {}, options?: PageOptions) {
    return this.page(`console/${name}`, { ...data, me: this.request.consoleSession?.user, csrf: this.csrfToken() }, options)
  })

  for (const page of [signIn, dashboard, users, clients, providers, resources, invitations, keys, events]) await fastify.register(page, { sessions, box, names })
}

export default consolePages

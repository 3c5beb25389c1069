import fp from 'fastify-plugin'
import cookie from '@fastify/cookie'
import { randomBytes } from 'node:crypto'
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import { cookieAttributes, cookieNames, isSecretValue, newSecret } from '../lib/browser/cookies.js'
import { checkCsrf } from '../lib/browser/csrf.js'
import { BrowserSessions } from '../lib/browser/sessions.js'
import { secretBox } from '../lib/credentials/secret-box.js'
import { openPasswordStep, PASSWORD_STEP_SECONDS, sealPasswordStep } from '../lib/mfa/password-step.js'
import { badAuthorizationRequest } from '../lib/errors.js'
import { queryOf, readAuthorizationRequest, safeReturnTo, type AuthorizationRequest, type Query } from '../lib/oauth/authorize.js'
import type { SignedIn } from '../lib/oauth/interaction.js'
import type { SignInMethod } from '../lib/oauth/sign-in-methods.js'
import type { User } from '../lib/stores/types.js'

/** The authorization request a login or consent form carries (`return_to`), read and checked. */
export interface PendingAuthorization { authz: AuthorizationRequest, returnTo: string }

/** A password step done, waiting for the second factor (lib/mfa/password-step.ts): its user as now, and where it goes on. */
export interface PasswordStepDone { user: User, returnTo: string | null }

interface PendingOptions {
  /** Refuse (400 page) when there is none. */
  required?: boolean
  /** Read this `return_to` instead of the request's own (the upstream callback's comes from the stored sign-in). */
  returnTo?: string | null
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * A browser route: `page` (a page or a redirect) or `form` (a page's form post: CSRF-checked here).
     * Every route under routes/browser/ says which; plugins/html-security-headers.ts keeps them all out of caches
     * and Referers.
     */
    browser?: 'page' | 'form'
  }
  interface FastifyRequest {
    /** The live session of this browser and its user (memoised per request). */
    browserSession: () => Promise<SignedIn | undefined>
    /** The form's (or query's) `return_to` as the checked authorization request (read once per request). */
    pendingAuthorization: {
      (options: PendingOptions & { required: true }): Promise<PendingAuthorization>
      (options?: PendingOptions): Promise<PendingAuthorization | undefined>
    }
    /** The fields of a form post; anything else (JSON included) is an empty form, which the CSRF check refuses. */
    formFields: () => Record<string, unknown>
    /** This browser's binding to the sign-ins it sent to upstream providers, when it has one. */
    upstreamBinding: () => string | undefined
    /**
     * The password step this browser completed (lib/mfa/password-step.ts), while it holds: unexpired, its user still
     * there, enabled and at the credential version the password was checked against. Not a session.
     */
    passwordStep: () => Promise<PasswordStepDone | undefined>
  }
  interface FastifyReply {
    /** This browser's CSRF token for a form on the page, set as a cookie when it has none yet. */
    csrfToken: () => string
    /**
     * Signs `user` in through `method`: a new session under a new id, and a new CSRF token (nothing from before
     * carries over). Undefined, with no session and this browser signed out, when the user changed since it was
     * read (a new password, disabled, deleted): the sign-in checked credentials that no longer hold.
     */
    signIn: (user: User, method: SignInMethod) => Promise<SignedIn | undefined>
    /** Ends this browser's session. */
    signOut: () => Promise<void>
    /** This browser's upstream binding, set as a cookie when it has none (kept across sign-ins, so two tabs work). */
    bindUpstream: () => string
    /** Remembers (sealed, PASSWORD_STEP_SECONDS) that `user`'s password was right; the second factor finishes the sign-in. */
    startPasswordStep: (user: User, returnTo: string | null) => void
    /** Forgets this browser's password step (the sign-in finished, or was given up). */
    endPasswordStep: () => void
  }
}

/**
 * The browser side of every page: cookies (@fastify/cookie), the session, the pending authorization request and
 * CSRF. Registered by routes/browser/index.ts around the browser pages, not autoloaded: its cookie hooks run for
 * those pages only, never on the API's hot routes. The rules live in lib/browser/ (cookies, csrf, sessions).
 */
export const autoload = false

export default fp(async (fastify) => {
  const { config, storage, clock, idTokens } = fastify
  const readIdTokenHint = (token: string) => idTokens.hint(token)
  const names = cookieNames(config.issuer)
  const sessions = new BrowserSessions({ storage, clock, config })
  const issuerOrigin = new URL(config.issuer).origin
  const signedInOf = new WeakMap<FastifyRequest, Promise<SignedIn | undefined>>()
  const pendingOf = new WeakMap<FastifyRequest, Promise<PendingAuthorization | undefined>>()
  const csrfOf = new WeakMap<FastifyRequest, string>()
  // The password step's seal: SECRETS_KEY's box. Without one (PostgreSQL and no SECRETS_KEY, where only passkeys can
  // be second factors) a key of this process: the step then holds on this instance only (docs/second-factors.md).
  const stepBox = fastify.secrets ?? secretBox(randomBytes(32))

  await fastify.register(cookie)

  fastify.addHook('onRoute', (route: RouteOptions) => {
    const kind = route.config?.browser
    if (kind !== 'page' && kind !== 'form') throw new Error(`${String(route.method)} ${route.url}: a browser route says config.browser: 'page' or 'form'`)
    if (kind === 'form') route.preValidation = [csrf, ...[route.preValidation ?? []].flat()]
  })

  async function csrf (request: FastifyRequest): Promise<void> {
    const { origin, 'sec-fetch-site': fetchSite } = request.headers
    checkCsrf({ cookie: request.cookies[names.csrf], field: request.formFields().csrf, origin, fetchSite, issuerOrigin })
  }

  fastify.decorateRequest('formFields', function (this: FastifyRequest) {
    const type = this.headers['content-type'] ?? ''
    const body = this.body
    if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type) || body === null || typeof body !== 'object') return {}
    return body as Record<string, unknown>
  })

  fastify.decorateRequest('browserSession', function (this: FastifyRequest) {
    let signedIn = signedInOf.get(this)
    if (signedIn === undefined) signedInOf.set(this, signedIn = sessions.current(this.cookies[names.session]))
    return signedIn
  })

  async function readPending (returnToText: unknown, required: boolean | undefined, address: string): Promise<PendingAuthorization | undefined> {
    const returnTo = safeReturnTo(returnToText)
    if (returnTo === undefined) {
      if (required) throw badAuthorizationRequest('the form has no authorization request')
      return undefined
    }
    const clients = fastify.clientLookup(address, { page: true })
    const pushed = { store: storage.pushedRequests, now: clock.now(), requiredEverywhere: config.requirePar === 'on' }
    return { authz: await readAuthorizationRequest(queryOf(returnTo), { clients, resources: storage.resources, readIdTokenHint, pushed }), returnTo }
  }

  fastify.decorateRequest('pendingAuthorization', function (this: FastifyRequest, options: PendingOptions = {}) {
    if (options.returnTo !== undefined) return readPending(options.returnTo, options.required, this.addressKey)
    let pending = pendingOf.get(this)
    if (pending === undefined) {
      const own = this.method === 'POST' ? this.formFields().return_to : (this.query as Query).return_to
      pendingOf.set(this, pending = readPending(own, false, this.addressKey))
    }
    if (!options.required) return pending
    return pending.then((found) => found ?? readPending(undefined, true, this.addressKey))
  } as FastifyRequest['pendingAuthorization'])

  fastify.decorateRequest('upstreamBinding', function (this: FastifyRequest) {
    const binding = this.cookies[names.upstream]
    return isSecretValue(binding) ? binding : undefined
  })

  fastify.decorateRequest('passwordStep', async function (this: FastifyRequest) {
    const step = openPasswordStep(stepBox, this.cookies[names.step], clock.now())
    if (step === undefined) return undefined
    const user = await storage.users.findById(step.userId)
    if (!user || user.disabled || user.credentialVersion !== step.credentialVersion) return undefined
    return { user, returnTo: step.returnTo }
  })

  fastify.decorateReply('startPasswordStep', function (this: FastifyReply, user: User, returnTo: string | null) {
    const expiresAt = clock.now() + PASSWORD_STEP_SECONDS
    const sealed = sealPasswordStep(stepBox, { userId: user.id, credentialVersion: user.credentialVersion, returnTo, expiresAt })
    this.setCookie(names.step, sealed, cookieAttributes(names, PASSWORD_STEP_SECONDS))
  })

  function endPasswordStep (reply: FastifyReply): void {
    if (reply.request.cookies[names.step] !== undefined) reply.setCookie(names.step, '', cookieAttributes(names, 0))
  }
  fastify.decorateReply('endPasswordStep', function (this: FastifyReply) { endPasswordStep(this) })

  fastify.decorateReply('csrfToken', function (this: FastifyReply) {
    const token = csrfOf.get(this.request) ?? this.request.cookies[names.csrf]
    if (isSecretValue(token)) return token
    return newCsrfToken(this)
  })

  function newCsrfToken (reply: FastifyReply): string {
    const token = newSecret()
    reply.setCookie(names.csrf, token, cookieAttributes(names))
    csrfOf.set(reply.request, token)
    return token
  }

  fastify.decorateReply('signIn', async function (this: FastifyReply, user: User, method: SignInMethod) {
    const started = await sessions.start(user, method, this.request.cookies[names.session], this.request.headers['user-agent'])
    newCsrfToken(this)
    // Whatever sign-in was half done in this browser, this one replaces it.
    endPasswordStep(this)
    if (started === undefined) {
      this.setCookie(names.session, '', cookieAttributes(names, 0))
      signedInOf.set(this.request, Promise.resolve(undefined))
      return undefined
    }
    const { cookie, session } = started
    this.setCookie(names.session, cookie, cookieAttributes(names, sessions.ttl))
    const signedIn = { session, user }
    signedInOf.set(this.request, Promise.resolve(signedIn))
    return signedIn
  })

  fastify.decorateReply('signOut', async function (this: FastifyReply) {
    await sessions.end(this.request.cookies[names.session])
    this.setCookie(names.session, '', cookieAttributes(names, 0))
    endPasswordStep(this)
    signedInOf.set(this.request, Promise.resolve(undefined))
  })

  fastify.decorateReply('bindUpstream', function (this: FastifyReply) {
    const existing = this.request.upstreamBinding()
    if (existing !== undefined) return existing
    const binding = newSecret()
    this.setCookie(names.upstream, binding, cookieAttributes(names))
    return binding
  })
}, { name: 'browser-session', dependencies: ['config', 'clock', 'storage', 'id-tokens', 'secrets', 'client-address', 'client-metadata-documents'] })

import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { newSecret } from '../../lib/browser/cookies.js'
import { ACCOUNT_PATH, LINK_TO_ACCOUNT, localReturnTo } from '../../lib/browser/return-to.js'
import { digest } from '../../lib/credentials/digest.js'
import { AuthorizationError, NoSuchEndpointError, PageError, tooManyRequests, unknownProvider, upstreamRefused, upstreamUnreachable } from '../../lib/errors.js'
import type { AuthorizationRequest, Query } from '../../lib/oauth/authorize.js'
import { upstreamStartLimits } from '../../lib/oauth/brute-force.js'
import type { UpstreamProvider } from '../../lib/stores/types.js'
import { signInAccepted, upstreamSignIn } from '../../lib/oauth/sign-in-methods.js'
import { linkToUser, resolveAccount } from '../../lib/upstream/accounts.js'
import { UpstreamCallError, type UpstreamProfile } from '../../lib/upstream/client.js'
import { PROVIDER_NAME } from '../../schemas/common.js'
import { linkProviderSchema } from '../../schemas/accounts.js'
import { upstreamCallbackSchema, upstreamLoginSchema } from '../../schemas/browser.js'
import { signedIn } from './pages.js'

/** How long a sign-in sent to a provider may take to come back. */
const UPSTREAM_TRANSACTION_TTL_SECONDS = 600

/**
 * Sign-in through upstream providers: GET /login/{name} sends the browser to the provider, …/callback brings
 * it back and ends exactly as the login form does (pages.ts `signedIn`); POST /account/providers/link starts the
 * same sign-in for a signed-in user, whose callback links the provider account to them instead. The rules live in lib/upstream/
 * (openid-client, accounts) and lib/admin/providers.ts.
 */
const upstream: FastifyPluginAsync = async (fastify) => {
  const { storage, clock, throttle, events, providers } = fastify

  /** The provider a URL names; a name no provider can have is no such path (answered as any unknown path, JSON). */
  async function providerNamed (name: string): Promise<UpstreamProvider> {
    if (!PROVIDER_NAME.test(name)) throw new NoSuchEndpointError()
    const provider = await storage.providers.find(name)
    if (!provider) throw unknownProvider()
    return provider
  }

  /** A client restricted to some providers offers no other (checked when the sign-in starts and when it comes back). */
  function checkOffered (provider: UpstreamProvider, authz: AuthorizationRequest | undefined): void {
    if (!signInAccepted(authz?.client, provider.name)) throw new PageError('access_denied', 'this application does not offer that sign-in provider', 403)
  }

  /** No: back to the client as access_denied when an authorization request is pending, else a 403 page. */
  function refuse (authz: AuthorizationRequest | undefined, description: string): never {
    if (authz) throw new AuthorizationError('access_denied', description, authz)
    throw new PageError('access_denied', description, 403)
  }

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

  /**
   * Sends this browser to `provider` with `state`, `nonce` and PKCE, remembering the pending sign-in (bound to this
   * browser) and where it returns: `returnTo`, an /authorize path, a page of ours, or LINK_TO_ACCOUNT.
   */
  async function start (request: FastifyRequest, reply: FastifyReply, provider: UpstreamProvider, returnTo: string | null): Promise<FastifyReply> {
    // A flood of starts would fill the pending sign-ins (and make us call the provider): bounded per address.
    const wait = await throttle.take(upstreamStartLimits(request.addressKey))
    if (wait !== undefined) {
      events.emit({ type: 'upstream_failed', provider: provider.name, reason: 'throttled', ip: request.ip }, request.log)
      throw tooManyRequests(wait, 'too many sign-ins started from this address; wait a minute, then try again')
    }
    // This browser's binding (plugins/browser-session.ts): the store keeps its digest with the pending sign-in.
    const binding = reply.bindUpstream()
    const checks = { state: newSecret(), nonce: newSecret(), codeVerifier: newSecret() }
    let location: URL
    try {
      location = await providers.upstream.authorizationUrl(provider, checks)
    } catch (err) {
      throw upstreamFailure(request, provider, err)
    }
    const now = clock.now()
    await storage.upstreamTransactions.create({
      idHash: digest(checks.state),
      bindingHash: digest(binding),
      provider: provider.name,
      nonce: checks.nonce,
      codeVerifier: checks.codeVerifier,
      returnTo,
      createdAt: now,
      expiresAt: now + UPSTREAM_TRANSACTION_TTL_SECONDS
    })
    return reply.redirect(location.href, 303)
  }

  fastify.get('/login/:name', { schema: upstreamLoginSchema, config: { browser: 'page' } }, async (request, reply) => {
    const provider = await providerNamed((request.params as { name: string }).name)
    // The pending authorization request is checked now, so a bad one never reaches the provider.
    const pending = await request.pendingAuthorization()
    checkOffered(provider, pending?.authz)
    return start(request, reply, provider, pending?.returnTo ?? localReturnTo((request.query as Query).return_to) ?? null)
  })

  // The account page's "link another": a form (CSRF-checked), so no other site can start a link in this browser
  // (a provider account signed in there by someone else would otherwise end up linked to this user).
  fastify.post('/account/providers/link', { schema: linkProviderSchema, config: { browser: 'form' } }, async (request, reply) => {
    if (!await request.browserSession()) return reply.redirect(`/login?return_to=${encodeURIComponent(ACCOUNT_PATH)}`, 303)
    const name = request.formFields().provider
    const provider = typeof name === 'string' && PROVIDER_NAME.test(name) ? await storage.providers.find(name) : undefined
    if (!provider) throw unknownProvider()
    return start(request, reply, provider, LINK_TO_ACCOUNT)
  })

  /** The end of a "link another": the provider account joins the signed-in user's, then back to the account page. */
  async function linkBack (request: FastifyRequest, reply: FastifyReply, provider: UpstreamProvider, profile: UpstreamProfile): Promise<FastifyReply> {
    const signedIn = await request.browserSession()
    if (!signedIn) throw new PageError('access_denied', 'you were signed out before the provider answered; sign in and link it again', 403)
    const outcome = await linkToUser({ storage, clock }, provider, profile, signedIn.user)
    if (outcome === 'taken') {
      events.emit({ type: 'upstream_failed', provider: provider.name, reason: 'linked_elsewhere', ip: request.ip }, request.log)
      throw new PageError('access_denied', `this ${provider.displayName} account is linked to another user; sign in with it there, or unlink it there first`, 409)
    }
    if (outcome === 'linked') events.emit({ type: 'provider_linked', userId: signedIn.user.id, provider: provider.name, ip: request.ip }, request.log)
    return reply.redirect(`${ACCOUNT_PATH}?done=linked`, 303)
  }

  fastify.get('/login/:name/callback', { schema: upstreamCallbackSchema, config: { browser: 'page' } }, async (request, reply) => {
    const provider = await providerNamed((request.params as { name: string }).name)
    const query = request.query as Query
    const binding = request.upstreamBinding()
    // The pending sign-in: this browser's, for this provider, not used before, not expired (one atomic consume).
    const transaction = typeof query.state === 'string' && binding !== undefined
      ? await storage.upstreamTransactions.consume(digest(query.state), digest(binding), clock.now())
      : undefined
    if (!transaction || transaction.provider !== provider.name) {
      events.emit({ type: 'upstream_failed', provider: provider.name, reason: 'state', ip: request.ip }, request.log)
      throw upstreamRefused('this sign-in was not started in this browser, was already used, or has expired; start again')
    }
    const linking = transaction.returnTo === LINK_TO_ACCOUNT
    const pending = linking ? undefined : await request.pendingAuthorization({ returnTo: transaction.returnTo })
    checkOffered(provider, pending?.authz)
    let profile
    try {
      profile = await providers.upstream.complete(provider, new URL(request.url, 'http://callback.invalid').searchParams, {
        state: query.state as string,
        nonce: transaction.nonce,
        codeVerifier: transaction.codeVerifier
      })
    } catch (err) {
      const failure = upstreamFailure(request, provider, err)
      if (failure.error === 'access_denied') refuse(pending?.authz, 'the sign-in provider did not sign you in')
      throw failure
    }
    if (linking) return linkBack(request, reply, provider, profile)
    const account = await resolveAccount({ storage, clock }, provider, profile)
    if (account.outcome === 'refused') {
      events.emit({ type: 'upstream_failed', provider: provider.name, reason: account.reason, ip: request.ip }, request.log)
      refuse(pending?.authz, account.reason === 'disabled' ? 'this account is disabled' : 'this account may not sign in here')
    }
    events.emit({ type: 'upstream_signin', provider: provider.name, userId: account.user.id, outcome: account.outcome, ip: request.ip }, request.log)
    return signedIn(reply, account.user, upstreamSignIn(provider.name, profile.amr), pending, undefined, localReturnTo(transaction.returnTo))
  })
}

export default upstream

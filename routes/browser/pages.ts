import type { FastifyReply } from 'fastify'
import { assetUrls } from '../../lib/browser/assets.js'
import { describeScopes } from '../../lib/browser/scope-words.js'
import { logoSource, shownClient } from '../../lib/oauth/client-display.js'
import { consentScopes } from '../../lib/oauth/claims.js'
import { codeResponse, decideNext } from '../../lib/oauth/authorization-flow.js'
import { consentSections } from '../../lib/oauth/resources.js'
import type { AuthorizationRequest, ClientResponse } from '../../lib/oauth/authorize.js'
import { passwordFormAllowed, signInAccepted, type SignInMethod } from '../../lib/oauth/sign-in-methods.js'
import type { Storage, UpstreamProvider, User } from '../../lib/stores/types.js'
import type { PendingAuthorization } from '../../plugins/browser-session.js'

/**
 * What the browser pages share (not a route file: routes/browser/index.ts registers the pages): the login and
 * consent pages as rendered, and the one ending of every sign-in.
 */

/** Origins a page's form may end up at (CSP form-action): a login or consent post 303s on to the client. */
export const formTargets = (authz: AuthorizationRequest | undefined): string[] => authz ? [new URL(authz.redirectUri).origin] : []

/** The providers the login page offers for this request: all of them, or those the client names (then no password form). */
async function offeredProviders (storage: Storage, authz: AuthorizationRequest | undefined): Promise<UpstreamProvider[]> {
  return (await storage.providers.list()).filter((p) => signInAccepted(authz?.client, p.name))
}

export interface LoginPage { returnTo?: string | undefined, authz?: AuthorizationRequest | undefined, username?: string, message?: string, status?: number }

export async function showLogin (reply: FastifyReply, input: LoginPage): Promise<FastifyReply> {
  const query = input.returnTo === undefined ? '' : `?return_to=${encodeURIComponent(input.returnTo)}`
  const providers = await offeredProviders(reply.server.storage, input.authz)
  // "Sign in with a passkey" wherever the password form is (a local sign-in too): its scripts, with the page's nonce.
  const passkeys = passwordFormAllowed(input.authz?.client) ? assetUrls() : undefined
  return reply.page('login', {
    csrf: reply.csrfToken(),
    returnTo: input.returnTo,
    clientId: input.authz?.client.id,
    client: input.authz === undefined ? undefined : shownClient(input.authz.client),
    username: input.username ?? input.authz?.loginHint,
    message: input.message,
    passwordForm: passwordFormAllowed(input.authz?.client),
    providers: providers.map((p) => ({ name: p.name, displayName: p.displayName, href: `/login/${p.name}${query}` })),
    // Self-service sign-up (SIGNUP=open), keeping the pending request so it continues once the account is made.
    signupHref: reply.server.config.signup === 'open' ? `/signup${query}` : undefined,
    passkeys
  }, { status: input.status, formTargets: formTargets(input.authz), script: passkeys !== undefined, imageSources: logoSources(input.authz) })
}

/**
 * What a self-registered client says about itself (RFC 7591 §2), shown marked as not verified; undefined for others.
 * A Client ID Metadata Document's client also shows the host its document is served from (its id is that URL): the
 * one thing about it that is checked, as the draft's §6.3 advises showing.
 */
function registeredClientShown (client: AuthorizationRequest['client']) {
  if (client.registration === null) return undefined
  const host = client.registration === 'cimd' ? new URL(client.id).host : undefined
  return { name: client.clientName, uri: client.clientUri, logo: client.logoUri, host }
}

/**
 * The CSP img-src of a page showing the client's logo (lib/oauth/client-display.ts): that one URL, nothing else from
 * its host. On the login page only an administrator's client shows one; the consent page also shows a registered
 * client's (marked as not verified).
 */
function logoSources (authz: AuthorizationRequest | undefined, registered = false): string[] {
  if (authz === undefined) return []
  const logo = registered && authz.client.registration !== null ? authz.client.logoUri : shownClient(authz.client).logo
  return logo == null ? [] : [logoSource(logo)]
}

/** The consent page; for a device request (`userCode`, RFC 8628 §5.4) it names the code and posts back to /device. */
export async function showConsent (reply: FastifyReply, input: { authz: AuthorizationRequest, returnTo: string, user: User, scopes: string[], userCode?: string }): Promise<FastifyReply> {
  return reply.page('consent', {
    csrf: reply.csrfToken(),
    returnTo: input.returnTo,
    userCode: input.userCode,
    action: input.userCode === undefined ? undefined : '/device',
    clientId: input.authz.client.id,
    client: shownClient(input.authz.client),
    username: input.user.username,
    ...consentLists(consentScopes(input.scopes, input.authz.claims), input.authz),
    registered: registeredClientShown(input.authz.client)
  }, { formTargets: formTargets(input.authz), imageSources: logoSources(input.authz, true) })
}

/** The consent page's lists: each API the request names (RFC 8707: its name, URI and the scopes it defines), then the rest. */
function consentLists (scopes: string[], authz: AuthorizationRequest): { scopes: Array<{ name: string, text: string }>, apis: Array<{ name: string, uri: string, scopes: Array<{ name: string, text: string }> }> } {
  const { apis, own } = consentSections(scopes, authz.resources)
  return { scopes: describeScopes(own), apis: apis.map((api) => ({ ...api, scopes: describeScopes(api.scopes) })) }
}

/**
 * The one way an answer goes back to the client: a 303 to its redirect URI (RFC 9700 §4.12: never 307), or, for
 * response_mode=form_post, a page whose form posts the parameters there by itself (OAuth 2.0 Form Post Response Mode
 * §2): every value escaped by the template, one nonce'd script and no inline handler, a button when scripts are off,
 * and a CSP whose form-action allows the redirect URI's origin on this page only.
 */
export async function answerClient (reply: FastifyReply, response: ClientResponse): Promise<FastifyReply> {
  if (response.mode === 'query') return reply.redirect(response.location, 303)
  return reply.page('form-post', { action: response.action, fields: response.fields }, { formTargets: [new URL(response.action).origin], script: true })
}

/**
 * The one ending of every sign-in (the login form, an upstream provider): a new session under a new id and a
 * new CSRF token, then straight on to the client when nothing else is needed (no consent to ask), else back to
 * the authorization request, which shows what is. RFC 9700 §4.12: 303, never 307. When the user changed while the
 * sign-in was checked (a new password, a disable), no session starts: `whenStale` answers (the login form says the
 * password is wrong, as it now is), or without one, back to the request as nobody signed in. Without a pending
 * request it lands on `landing`: the signed-in page, or a page of ours the sign-in was for (lib/browser/return-to.ts).
 */
export async function signedIn (reply: FastifyReply, user: User, method: SignInMethod, pending: PendingAuthorization | undefined,
  whenStale?: () => Promise<FastifyReply>, landing = '/login'): Promise<FastifyReply> {
  const { storage, clock, config } = reply.server
  const session = await reply.signIn(user, method)
  if (session === undefined) return whenStale ? whenStale() : reply.redirect(pending?.returnTo ?? '/login', 303)
  if (pending === undefined) return reply.redirect(landing, 303)
  const now = clock.now()
  const next = await decideNext(storage, { authz: pending.authz, signedIn: session, now, fresh: { login: true }, mfa: config.mfa, log: reply.log })
  if (next.kind === 'code') return answerClient(reply, await codeResponse({ storage, issuer: config.issuer }, pending.authz, next, now))
  return reply.redirect(pending.returnTo, 303)
}

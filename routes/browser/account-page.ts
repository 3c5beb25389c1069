import type { FastifyReply, FastifyRequest } from 'fastify'
import { hasPassword } from '../../lib/accounts/account-access.js'
import { pendingEmailChange } from '../../lib/accounts/email-change.js'
import { describeDevice } from '../../lib/browser/device.js'
import { ACCOUNT_PATH } from '../../lib/browser/return-to.js'
import type { TotpEnrolment } from '../../lib/mfa/enrolment.js'
import type { SignedIn } from '../../lib/oauth/interaction.js'

/**
 * The account page as rendered (not a route file: account.ts and account-access.ts register its forms). Every form
 * of the page answers either with a 303 back here and a notice (`?done=`), or with the page again, its message in
 * the form's own section, and a 4xx status.
 */

/** The page's sections, each with its form(s) and its place for a message. */
export type AccountSection = 'profile' | 'email' | 'password' | 'factors' | 'sessions' | 'apps' | 'providers'

/** What `?done=` may name, and what the page then says: fixed words, so a link cannot make the page say anything else. */
const NOTICES: Record<string, string> = {
  profile: 'Your profile is saved.',
  email: 'We sent a link to the new address: your address changes when you open it.',
  password: 'Your password is changed. Every other session was signed out.',
  sessions: 'Every other session is signed out.',
  session: 'That session is signed out.',
  app: 'The app\'s access is revoked: it must ask you again.',
  linked: 'The sign-in provider is linked: you can sign in with it.',
  unlinked: 'The sign-in provider is unlinked.',
  factor: 'The authenticator app is on: you will be asked for a code after your password.',
  factor_removed: 'The authenticator app is removed.'
}
export type Done = keyof typeof NOTICES

export const LOGIN_FOR_ACCOUNT = `/login?return_to=${ACCOUNT_PATH}`

/** Back to the page after a change, with its notice (303: never a repeated post). */
export const doneRedirect = (reply: FastifyReply, done: Done) => reply.redirect(`${ACCOUNT_PATH}?done=${done}`, 303)

/** This browser's session, or undefined after answering with the login page's address (then back here). */
export async function signedInOr (request: FastifyRequest, reply: FastifyReply): Promise<SignedIn | undefined> {
  const signedIn = await request.browserSession()
  if (!signedIn) await reply.redirect(LOGIN_FOR_ACCOUNT, 303)
  return signedIn
}

const when = (seconds: number) => `${new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`

export interface AccountMessage { section: AccountSection, text: string, status?: number }

/** What the second-factor section shows once: an app being added, or new recovery codes. */
export interface FactorsShown { enrolment?: TotpEnrolment | undefined, recoveryCodes?: string[] }

export async function showAccount (reply: FastifyReply, signedIn: SignedIn, input: { message?: AccountMessage, done?: unknown, factors?: FactorsShown } = {}): Promise<FastifyReply> {
  const { storage, clock, secrets } = reply.server
  const { user, session } = signedIn
  const now = clock.now()
  const [sessions, consents, identities, providers, pendingEmail, factors, recoveryCodesLeft] = await Promise.all([
    storage.sessions.listForUser(user.id, now),
    storage.consents.listForUser(user.id),
    storage.identities.listForUser(user.id),
    storage.providers.list(),
    pendingEmailChange(storage, user, now),
    storage.factors.list(user.id),
    storage.factors.recoveryCodesLeft(user.id)
  ])
  const linked = new Set(identities.map((i) => i.provider))
  const unlinked = providers.filter((p) => !linked.has(p.name))
  const displayName = (name: string) => providers.find((p) => p.name === name)?.displayName ?? name
  const message = input.message
  return reply.page('account', {
    csrf: reply.csrfToken(),
    username: user.username,
    fullName: user.fullName ?? '',
    email: user.email,
    emailVerified: user.emailVerified,
    pendingEmail,
    hasPassword: hasPassword(user),
    notice: typeof input.done === 'string' ? NOTICES[input.done] : undefined,
    message,
    sessions: sessions.map((s) => ({
      sid: s.sid ?? undefined,
      device: describeDevice(s.userAgent),
      signedInAt: when(s.createdAt),
      method: s.provider === null ? 'password' : displayName(s.provider),
      current: s.idHash === session.idHash
    })),
    apps: consents.map((c) => ({ clientId: c.clientId, scopes: c.scope.split(' ').filter(Boolean) })),
    identities: identities.map((i) => ({ provider: i.provider, displayName: displayName(i.provider), email: i.email })),
    linkable: unlinked.map((p) => ({ name: p.name, displayName: p.displayName })),
    // Authenticator apps (account-factors.ts): the confirmed ones, and what is shown once.
    secretsAvailable: secrets !== undefined,
    totpApps: factors.filter((f) => f.kind === 'totp' && f.confirmedAt !== null)
      .map((f) => ({ id: f.id, name: f.name, addedAt: when(f.confirmedAt!), lastUsedAt: f.lastUsedAt === null ? undefined : when(f.lastUsedAt) })),
    hasSecondFactor: factors.some((f) => f.confirmedAt !== null),
    recoveryCodesLeft,
    enrolment: input.factors?.enrolment,
    recoveryCodes: input.factors?.recoveryCodes
  }, {
    status: message?.status ?? (message ? 400 : 200),
    // "Link another" posts here, then 303s on to the provider: CSP form-action must allow where it lands.
    formTargets: [...new Set(unlinked.flatMap((p) => [p.issuer, p.authorizationEndpoint].filter((u): u is string => u !== null).map((u) => new URL(u).origin)))]
  })
}

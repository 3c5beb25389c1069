import { SECURITY_EVENT_TYPES, type SecurityEventType } from '../../schemas/events.js'
import { createHash } from 'node:crypto'

/**
 * Security events an operator wants to read and alert on. Code in lib/ reports them through a SecurityEvents
 * sink it is given (the events plugin logs each one and counts it in /metrics); nothing in an event is a
 * secret: usernames appear only as a short digest, tokens only by their family (grant) id.
 */
export type SecurityEvent =
  | { type: 'login_failed', username: string, clientId: string, ip: string }
  | { type: 'login_throttled', username: string, clientId: string, ip: string }
  | { type: 'login_shed', clientId: string, ip: string }
  /** The user's stored hash costs more than a sign-in may spend (lib/credentials/hash-limits.ts): not run, the sign-in failed. */
  | { type: 'login_hash_refused', username: string, reason: string }
  | { type: 'refresh_reuse', grantId: string, clientId: string }
  | { type: 'code_reuse', clientId: string, grantId: string | undefined }
  | { type: 'key_rotated', kid: string, activatesAt: number }
  | { type: 'admin_change', actor: string, action: string, target: string, fields: string[] }
  /** A sign-in through an upstream provider failed (the provider said no or could not be reached, a check failed). */
  | { type: 'upstream_failed', provider: string, reason: string, ip: string, detail?: string }
  /** A sign-in through an upstream provider succeeded: the local user it reached, and whether it was linked or created now. */
  | { type: 'upstream_signin', provider: string, userId: string, outcome: 'existing' | 'linked' | 'created', ip: string }
  /** A message (its template and outbox id, never its recipient or links) could not be sent after every attempt. */
  | { type: 'mail_failed', template: string, id: string, attempts: number, reason: string }
  /** A user proved their e-mail address through a verification link. */
  | { type: 'email_verified', userId: string, ip: string }
  /** The account page (routes/browser/account*.ts): each change a signed-in user makes to their own account. */
  | { type: 'profile_changed', userId: string, ip: string, fields: string[] }
  /** A new address was asked for: a link went to it, a note to the old one; nothing changes until the link is followed. */
  | { type: 'email_change_requested', userId: string, ip: string }
  /** A change-of-address link was followed: the new address replaced the old one, verified. */
  | { type: 'email_changed', userId: string, ip: string }
  /** The user set a new password: every other session ended, every token issued before refused. */
  | { type: 'password_changed', userId: string, ip: string }
  /** The user ended sessions of theirs from the account page (`others`: all but the one asking; else one). */
  | { type: 'sessions_ended', userId: string, ip: string, scope: 'others' | 'one', count: number }
  /** The user revoked an app: its consent and the grants (refresh tokens, access tokens) it held for them. */
  | { type: 'consent_revoked', userId: string, clientId: string, ip: string, grants: number }
  | { type: 'provider_linked', userId: string, provider: string, ip: string }
  | { type: 'provider_unlinked', userId: string, provider: string, ip: string }
  /** An administrator invited an address (the invitation by its id: never the address or the link, as mail_failed). */
  | { type: 'invitation_sent', actor: string, invitationId: string }
  /** An invitation's link made an account (the new user, the invitation it came from). */
  | { type: 'invitation_accepted', userId: string, invitationId: string, ip: string }
  /** Someone created their own account (SIGNUP=open): made when they followed the link mailed to its address. */
  | { type: 'signup', userId: string, ip: string }
  /** A password-reset link was sent to a user (from /forgot-password, the admin API or the CLI): never for an unknown e-mail. */
  | { type: 'password_reset_requested', userId: string, ip: string }
  /** A user set a new password through a reset link: every session ended, every earlier token refused. */
  | { type: 'password_reset', userId: string, ip: string }
  // Second factors (docs/second-factors.md). `factor` is what was used: an authenticator app's code, a recovery code, a passkey.
  /** A factor was added: an authenticator app confirmed by its first code, or a new set of recovery codes made. */
  | { type: 'mfa_enrolled', userId: string, ip: string, factor: SecondFactor }
  /** The user removed a factor of theirs (the account page; `factorId`: its id, never its secret); an administrator's removal is factors_reset. */
  | { type: 'mfa_removed', userId: string, ip: string, factor: SecondFactor, factorId?: string }
  /**
   * A second factor was refused: a wrong, replayed or old code; a bad passkey assertion. A passkey sign-in without a
   * password has no user yet (`userId` absent); a passkey's `reason` is lib/mfa/webauthn.ts PasskeyRefusal
   * (malformed, challenge, unknown_credential, user_handle, invalid, counter, disabled).
   */
  | { type: 'mfa_failed', userId?: string, ip: string, factor: SecondFactor, reason?: string, detail?: string }
  /** A second factor was accepted after the password or at a step-up (a code; a passkey's is passkey_signin). */
  | { type: 'mfa_passed', userId: string, ip: string, factor: SecondFactor }
  /** A user added a passkey on the account page. */
  | { type: 'passkey_registered', userId: string, factorId: string, ip: string }
  /** A user signed in with a passkey (`step` signin: no password, two factors in one), or used one as the second factor; `amr` hwk or swk. */
  | { type: 'passkey_signin', userId: string, factorId: string, amr: string, step: 'signin' | 'second-factor', ip: string }
  /** An administrator (admin API or CLI) removed a user's factors: all of them, or one by its id. */
  | { type: 'factors_reset', actor: string, userId: string, scope: 'all' | 'one', count: number }
  // Dynamic client registration (RFC 7591/7592, docs/registration.md): the client by its id, never a token.
  /** A client registered itself at POST /register (`mode`: open, or token with an initial access token). */
  | { type: 'client_registered', clientId: string, mode: 'open' | 'token', ip: string }
  /** A registered client replaced its metadata (RFC 7592 PUT); `secretRotated` when it was given a new secret. */
  | { type: 'client_registration_updated', clientId: string, ip: string, secretRotated: boolean }
  /** A registered client deleted itself (RFC 7592 DELETE). */
  | { type: 'client_registration_deleted', clientId: string, ip: string }
  /** A registration refused for its limit (too many from one address). */
  | { type: 'client_registration_throttled', ip: string }
  // Client ID Metadata Documents (docs/client-metadata-documents.md): the client by its id (the document's URL).
  /** A URL client_id's document was fetched and used (its client row created or refreshed); used for `ttlSeconds`. */
  | { type: 'client_metadata_fetched', clientId: string, ip: string, ttlSeconds: number }
  /** A URL client_id's document was refused: unreachable, a redirect, too large, a private address, invalid, or `throttled` (the per-address limit). */
  | { type: 'client_metadata_refused', clientId: string, ip: string, reason: string }
  /** RFC 8628: a user allowed a device (its client) on the /device page; its next poll gets the tokens. */
  | { type: 'device_approved', userId: string, clientId: string, ip: string }
  /** RFC 8628: a user denied a device on the /device page (or it asked for a scope the user does not hold); its polls answer access_denied. */
  | { type: 'device_denied', userId: string, clientId: string, ip: string, reason: 'user' | 'invalid_scope' }
  /** Too many user codes tried on the /device page from one address (RFC 8628 §5.1): 429 until the window ends. */
  | { type: 'device_code_throttled', ip: string }
  /**
   * RFC 8693: a client exchanged a user's token (issued to `subjectClientId`) for one to `audience`, acting as `actor`
   * (the client itself, or the `sub` of its actor token).
   */
  /**
   * A client failed to authenticate (invalid_client) at `endpoint`: `clientId` as claimed (unverified), `method` as
   * read (client_secret_basic, client_secret_post, private_key_jwt, none), `reason` the description it was given.
   */
  | { type: 'client_auth_failed', clientId: string, method: string, endpoint: string, reason: string, ip: string }
  | { type: 'token_exchanged', clientId: string, userId: string, subjectClientId: string, audience: string, actor: string, ip: string }
  // The admin console (docs/console.md): its sign-ins; its changes are admin_change events like the admin API's.
  /** An administrator signed in to the console. */
  | { type: 'console_signin', userId: string, ip: string }
  /** A console sign-in was refused: `state` (not this browser's, used, expired), the error /authorize answered, or not_admin, mfa_required, nonce, disabled. */
  | { type: 'console_signin_failed', reason: string, userId?: string, ip: string }

/** Routine events at info, the ones that may mean an attack or an incident at warn. */
export const WARN_EVENTS = new Set<SecurityEvent['type']>(['login_throttled', 'login_shed', 'login_hash_refused', 'refresh_reuse', 'code_reuse', 'upstream_failed', 'mail_failed', 'mfa_failed', 'client_registration_throttled', 'device_code_throttled', 'client_metadata_refused', 'console_signin_failed'])

export const EVENT_MESSAGES: Record<SecurityEvent['type'], string> = {
  login_failed: 'sign-in failed',
  login_throttled: 'sign-in throttled: too many failures for this account or address',
  login_shed: 'sign-in shed: the password-hash queue is full',
  login_hash_refused: 'sign-in refused: the stored password hash costs more than a sign-in may spend (re-import it within the bounds, or set a new password)',
  refresh_reuse: 'refresh token reused: its grant was revoked',
  code_reuse: 'authorization code replayed: what its first redemption issued was revoked',
  key_rotated: 'signing key rotated',
  admin_change: 'admin change',
  upstream_failed: 'sign-in through an upstream provider failed',
  upstream_signin: 'signed in through an upstream provider',
  mail_failed: 'a message could not be sent after every attempt: given up (lib/ops/outbox.ts)',
  email_verified: 'e-mail address verified through a link',
  profile_changed: 'account page: profile changed',
  email_change_requested: 'account page: a new e-mail address asked for (a link sent to it, a note to the old one)',
  email_changed: 'e-mail address changed through its link (the old address was told)',
  password_changed: 'account page: password changed (other sessions ended, earlier tokens refused)',
  sessions_ended: 'account page: sessions ended',
  consent_revoked: 'account page: an app\'s consent and tokens revoked',
  provider_linked: 'account page: an upstream provider account linked',
  provider_unlinked: 'account page: an upstream provider account unlinked',
  invitation_sent: 'invitation sent',
  invitation_accepted: 'invitation accepted: an account was made through its link',
  signup: 'account created through sign-up (its e-mail link followed)',
  password_reset_requested: 'password-reset link sent',
  password_reset: 'password changed through a reset link: every session ended, earlier tokens refused',
  mfa_enrolled: 'second factor enrolled (an authenticator app, or a new set of recovery codes)',
  mfa_removed: 'account page: a second factor removed',
  mfa_failed: 'second factor refused (a wrong, replayed or old code; a bad passkey assertion)',
  mfa_passed: 'second factor accepted',
  passkey_registered: 'passkey added on the account page',
  passkey_signin: 'signed in with a passkey, or used one as the second factor',
  factors_reset: 'an administrator removed a user\'s second factors (the user enrols again)',
  client_registered: 'a client registered itself (RFC 7591)',
  client_registration_updated: 'a registered client replaced its metadata (RFC 7592)',
  client_registration_deleted: 'a registered client deleted itself (RFC 7592)',
  client_registration_throttled: 'registration refused: too many from this address',
  device_approved: 'device authorization allowed on the /device page (RFC 8628)',
  device_denied: 'device authorization denied on the /device page (RFC 8628)',
  device_code_throttled: 'device page: too many user codes tried from this address',
  token_exchanged: 'token exchanged for another resource (RFC 8693)',
  client_auth_failed: 'client authentication failed (invalid_client)',
  client_metadata_fetched: 'a client metadata document was fetched and used',
  client_metadata_refused: 'a client metadata document was refused',
  console_signin: 'signed in to the admin console',
  console_signin_failed: 'admin console sign-in refused'
}

/** Every event type (schemas/events.ts lists them for the admin API's schema, which may not import lib/): the same set. */
type Same<A, B> = [A] extends [B] ? [B] extends [A] ? true : false : false
export const EVENT_TYPES_AGREE: Same<SecurityEventType, SecurityEvent['type']> = true
export { SECURITY_EVENT_TYPES }

/** What a second-factor event is about (the `factor` label of gatehouse_second_factor_total). */
export const SECOND_FACTORS = ['totp', 'recovery_code', 'passkey'] as const
export type SecondFactor = typeof SECOND_FACTORS[number]

/** Where an event is written: a request's logger (so the line carries its reqId) or the server's. */
export interface EventLog {
  info (obj: object, msg: string): void
  warn (obj: object, msg: string): void
}

export interface SecurityEvents {
  emit (event: SecurityEvent, log?: EventLog): void
}

/** For code run without a server (the CLI): events go nowhere. */
export const noEvents: SecurityEvents = { emit () {} }

/** A username in logs: enough to correlate attempts on one account, not enough to read it back. */
export const usernameDigest = (username: string): string =>
  createHash('sha256').update(`gatehouse/log/${username}`).digest('base64url').slice(0, 12)

/**
 * What a security event says about a second factor, for gatehouse_second_factor_total (a factor accepted, `success`:
 * after a password, at a step-up, or a passkey sign-in; or refused, `failure`) and gatehouse_second_factor_enrolments_total
 * (`enrolled`: added). Undefined for the other events (removals are counted by type in gatehouse_security_events_total).
 */
export function secondFactorOutcome (event: SecurityEvent): { factor: SecondFactor, outcome: 'success' | 'failure' | 'enrolled' } | undefined {
  switch (event.type) {
    case 'mfa_passed': return { factor: event.factor, outcome: 'success' }
    case 'mfa_failed': return { factor: event.factor, outcome: 'failure' }
    case 'mfa_enrolled': return { factor: event.factor, outcome: 'enrolled' }
    case 'passkey_signin': return { factor: 'passkey', outcome: 'success' }
    case 'passkey_registered': return { factor: 'passkey', outcome: 'enrolled' }
    default: return undefined
  }
}

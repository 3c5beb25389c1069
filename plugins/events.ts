import fp from 'fastify-plugin'
import { SECOND_FACTORS, secondFactorOutcome, usernameDigest, type EventLog, type SecurityEvent, type SecurityEvents } from '../lib/ops/events.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Security events (lib/ops/events.ts): each is logged without secrets and counted in /metrics. */
    events: SecurityEvents
  }
}

/** Routine events at info, the ones that may mean an attack or an incident at warn. */
const WARN = new Set<SecurityEvent['type']>(['login_throttled', 'login_shed', 'login_hash_refused', 'refresh_reuse', 'code_reuse', 'upstream_failed', 'mail_failed', 'mfa_failed', 'client_registration_throttled', 'device_code_throttled', 'client_metadata_refused', 'console_signin_failed'])

const MESSAGES: Record<SecurityEvent['type'], string> = {
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

/**
 * Logs every security event at info or warn, with the request's id when it comes from a request (the
 * logger passed in), and counts it in gatehouse_security_events_total{type} (second factors also in
 * gatehouse_second_factor_total{factor,outcome} and gatehouse_second_factor_enrolments_total{factor}). Usernames are logged as a
 * digest only; nothing secret is ever part of an event.
 */
export default fp(async (fastify) => {
  // The help lists every type: MESSAGES is the one list of them.
  const counter = fastify.metrics.registry.counter('gatehouse_security_events_total', `Security events by type: ${Object.keys(MESSAGES).join(', ')}.`, ['type'])
  // Uses and enrolments apart, so that summing a metric over its labels still means something.
  const secondFactors = fastify.metrics.registry.counter('gatehouse_second_factor_total',
    'Second factors presented, by factor (totp, recovery_code, passkey) and outcome: success (accepted; a passkey sign-in included) or failure (refused).',
    ['factor', 'outcome'])
  const enrolments = fastify.metrics.registry.counter('gatehouse_second_factor_enrolments_total',
    'Second factors added, by factor: an authenticator app confirmed (totp), a new set of recovery codes (recovery_code), a passkey registered.', ['factor'])
  // Every series from the start at 0, so that rate() and increase() see the first failure (a factor guessed at).
  for (const factor of SECOND_FACTORS) {
    for (const outcome of ['success', 'failure']) secondFactors.inc([factor, outcome], 0)
    enrolments.inc([factor], 0)
  }
  fastify.decorate('events', {
    emit (event: SecurityEvent, log: EventLog = fastify.log) {
      counter.inc([event.type])
      const used = secondFactorOutcome(event)
      if (used?.outcome === 'enrolled') enrolments.inc([used.factor])
      else if (used) secondFactors.inc([used.factor, used.outcome])
      const { type, ...fields } = event
      const entry: Record<string, unknown> = { event: type, ...fields }
      if ('username' in fields) {
        delete entry.username
        entry.user = usernameDigest(fields.username)
      }
      if (WARN.has(type)) log.warn(entry, MESSAGES[type])
      else log.info(entry, MESSAGES[type])
    }
  })
}, { name: 'events', dependencies: ['metrics'] })

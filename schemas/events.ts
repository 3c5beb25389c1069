import { Type } from '@sinclair/typebox'
import { OneOf } from './vocabulary.js'

/** Every security event type (lib/ops/events.ts SecurityEvent: the compiler checks the two lists are one set). */
export const SECURITY_EVENT_TYPES = [
  'login_failed', 'login_throttled', 'login_shed', 'login_hash_refused', 'refresh_reuse', 'code_reuse', 'key_rotated',
  'admin_change', 'upstream_failed', 'upstream_signin', 'mail_failed', 'email_verified', 'profile_changed',
  'email_change_requested', 'email_changed', 'password_changed', 'sessions_ended', 'consent_revoked',
  'provider_linked', 'provider_unlinked', 'invitation_sent', 'invitation_accepted', 'signup',
  'password_reset_requested', 'password_reset', 'mfa_enrolled', 'mfa_removed', 'mfa_failed', 'mfa_passed',
  'passkey_registered', 'passkey_signin', 'factors_reset', 'client_registered', 'client_registration_updated',
  'client_registration_deleted', 'client_registration_throttled', 'device_approved', 'device_denied',
  'device_code_throttled', 'token_exchanged', 'client_auth_failed', 'client_metadata_fetched',
  'client_metadata_refused', 'console_signin', 'console_signin_failed'
] as const
export type SecurityEventType = typeof SECURITY_EVENT_TYPES[number]

/** Events a page shows by default, and at most (GET /admin/events, the CLI, the console). */
export const EVENTS_PAGE_DEFAULT = 50
export const EVENTS_PAGE_MAX = 200

/** GET /admin/events's query: filters, and a cursor (`before`), not limit/offset: pages never shift as events arrive. */
export const EventQuerySchema = Type.Object({
  type: Type.Optional(OneOf(SECURITY_EVENT_TYPES, { description: 'only events of this type' })),
  user: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'only this user\'s events: a username (matched by the user\'s id, by the digest of the name as typed at a failed sign-in, and as the target of an admin_change), or a user\'s id' })),
  client_id: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'only events naming this client' })),
  before: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'the cursor: only events older than this id (the `next_before` of the page before); absent: the newest' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: EVENTS_PAGE_MAX, description: `at most this many (default ${EVENTS_PAGE_DEFAULT})` }))
})

const text = (description: string) => Type.Union([Type.String(), Type.Null()], { description })

export const SecurityEventView = Type.Object({
  id: Type.Integer({ description: 'grows with each event stored: newest first is highest first' }),
  at: Type.Integer({ description: 'when it happened, milliseconds since the epoch' }),
  type: Type.String({ description: 'the event type (docs/operating.md lists them)' }),
  user: text('the user\'s id, or (failed and throttled sign-ins) the digest of the username as typed, as the logs write it'),
  username: text('the user\'s username today, when `user` is the id of a user that exists'),
  client_id: text('the client the event names'),
  actor: text('the administrator (admin_change, invitation_sent, factors_reset)'),
  target: text('what an admin_change changed; the invitation of invitation_sent'),
  ip: text('the client address of the request'),
  details: Type.Record(Type.String(), Type.Unknown(), { description: 'the event\'s other fields (never a secret)' })
})

export const EventPageView = Type.Object({
  events: Type.Array(SecurityEventView, { description: 'newest first' }),
  next_before: Type.Union([Type.Integer(), Type.Null()], { description: 'the `before` of the next (older) page; null on the last' })
})

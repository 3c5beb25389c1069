import { invalidInput } from '../errors.js'
import { EVENTS_PAGE_DEFAULT, EVENTS_PAGE_MAX } from '../../schemas/events.js'
import { SECURITY_EVENT_TYPES, usernameDigest } from '../ops/events.js'
import type { Storage, StoredSecurityEvent } from '../stores/types.js'

/** The filters of GET /admin/events, `gatehouse events list` and the console's events page, as given (text or numbers). */
export interface EventQuery {
  type?: string
  /** A username (or a user's id, or a username's digest as the logs show it). */
  user?: string
  client_id?: string
  /** The cursor: only events older than this id (the `next_before` of the page before). */
  before?: number | string
  limit?: number | string
}

/** A stored event as the admin API shows it; `username` is the user's name today when `user` is a user's id. */
export interface AdminEventView {
  id: number
  /** Milliseconds since the epoch. */
  at: number
  type: string
  user: string | null
  username: string | null
  client_id: string | null
  actor: string | null
  target: string | null
  ip: string | null
  details: Record<string, unknown>
}

export interface EventPage {
  events: AdminEventView[]
  /** The `before` of the next (older) page; null on the last. */
  next_before: number | null
}

/** A whole number from text or a number, in [min, max]; `what` names it in the refusal. */
function wholeNumber (value: number | string | undefined, what: string, min: number, max: number): number | undefined {
  if (value === undefined || value === '') return undefined
  const n = typeof value === 'number' ? value : /^\d{1,16}$/.test(value) ? Number(value) : NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) throw invalidInput(`${what}: a whole number from ${min} to ${max}`)
  return n
}

const optionalText = (value: string | undefined): string | undefined => {
  const text = value?.trim()
  return text === undefined || text === '' ? undefined : text
}

/**
 * Recent security events, newest first, a page at a time by a cursor (`before`: an id; pages never shift as new events
 * arrive). The filter by user finds a user's events whichever way the event named them: by their id (most events) or by
 * the digest of the username as typed (failed and throttled sign-ins, lib/ops/event-records.ts): the username given is
 * resolved to the user's id, and its digest matched too (a username no user has still finds failed sign-ins with it);
 * an administrator's change to the user (admin_change, `target` the username) is theirs too.
 */
export async function listEvents (storage: Storage, query: EventQuery): Promise<EventPage> {
  const type = optionalText(query.type)
  if (type !== undefined && !(SECURITY_EVENT_TYPES as readonly string[]).includes(type)) throw invalidInput('type: not a security event type')
  const limit = wholeNumber(query.limit, 'limit', 1, EVENTS_PAGE_MAX) ?? EVENTS_PAGE_DEFAULT
  const before = wholeNumber(query.before, 'before', 1, Number.MAX_SAFE_INTEGER)
  const clientId = optionalText(query.client_id)
  const user = optionalText(query.user)
  let users: string[] | undefined
  let orTarget: string | undefined
  if (user !== undefined) {
    const found = user.includes('\u0000') ? undefined : await storage.users.findByUsername(user.toLowerCase())
    users = [...new Set([user, usernameDigest(user), ...(found ? [found.id] : [])])]
    orTarget = found?.username ?? user
  }
  const events = await storage.securityEvents.list({ type, users, orTarget, clientId, before, limit })
  return { events: await viewsOf(storage, events), next_before: events.length === limit ? events[events.length - 1]!.id : null }
}

/** The admin API's view of each event, with the username of each user id (looked up once per distinct id). */
async function viewsOf (storage: Storage, events: StoredSecurityEvent[]): Promise<AdminEventView[]> {
  const ids = [...new Set(events.map((e) => e.user).filter((u): u is string => u !== null))]
  const names = new Map(await Promise.all(ids.map(async (id) => [id, (await storage.users.findById(id))?.username ?? null] as const)))
  return events.map((e) => ({
    id: e.id,
    at: e.at,
    type: e.type,
    user: e.user,
    username: e.user === null ? null : names.get(e.user) ?? null,
    client_id: e.clientId,
    actor: e.actor,
    target: e.target,
    ip: e.ip,
    details: e.details
  }))
}

import { addressKey, DEFAULT_IPV6_PREFIX_LENGTH } from '../limits/address-key.js'
import { BoundedLru } from '../limits/lru.js'
import type { NewSecurityEvent } from '../stores/types.js'
import { usernameDigest, type SecurityEvent } from './events.js'

/**
 * Security events kept in the store (security_events, docs/operating.md), so the admin API, the CLI and the console can
 * show the recent ones. Recording never blocks or fails the request that emitted an event: events wait in a bounded
 * buffer and are written in batches (plugins/events.ts flushes every EVENT_FLUSH_MS and on close); what cannot be kept
 * is dropped and counted (gatehouse_security_events_dropped_total{reason}), never retried.
 */

/** Events waiting to be written at most; beyond it an event is dropped (reason `buffer`). */
export const EVENT_BUFFER_MAX = 1000
/** How often the buffer is written, ms. */
export const EVENT_FLUSH_MS = 1000
/**
 * Events one client address (lib/limits/address-key.ts: an IPv6 /64 is one) may have stored per minute; beyond it they
 * are dropped (reason `address`), so one address flooding failed sign-ins cannot fill the buffer, or the table's
 * EVENTS_KEEP_ROWS, with its own events and push out everyone else's. Events without an address (an administrator's
 * change, a key rotation, a refresh token reused) are not counted here.
 */
export const EVENTS_PER_ADDRESS_PER_MINUTE = 120
/** Addresses counted at once; the least recently seen is forgotten first (its count starts again). */
export const EVENT_ADDRESSES_MAX = 10_000
/** Events kept at most, whatever their age: the sweep deletes the oldest beyond it (lib/ops/sweep.ts). */
export const EVENTS_KEEP_ROWS = 200_000
/** Days an event is kept by default (EVENTS_KEEP_DAYS). */
export const DEFAULT_EVENTS_KEEP_DAYS = 30
/** A text field stored at most this long (an event's text is bounded where it comes from; this bounds a row). */
const MAX_TEXT = 512

export type DropReason = 'buffer' | 'address' | 'store'
export const DROP_REASONS: readonly DropReason[] = ['buffer', 'address', 'store']

/** Text as every store keeps it: without U+0000 (PostgreSQL refuses it), at most MAX_TEXT characters. */
const clean = (text: string): string => text.replaceAll('\u0000', '').slice(0, MAX_TEXT)

const cleanDeep = (value: unknown): unknown => {
  if (typeof value === 'string') return clean(value)
  if (Array.isArray(value)) return value.map(cleanDeep)
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cleanDeep(v)]))
  return value
}

/**
 * The row an event is stored as. `user`: the event's `userId` (the user's id, `sub`), or, for the events that carry a
 * username as it was typed (login_failed, login_throttled, login_hash_refused), its digest as the logs write it
 * (usernameDigest): a password typed into the username field is never stored; the filter by user matches both
 * (lib/admin/events.ts). `actor`: the administrator of admin_change, invitation_sent, factors_reset; `target`: what an
 * admin_change changed, the invitation of invitation_sent. Everything else is in `details`.
 */
export function eventRecord (event: SecurityEvent, at: number): NewSecurityEvent {
  const { type, ...rest } = event
  const fields: Record<string, unknown> = { ...rest }
  const take = (name: string): string | null => {
    const value = fields[name]
    delete fields[name]
    return typeof value === 'string' && value !== '' ? clean(value) : null
  }
  const username = take('username')
  const user = take('userId') ?? (username === null ? null : usernameDigest(username))
  const target = type === 'invitation_sent' ? take('invitationId') : take('target')
  return { at, type, user, clientId: take('clientId'), actor: take('actor'), target, ip: take('ip'), details: cleanDeep(fields) as Record<string, unknown> }
}

export interface EventRecorderDeps {
  /** Writes a batch (the store's append). */
  append: (events: NewSecurityEvent[]) => Promise<void>
  nowMs: () => number
  /** Counts dropped events. */
  dropped: (reason: DropReason, count: number) => void
  /** The store refused a batch: called once, then again only after a batch was written since. */
  failed: (err: unknown) => void
  ipv6PrefixLength?: number
  bufferMax?: number
  perAddressPerMinute?: number
}

/** The buffer between emitting an event and storing it: bounded, per address and in all; written by `flush`. */
export class EventRecorder {
  readonly #deps: EventRecorderDeps
  readonly #bufferMax: number
  readonly #perAddress: number
  readonly #counts: BoundedLru<string, { n: number }>
  #buffer: NewSecurityEvent[] = []
  #flushing: Promise<void> | undefined
  #failing = false

  constructor (deps: EventRecorderDeps) {
    this.#deps = deps
    this.#bufferMax = deps.bufferMax ?? EVENT_BUFFER_MAX
    this.#perAddress = deps.perAddressPerMinute ?? EVENTS_PER_ADDRESS_PER_MINUTE
    this.#counts = new BoundedLru(EVENT_ADDRESSES_MAX, deps.nowMs)
  }

  /** Events waiting to be written. */
  get pending (): number { return this.#buffer.length }

  /** Takes an event into the buffer, or drops it (counted): never throws, never waits. */
  record (event: SecurityEvent): void {
    const now = this.#deps.nowMs()
    if ('ip' in event && typeof event.ip === 'string') {
      const key = addressKey(event.ip, this.#deps.ipv6PrefixLength ?? DEFAULT_IPV6_PREFIX_LENGTH)
      let count = this.#counts.get(key)
      if (count === undefined) {
        count = { n: 0 }
        // A window per address, from its first event: it ends a minute later.
        this.#counts.set(key, count, 60_000)
      }
      if (++count.n > this.#perAddress) return this.#deps.dropped('address', 1)
    }
    if (this.#buffer.length >= this.#bufferMax) return this.#deps.dropped('buffer', 1)
    this.#buffer.push(eventRecord(event, now))
  }

  /** Writes what is waiting, in batches; a call during a flush shares it (and it goes on until the buffer is empty). */
  flush (): Promise<void> {
    this.#flushing ??= this.#drain().finally(() => { this.#flushing = undefined })
    return this.#flushing
  }

  async #drain (): Promise<void> {
    while (this.#buffer.length > 0) {
      const batch = this.#buffer
      this.#buffer = []
      try {
        await this.#deps.append(batch)
        this.#failing = false
      } catch (err) {
        this.#deps.dropped('store', batch.length)
        if (!this.#failing) this.#deps.failed(err)
        this.#failing = true
        return
      }
    }
  }
}

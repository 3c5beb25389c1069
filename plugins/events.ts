import fp from 'fastify-plugin'
import { EVENT_MESSAGES, SECOND_FACTORS, secondFactorOutcome, usernameDigest, WARN_EVENTS, type EventLog, type SecurityEvent, type SecurityEvents } from '../lib/ops/events.js'
import { DROP_REASONS, EVENT_FLUSH_MS, EventRecorder } from '../lib/ops/event-records.js'

export interface RecordedEvents extends SecurityEvents {
  /** Writes the events waiting in the buffer to the store now (the timer does every second; closing the app does too). */
  flush (): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Security events (lib/ops/events.ts): each is logged without secrets, counted in /metrics and stored (lib/ops/event-records.ts). */
    events: RecordedEvents
  }
}

/**
 * Logs every security event at info or warn, with the request's id when it comes from a request (the
 * logger passed in), and counts it in gatehouse_security_events_total{type} (second factors also in
 * gatehouse_second_factor_total{factor,outcome} and gatehouse_second_factor_enrolments_total{factor}). Usernames are logged as a
 * digest only; nothing secret is ever part of an event. Each event is also stored (security_events: GET /admin/events,
 * `gatehouse events list`, the console's events page) through a bounded buffer written every second and on close
 * (lib/ops/event-records.ts): what the buffer, an address's share or a failing database cannot take is dropped and
 * counted in gatehouse_security_events_dropped_total{reason}, never waited for.
 */
export default fp(async (fastify) => {
  // The help lists every type: MESSAGES is the one list of them.
  const counter = fastify.metrics.registry.counter('gatehouse_security_events_total', `Security events by type: ${Object.keys(EVENT_MESSAGES).join(', ')}.`, ['type'])
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
  const dropped = fastify.metrics.registry.counter('gatehouse_security_events_dropped_total',
    'Security events not stored (logged and counted all the same), by reason: buffer (more waiting than it holds), address (one client address past its share a minute), store (the database refused the batch).',
    ['reason'])
  for (const reason of DROP_REASONS) dropped.inc([reason], 0)
  const recorder = new EventRecorder({
    append: (events) => fastify.storage.securityEvents.append(events),
    nowMs: () => fastify.clock.nowMs(),
    ipv6PrefixLength: fastify.config.ipv6PrefixLength,
    dropped: (reason, count) => dropped.inc([reason], count),
    failed: (err) => fastify.log.warn({ err }, 'security events could not be stored: dropped (counted in gatehouse_security_events_dropped_total) until the database takes them again')
  })
  let timer: NodeJS.Timeout | undefined
  fastify.addHook('onReady', async () => {
    // unref'd: never keeps a process alive that is otherwise done.
    timer = setInterval(() => { recorder.flush().catch(() => {}) }, EVENT_FLUSH_MS).unref()
  })
  fastify.addHook('onClose', async () => {
    clearInterval(timer)
    // What is waiting is written before the store closes (this plugin depends on it, so it closes first).
    await recorder.flush()
  })

  fastify.decorate('events', {
    flush: () => recorder.flush(),
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
      if (WARN_EVENTS.has(type)) log.warn(entry, EVENT_MESSAGES[type])
      else log.info(entry, EVENT_MESSAGES[type])
      recorder.record(event)
    }
  })
}, { name: 'events', dependencies: ['metrics', 'storage', 'clock', 'config'] })

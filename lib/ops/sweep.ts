import { REDEEMED_CODE_RETENTION_SECONDS, UNCONFIRMED_FACTOR_SECONDS, UNUSED_REGISTRATION_SECONDS } from '../limits/table-bounds.js'
import { OUTBOX_RETENTION_SECONDS } from './outbox.js'
import { DEFAULT_EVENTS_KEEP_DAYS, EVENTS_KEEP_ROWS } from './event-records.js'
import type { GrowingTable, Storage } from '../stores/types.js'

/** The housekeeping job's name in the store (the row instances claim each round). */
export const SWEEP_JOB = 'sweep-expired'

/** Rows deleted by one sweep, by what they were. */
export interface Swept {
  sessions: number
  /** Unredeemed codes past their lifetime, and redeemed ones past the replay window. */
  codes: number
  upstreamTransactions: number
  /** Refresh-token families past their absolute lifetime (their tokens go with them). */
  grants: number
  /** Deny-list entries past the expiry of the tokens they cover. */
  revocations: number
  /** Outbox messages finished (sent or given up) more than OUTBOX_RETENTION_SECONDS ago. */
  outbox: number
  /** Account links (verification, reset, invitation) past their expiry, used or not. */
  accountLinks: number
  /** Authenticator apps never confirmed with a code, started more than UNCONFIRMED_FACTOR_SECONDS ago (abandoned). */
  unconfirmedFactors: number
  /** Passkey challenges never answered, past their few minutes. */
  passkeyChallenges: number
  /** Clients registered in open mode (RFC 7591) more than UNUSED_REGISTRATION_SECONDS ago and never used. */
  unusedRegistrations: number
  /** Device authorization requests past their 10 minutes, whatever became of them. */
  deviceCodes: number
  /** Pushed authorization requests (RFC 9126) past their lifetime: never presented in 60 s, or their sign-in over. */
  pushedRequests: number
  /** Client assertions' jti (private_key_jwt) past the assertion's exp: a replay would be refused by exp by then. */
  clientAssertions: number
  /** Security events older than EVENTS_KEEP_DAYS, or beyond the newest EVENTS_KEEP_ROWS. */
  securityEvents: number
}

export interface SweepRound {
  /** What this instance deleted; undefined when another instance had swept this round. */
  swept: Swept | undefined
  /** The row count of each growing table after the round (for `gatehouse_table_rows`). */
  rows: Record<GrowingTable, number>
}

/**
 * Deletes every expired row. Consents do not expire (they last until revoked) and a signing key's instance
 * rows are renewed or removed by the key heartbeat, so neither is here. Each delete is by an indexed expiry
 * column and idempotent: two instances sweeping at once only delete the same rows once.
 */
export async function sweepExpired (storage: Storage, now: number, eventsKeepDays = DEFAULT_EVENTS_KEEP_DAYS): Promise<Swept> {
  const [sessions, codes, upstreamTransactions, grants, revocations, outbox, accountLinks, unconfirmedFactors, passkeyChallenges, unusedRegistrations, deviceCodes, pushedRequests, clientAssertions, securityEvents] = await Promise.all([
    storage.sessions.purgeExpired(now),
    storage.codes.purgeExpired(now, REDEEMED_CODE_RETENTION_SECONDS),
    storage.upstreamTransactions.purgeExpired(now),
    storage.grants.purgeExpired(now),
    storage.revocations.purgeExpired(now),
    storage.outbox.purgeFinished(now - OUTBOX_RETENTION_SECONDS),
    storage.accountLinks.purgeExpired(now),
    storage.factors.purgeUnconfirmed(now - UNCONFIRMED_FACTOR_SECONDS),
    storage.passkeyChallenges.purgeExpired(now),
    storage.clients.purgeUnusedRegistrations(now - UNUSED_REGISTRATION_SECONDS),
    storage.deviceCodes.purgeExpired(now),
    storage.pushedRequests.purgeExpired(now),
    storage.clientAssertions.purgeExpired(now),
    storage.securityEvents.purge((now - eventsKeepDays * 86_400) * 1000, EVENTS_KEEP_ROWS)
  ])
  return { sessions, codes, upstreamTransactions, grants, revocations, outbox, accountLinks, unconfirmedFactors, passkeyChallenges, unusedRegistrations, deviceCodes, pushedRequests, clientAssertions, securityEvents }
}

/**
 * One round of the schedule: sweep when this instance claims the round (one instance of several does; a round
 * is at least half an interval after the last one, so late timers never make two rounds of one), then count.
 */
export async function sweepRound (storage: Storage, input: { now: number, intervalSeconds: number, eventsKeepDays?: number }): Promise<SweepRound> {
  const { now, intervalSeconds } = input
  const claimed = await storage.housekeeping.claim(SWEEP_JOB, now, Math.ceil(intervalSeconds / 2))
  const swept = claimed ? await sweepExpired(storage, now, input.eventsKeepDays) : undefined
  return { swept, rows: await storage.housekeeping.tableRows() }
}

import { randomUUID } from 'node:crypto'
import type { Clock } from '../clock.js'
import { deliverRound, dropOldest, type OutboxSchedule, type Outcome } from '../ops/outbox.js'
import { BACKCHANNEL_LOGOUT_KIND, type Client, type LogoutMessage, type Storage } from '../stores/types.js'

/**
 * OpenID Connect Back-Channel Logout 1.0. The session store queues a message per client in the outbox when a
 * session ends (kind BACKCHANNEL_LOGOUT_KIND, in the same transaction: lib/stores/types.ts SessionStore); this
 * file holds what a logout token says, how it is posted, and the kind's schedule; the outbox (lib/ops/outbox.ts)
 * claims, leases and retries. Delivery runs in the background: no sign-out waits for it.
 */

/** §2.4: the one event a logout token carries. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout'

/** §2.4 asks for a short lifetime ("two minutes or less" is what node-oidc-provider and Keycloak use). */
export const LOGOUT_TOKEN_TTL_SECONDS = 120

/** After the nth failed try (1-based), the next is this many seconds later; after the last, the message is given up. */
export const RETRY_DELAYS_SECONDS = [1, 5, 30, 120, 600] as const

/** How many messages one round claims (and posts at once). */
export const LOGOUT_BATCH = 20

/**
 * The outbox schedule of logout messages: quick retries (a logout matters now, not in a day), a lease longer than
 * a delivery can take (the POST's timeout, plus time to sign), and the attempt timeout a little past the POST's own
 * so the POST reports its `timeout` first.
 */
export const logoutSchedule = (timeoutMs: number): OutboxSchedule => ({
  backoffSeconds: RETRY_DELAYS_SECONDS,
  leaseSeconds: Math.ceil(timeoutMs / 1000) + 30,
  batch: LOGOUT_BATCH,
  timeoutMs: timeoutMs + 5000
})

/**
 * §2.4: iss, aud (the client), iat, exp, jti, sub and sid (both: Gatehouse sets backchannel_logout_session_supported),
 * events; never a nonce (§2.4: a logout token must not pass for an ID token).
 */
export function logoutTokenClaims (input: { issuer: string, clientId: string, sub: string, sid: string, now: number, jti?: string }) {
  return {
    iss: input.issuer,
    aud: input.clientId,
    iat: input.now,
    exp: input.now + LOGOUT_TOKEN_TTL_SECONDS,
    jti: input.jti ?? randomUUID(),
    sub: input.sub,
    sid: input.sid,
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }
  }
}

/**
 * §2.5: a POST of `logout_token` as a form, 2xx is success (200 or 204 in the spec; any 2xx here). Redirects are
 * never followed (a 3xx is a failure), and a try gives up after `timeoutMs`. Resolves with the failure, or undefined.
 */
export async function postLogoutToken (uri: string, token: string, timeoutMs: number): Promise<string | undefined> {
  try {
    const response = await fetch(uri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: token }).toString(),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs)
    })
    // The body is not needed; reading it to the end frees the connection.
    await response.arrayBuffer().catch(() => {})
    return response.status >= 200 && response.status < 300 ? undefined : `HTTP ${response.status}`
  } catch (err) {
    const name = (err as { name?: unknown }).name
    return name === 'TimeoutError' ? 'timeout' : 'unreachable'
  }
}

/** What became of one message: sent, to be tried again, given up, dropped because its client is gone, or dropped at the bound. */
export type LogoutResult = 'delivered' | 'retried' | 'failed' | 'client_gone' | 'dropped'

/** The last error of a message whose client was deleted before it went out (given up at once). */
export const CLIENT_GONE = 'client gone'

class ClientGoneError extends Error {
  constructor () { super(CLIENT_GONE) }
}

export interface LogoutSenderDeps {
  storage: Storage
  clock: Clock
  issuer: string
  timeoutMs: number
  /** This instance's id (the outbox lease owner). */
  owner: string
  /** Signs a logout token's claims for `client`, as its ID tokens are signed (`typ: logout+jwt`). */
  sign: (claims: object, client: Client, now: number) => Promise<string>
  /** Every outcome, for the metric and the log (`failed` and `retried` carry the last reason, `dropped` a count). */
  report: (result: LogoutResult, detail: { message?: LogoutMessage, attempts?: number, reason?: string, count?: number }) => void
  post?: typeof postLogoutToken
  /** Waiting logout messages kept at most (the outbox's per-kind bound when absent). */
  outboxMax?: number
}

/**
 * One round: drops the oldest waiting messages past the bound (a session's end cannot be refused, so its messages
 * are never refused at enqueue: reported as `dropped`), then claims the messages due now (one instance of several
 * gets each: lib/ops/outbox.ts) and posts them at once. Returns how many it claimed (a full batch means more may be
 * waiting).
 */
export async function sendLogouts (deps: LogoutSenderDeps): Promise<number> {
  const { storage, clock } = deps
  const dropped = await dropOldest(storage.outbox, BACKCHANNEL_LOGOUT_KIND, clock.now(), deps.outboxMax)
  if (dropped > 0) deps.report('dropped', { count: dropped })
  const outcomes = await deliverRound({
    store: storage.outbox,
    kind: BACKCHANNEL_LOGOUT_KIND,
    now: () => clock.now(),
    owner: deps.owner,
    schedule: logoutSchedule(deps.timeoutMs),
    deliver: async (m) => deliverOne(deps, m.payload as LogoutMessage),
    isPermanent: (err) => err instanceof ClientGoneError
  })
  for (const outcome of outcomes) report(deps, outcome)
  return outcomes.length
}

async function deliverOne (deps: LogoutSenderDeps, message: LogoutMessage): Promise<void> {
  const client = await deps.storage.clients.find(message.clientId)
  if (!client) throw new ClientGoneError()
  const now = deps.clock.now()
  const token = await deps.sign(logoutTokenClaims({ issuer: deps.issuer, clientId: client.id, sub: message.sub, sid: message.sid, now }), client, now)
  const reason = await (deps.post ?? postLogoutToken)(message.uri, token, deps.timeoutMs)
  if (reason !== undefined) throw new Error(reason)
}

function report (deps: LogoutSenderDeps, outcome: Outcome): void {
  if (outcome.result === 'lost') return
  const detail = { message: outcome.message.payload as LogoutMessage, attempts: outcome.message.attempts }
  if (outcome.result === 'sent') deps.report('delivered', detail)
  else if (outcome.result === 'retried') deps.report('retried', { ...detail, reason: outcome.error })
  else deps.report(outcome.error === CLIENT_GONE ? 'client_gone' : 'failed', { ...detail, reason: outcome.error })
}

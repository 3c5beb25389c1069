import { randomUUID } from 'node:crypto'
import type { Clock } from '../clock.js'
import { LOGOUT_OUTBOX_MAX } from '../limits/table-bounds.js'
import type { Client, LogoutMessage, Storage } from '../stores/types.js'

/**
 * OpenID Connect Back-Channel Logout 1.0. The session store queues a message per client when a session ends (in
 * the same transaction, lib/stores/types.ts SessionStore); this file holds what a logout token says, how it is
 * posted, and when a failed delivery is tried again. Delivery runs in the background: no sign-out waits for it.
 */

/** §2.4: the one event a logout token carries. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout'

/** §2.4 asks for a short lifetime ("two minutes or less" is what node-oidc-provider and Keycloak use). */
export const LOGOUT_TOKEN_TTL_SECONDS = 120

/** After the nth failed try (1-based), the next is this many seconds later; after the last, the message is dropped. */
export const RETRY_DELAYS_SECONDS = [1, 5, 30, 120, 600] as const

/** How many messages one round claims (and posts at once). */
export const LOGOUT_BATCH = 20

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

/** When the message that has now failed `attempts + 1` times is tried again, or undefined: give up. */
export function nextAttemptAt (attempts: number, now: number): number | undefined {
  const delay = RETRY_DELAYS_SECONDS[attempts]
  return delay === undefined ? undefined : now + delay
}

/** How long a claimed message stays with the instance that claimed it: longer than a delivery can take. */
export const leaseSeconds = (timeoutMs: number): number => Math.ceil(timeoutMs / 1000) + 30

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

/** What became of one message: sent, to be tried again, given up, dropped because its client is gone, or trimmed. */
export type LogoutResult = 'delivered' | 'retried' | 'failed' | 'client_gone' | 'dropped'

export interface LogoutSenderDeps {
  storage: Storage
  clock: Clock
  issuer: string
  timeoutMs: number
  /** Signs a logout token's claims for `client`, as its ID tokens are signed (`typ: logout+jwt`). */
  sign: (claims: object, client: Client, now: number) => Promise<string>
  /** Every outcome, for the metric and the log (`failed` carries the last reason). */
  report: (result: LogoutResult, detail: { message?: LogoutMessage, reason?: string, count?: number }) => void
  post?: typeof postLogoutToken
  outboxMax?: number
}

/**
 * One round: trims the outbox to its bound (the oldest go, reported as `dropped`), claims the messages due now
 * (one instance of several gets each, lib/stores LogoutOutboxStore.claim) and posts them at once. Returns how many
 * it claimed (a full batch means more may be waiting).
 */
export async function sendLogouts (deps: LogoutSenderDeps): Promise<number> {
  const { storage, clock } = deps
  const dropped = await storage.logoutOutbox.trim(deps.outboxMax ?? LOGOUT_OUTBOX_MAX)
  if (dropped > 0) deps.report('dropped', { count: dropped })
  const now = clock.now()
  const messages = await storage.logoutOutbox.claim(now, now + leaseSeconds(deps.timeoutMs), LOGOUT_BATCH)
  await Promise.all(messages.map((message) => sendOne(deps, message)))
  return messages.length
}

async function sendOne (deps: LogoutSenderDeps, message: LogoutMessage): Promise<void> {
  const { storage, clock } = deps
  const client = await storage.clients.find(message.clientId)
  if (!client) {
    await storage.logoutOutbox.remove(message.id)
    return deps.report('client_gone', { message })
  }
  const now = clock.now()
  const token = await deps.sign(logoutTokenClaims({ issuer: deps.issuer, clientId: client.id, sub: message.sub, sid: message.sid, now }), client, now)
  const reason = await (deps.post ?? postLogoutToken)(message.uri, token, deps.timeoutMs)
  if (reason === undefined) {
    await storage.logoutOutbox.remove(message.id)
    return deps.report('delivered', { message })
  }
  const retryAt = nextAttemptAt(message.attempts, clock.now())
  if (retryAt === undefined) {
    await storage.logoutOutbox.remove(message.id)
    return deps.report('failed', { message, reason })
  }
  await storage.logoutOutbox.retry(message.id, retryAt)
  deps.report('retried', { message, reason })
}

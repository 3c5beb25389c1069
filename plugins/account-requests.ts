import fp from 'fastify-plugin'
import { answerResetRequest, type ResetRequest } from '../lib/accounts/password-reset.js'
import { answerSignupRequest, type QueuedSignup } from '../lib/accounts/signup.js'
import { MailMessageError } from '../lib/mail/message.js'
import { deliverRound, enqueue, SerialRounds, senderId, type Outcome } from '../lib/ops/outbox.js'

/** The outbox kind of /forgot-password requests waiting to be answered. */
export const RESET_REQUEST_KIND = 'password-reset-request'
/** The outbox kind of checked /signup requests waiting to be answered. */
export const SIGNUP_REQUEST_KIND = 'signup-request'

export interface AccountRequests {
  /**
   * Queues a /forgot-password request: one outbox row, whatever the address. Resolves once the row is stored (the
   * request is never lost); throws OutboxFullError when the outbox holds its bound of requests of the kind.
   */
  resetPassword: (request: ResetRequest) => Promise<void>
  /** Queues a checked sign-up (lib/accounts/signup.ts requestSignup), as `resetPassword` does. */
  signUp: (signup: QueuedSignup) => Promise<void>
  /** Answers the queued requests of every kind now (the schedule and `nudge` start rounds too); the messages queued. */
  run: () => Promise<number>
  /**
   * Starts a round soon, without waiting for it: a page calls it once its answer is sent (onResponse), so the
   * work never runs inside the request whose timing it would change.
   */
  nudge: () => void
}

/** The reset half under the name it had before sign-ups joined it (its page's and its tests' callers). */
export interface PasswordResets {
  request: AccountRequests['resetPassword']
  run: AccountRequests['run']
  nudge: AccountRequests['nudge']
}

declare module 'fastify' {
  interface FastifyInstance {
    accountRequests: AccountRequests
    passwordResets: PasswordResets
  }
}

/**
 * Answers account requests that must not tell whether an account uses an e-mail (SECURITY-CASES U1): /forgot-password
 * and /signup. Their pages must take the same time either way, and what follows does not cost the same: a found
 * account costs a reset link and its message that an unknown address does not; a new sign-up costs a link row
 * (a transaction of several round trips on PostgreSQL) that a taken address, sent only a note, does not. Doing
 * that work in the request leaks it in the timing (U1 measured a new sign-up 27 % slower on PostgreSQL);
 * answering first and doing it after the reply, in memory, loses it when the process stops; padding every answer
 * to a fixed floor costs every person the floor and still leaks when the work runs past it. So the request does
 * only the work both paths share and stores one outbox row (the same write on both paths), and a sender on every
 * instance (a lease per row: each goes to one instance) answers it: looks the address up, issues the links and
 * queues the messages (lib/accounts/password-reset.ts answerResetRequest, lib/accounts/signup.ts
 * answerSignupRequest), at least once: a round that dies before finishing is run again, and its newer link voids
 * the first (a sign-up's: two links, the first followed makes the account, the second finds the address taken).
 */
export default fp(async (fastify) => {
  const { storage, clock, config, mail, events } = fastify
  const owner = senderId()
  const send = mail.send
  /** Each kind's answer: the one place a kind of request is told from another. */
  const answers: Record<string, (payload: unknown, now: number) => Promise<number>> = {
    [RESET_REQUEST_KIND]: (payload, now) => answerResetRequest({ storage, send, events }, payload as ResetRequest, now),
    [SIGNUP_REQUEST_KIND]: (payload, now) => answerSignupRequest({ storage, send }, payload as QueuedSignup, now)
  }

  const rounds = new SerialRounds(async (): Promise<Outcome[]> => {
    const byKind = await Promise.all(Object.entries(answers).map(([kind, answer]) => deliverRound({
      store: storage.outbox,
      kind,
      now: () => clock.now(),
      owner,
      deliver: (message) => answer(message.payload, clock.now()),
      // An address the mail rules refuse will be refused however often it is tried.
      isPermanent: (err) => err instanceof MailMessageError
    })))
    return byKind.flat()
  })
  const run = async (): Promise<number> => {
    let sent = 0
    for (const outcome of await rounds.run()) {
      if (outcome.result === 'sent') sent += outcome.detail as number
      else if (outcome.result === 'retried' || outcome.result === 'failed') {
        fastify.log.warn({ id: outcome.message.id, kind: outcome.message.kind, attempts: outcome.message.attempts, reason: outcome.error, given_up: outcome.result === 'failed' }, 'an account request could not be answered yet')
      }
    }
    return sent
  }
  const runQuietly = (): void => {
    run().catch((err: unknown) => fastify.log.warn({ err }, 'a round of account requests failed'))
  }

  let closed = false
  let timer: NodeJS.Timeout | undefined
  fastify.addHook('onReady', async () => {
    // The first round at once: requests a previous process stored but did not finish are answered after a restart.
    timer = setInterval(runQuietly, config.mailPollMs).unref()
    runQuietly()
  })
  fastify.addHook('onClose', async () => {
    closed = true
    clearInterval(timer)
    await rounds.close()
  })

  const queue = (kind: string) => async (payload: unknown): Promise<void> => {
    await enqueue(storage.outbox, kind, payload, clock.now())
  }
  const nudge = (): void => {
    if (!closed) setImmediate(runQuietly).unref()
  }
  const requests: AccountRequests = { resetPassword: queue(RESET_REQUEST_KIND), signUp: queue(SIGNUP_REQUEST_KIND), run, nudge }
  fastify.decorate('accountRequests', requests)
  fastify.decorate('passwordResets', { request: requests.resetPassword, run, nudge } satisfies PasswordResets)
}, { name: 'account-requests', dependencies: ['config', 'clock', 'storage', 'mail', 'events'] })

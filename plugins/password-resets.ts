import fp from 'fastify-plugin'
import { answerResetRequest, type ResetRequest } from '../lib/accounts/password-reset.js'
import { MailMessageError } from '../lib/mail/message.js'
import { deliverRound, enqueue, SerialRounds, senderId } from '../lib/ops/outbox.js'

/** The outbox kind of /forgot-password requests waiting to be answered. */
export const RESET_REQUEST_KIND = 'password-reset-request'

export interface PasswordResets {
  /**
   * Queues a /forgot-password request: one outbox row, whatever the address, so the page costs the same whether or
   * not an account uses it (SECURITY-CASES U1). Resolves once the row is stored (the request is never lost); throws
   * OutboxFullError when the outbox holds its bound of requests.
   */
  request: (request: ResetRequest) => Promise<void>
  /** Works on the queued requests now (the schedule and `nudge` start rounds too); the number of links sent. */
  run: () => Promise<number>
  /**
   * Starts a round soon, without waiting for it: the page calls it once its answer is sent (onResponse), so the
   * work never runs inside the request whose timing it would change.
   */
  nudge: () => void
}

declare module 'fastify' {
  interface FastifyInstance {
    passwordResets: PasswordResets
  }
}

/**
 * Answers /forgot-password requests outside the request that asked. Why: the page must take the same time whether
 * or not an account has the address (U1), and a found account costs a link, a rendered message and its enqueue
 * that an unknown address does not. Doing that work in the request leaks it in the timing; answering first and
 * doing it after the reply, in memory, loses it when the process stops; padding every answer to a fixed floor
 * costs every person the floor and still leaks when the work runs past it. So the request stores one outbox row
 * (the same write on both paths) and a sender on every instance (a lease per row: each goes to one instance) looks
 * the address up, issues the links and queues the messages (lib/accounts/password-reset.ts answerResetRequest),
 * at least once: a round that dies before finishing is run again, and its newer link voids the first.
 */
export default fp(async (fastify) => {
  const { storage, clock, config, mail, events } = fastify
  const owner = senderId()
  const deps = { storage, send: mail.send, events }

  const rounds = new SerialRounds(async () => deliverRound({
    store: storage.outbox,
    kind: RESET_REQUEST_KIND,
    now: () => clock.now(),
    owner,
    deliver: (message) => answerResetRequest(deps, message.payload as ResetRequest, clock.now()),
    // An address the mail rules refuse will be refused however often it is tried.
    isPermanent: (err) => err instanceof MailMessageError
  }))
  const run = async (): Promise<number> => {
    let sent = 0
    for (const outcome of await rounds.run()) {
      if (outcome.result === 'sent') sent += outcome.detail as number
      else if (outcome.result === 'retried' || outcome.result === 'failed') {
        fastify.log.warn({ id: outcome.message.id, attempts: outcome.message.attempts, reason: outcome.error, given_up: outcome.result === 'failed' }, 'a password-reset request could not be answered yet')
      }
    }
    return sent
  }
  const runQuietly = (): void => {
    run().catch((err: unknown) => fastify.log.warn({ err }, 'a round of password-reset requests failed'))
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

  fastify.decorate('passwordResets', {
    async request (request: ResetRequest) {
      await enqueue(storage.outbox, RESET_REQUEST_KIND, request, clock.now())
    },
    run,
    nudge () {
      if (!closed) setImmediate(runQuietly).unref()
    }
  } satisfies PasswordResets)
}, { name: 'password-resets', dependencies: ['config', 'clock', 'storage', 'mail', 'events'] })

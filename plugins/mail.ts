import fp from 'fastify-plugin'
import type { MailMessage } from '../lib/mail/message.js'
import { MAIL_OUTBOX_KIND, queueMail } from '../lib/mail/queue.js'
import { MailTemplates } from '../lib/mail/templates.js'
import { parseSmtpUrl, redactSmtpUrl } from '../lib/mail/smtp-url.js'
import { fileTransport, PermanentMailError, smtpTransport, type Delivery, type MailTransport } from '../lib/mail/transport.js'
import { deliverRound, OutboxFullError, OUTBOX_ATTEMPT_TIMEOUT_MS, SerialRounds, senderId, DEFAULT_OUTBOX_SCHEDULE, type Outcome } from '../lib/ops/outbox.js'

export interface Mail {
  /**
   * Renders the message `kind` (views/mail/<kind>.*.eta, with `data`) for `to` and queues it; resolves once it is
   * in the store, never waiting on the mail server. Throws MailMessageError for a bad recipient or subject, and
   * OutboxFullError when the outbox is full. Resolves with the outbox id.
   */
  send: (kind: string, to: string, data?: Record<string, unknown>) => Promise<string>
  /** Runs a round of the sender now (the schedule runs them too); a call during a round waits for the next one and answers with both rounds' outcomes. */
  run: () => Promise<Outcome[]>
  /** `smtp` (SMTP_URL) or `file` (.eml files in MAIL_DIR). */
  readonly transport: MailTransport['kind']
}

declare module 'fastify' {
  interface FastifyInstance {
    mail: Mail
  }
}

/**
 * E-mail through the outbox (lib/ops/outbox.ts): `send` only renders and queues; a sender loop on every instance
 * claims due messages (a lease: each goes to one instance), delivers each through SMTP_URL or as an .eml file,
 * retries failures with backoff and, after the last attempt, gives up with a `mail_failed` event. Every outcome is
 * counted in gatehouse_mail_messages_total{result}.
 */
export default fp(async (fastify) => {
  const { config, clock, storage, metrics, events } = fastify
  const templates = new MailTemplates(config.viewsDir)
  const transport = config.smtpUrl === undefined
    ? fileTransport(config.mailDir)
    : smtpTransport(parseSmtpUrl(config.smtpUrl), OUTBOX_ATTEMPT_TIMEOUT_MS)
  const owner = senderId()
  const counter = metrics.registry.counter('gatehouse_mail_messages_total',
    'E-mail messages by outcome: sent, retried (an attempt failed; tried again later), failed (given up after every attempt: event mail_failed), refused (not queued: the outbox was full).',
    ['result'])
  fastify.log.info(config.smtpUrl === undefined
    ? { mailDir: config.mailDir }
    : { smtp: redactSmtpUrl(config.smtpUrl) }, config.smtpUrl === undefined ? 'mail: no SMTP_URL, messages are written as .eml files' : 'mail: sending through SMTP')

  const deliver = async (id: string, payload: unknown, createdAt: number): Promise<Delivery> => {
    const message = payload as MailMessage
    const delivery = await transport.send(message, id, createdAt)
    if (delivery.file !== undefined) fastify.log.info({ template: message.kind, id, file: delivery.file }, 'mail written to a file (no SMTP_URL)')
    else fastify.log.info({ template: message.kind, id, messageId: delivery.messageId }, 'mail sent')
    return delivery
  }

  const round = async (): Promise<Outcome[]> => {
    const outcomes = await deliverRound({
      store: storage.outbox,
      kind: MAIL_OUTBOX_KIND,
      now: () => clock.now(),
      owner,
      deliver: (m) => deliver(m.id, m.payload, m.createdAt),
      isPermanent: (err) => err instanceof PermanentMailError
    })
    for (const outcome of outcomes) {
      if (outcome.result === 'lost') continue
      counter.inc([outcome.result])
      const template = String((outcome.message.payload as Partial<MailMessage>).kind)
      if (outcome.result === 'retried') {
        fastify.log.warn({ template, id: outcome.message.id, attempts: outcome.message.attempts, retryAt: outcome.at, reason: outcome.error }, 'mail not sent: tried again later')
      } else if (outcome.result === 'failed') {
        events.emit({ type: 'mail_failed', template, id: outcome.message.id, attempts: outcome.message.attempts, reason: outcome.error })
      }
    }
    // A full batch: more may be due at once.
    if (outcomes.length >= DEFAULT_OUTBOX_SCHEDULE.batch) nudge()
    return outcomes
  }

  const rounds = new SerialRounds(round)
  const run = (): Promise<Outcome[]> => rounds.run()
  const runQuietly = (): void => {
    run().catch((err: unknown) => fastify.log.warn({ err }, 'mail: a round of the outbox sender failed'))
  }

  let closed = false
  let nudged: NodeJS.Immediate | undefined
  function nudge (): void {
    if (closed || nudged !== undefined) return
    nudged = setImmediate(() => { nudged = undefined; runQuietly() })
    nudged.unref()
  }

  let timer: NodeJS.Timeout | undefined
  fastify.addHook('onReady', async () => {
    // unref'd: the schedule never keeps a process alive that is otherwise done. The first round at once: messages
    // a previous process queued (or held when it died, once their lease ran out) go out after a restart.
    timer = setInterval(runQuietly, config.mailPollMs).unref()
    nudge()
  })
  fastify.addHook('onClose', async () => {
    closed = true
    clearInterval(timer)
    if (nudged !== undefined) clearImmediate(nudged)
    // A round in flight finishes (or times out) before the store closes; what it did not finish stays queued.
    await rounds.close()
    transport.close()
  })

  fastify.decorate('mail', {
    async send (kind: string, to: string, data: Record<string, unknown> = {}) {
      let id: string
      try {
        id = await queueMail({ templates, outbox: storage.outbox, config }, kind, to, data, clock.now())
      } catch (err) {
        if (err instanceof OutboxFullError) {
          counter.inc(['refused'])
          fastify.log.error({ template: kind }, err.message)
        }
        throw err
      }
      nudge()
      return id
    },
    run,
    transport: transport.kind
  } satisfies Mail)
}, { name: 'mail', dependencies: ['config', 'clock', 'storage', 'metrics', 'events'] })

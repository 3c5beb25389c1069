import { enqueue } from '../ops/outbox.js'
import type { Config } from '../config.js'
import type { OutboxStore } from '../stores/types.js'
import { buildMessage } from './message.js'
import type { MailTemplates } from './templates.js'

/** The outbox kind of e-mail (other senders, such as back-channel logout, have their own). */
export const MAIL_OUTBOX_KIND = 'mail'

export interface MailQueueDeps {
  templates: MailTemplates
  outbox: OutboxStore
  config: Pick<Config, 'mailFrom' | 'issuer' | 'issuerName'>
}

/**
 * Renders the message `kind` for `to` and puts it in the outbox (never waiting on the mail server); the outbox id.
 * The one way a message is queued: the server's `mail.send` (plugins/mail.ts) and the CLI, which runs without a
 * server (a running server's sender delivers what the CLI queued: the outbox is in the store). Throws
 * MailMessageError for a bad recipient or subject, OutboxFullError when the outbox is full.
 */
export async function queueMail (deps: MailQueueDeps, kind: string, to: string, data: Record<string, unknown>, now: number): Promise<string> {
  const { mailFrom, issuer, issuerName } = deps.config
  const message = buildMessage(deps.templates, { kind, to, data, from: mailFrom, issuer, issuerName })
  return enqueue(deps.outbox, MAIL_OUTBOX_KIND, message, now)
}

import { enqueue } from '../ops/outbox.js'
import type { OutboxStore } from '../stores/types.js'
import { buildMessage } from './message.js'
import type { MailTemplates } from './templates.js'

/** The outbox kind of e-mail (other senders, such as back-channel logout, have their own). */
export const MAIL_OUTBOX_KIND = 'mail'

export interface QueueDeps {
  outbox: OutboxStore
  templates: MailTemplates
  /** MAIL_FROM, ISSUER and ISSUER_NAME: what every message is built from. */
  config: { mailFrom: string, issuer: string, issuerName: string }
  now: number
}

/**
 * Renders the message `kind` for `to` and puts it into the outbox; the outbox id. The one way a message is queued:
 * the server's `mail.send` (plugins/mail.ts) and the CLI (`gatehouse users invite`, which has no sender of its own:
 * a running server on the same database delivers what it queued). Throws MailMessageError or OutboxFullError.
 */
export async function queueMail (deps: QueueDeps, kind: string, to: string, data: Record<string, unknown> = {}): Promise<string> {
  const { mailFrom: from, issuer, issuerName } = deps.config
  const message = buildMessage(deps.templates, { kind, to, data, from, issuer, issuerName })
  return enqueue(deps.outbox, MAIL_OUTBOX_KIND, message, deps.now)
}

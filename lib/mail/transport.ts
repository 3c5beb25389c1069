import nodemailer from 'nodemailer'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseMailbox } from './addresses.js'
import type { MailMessage } from './message.js'
import type { SmtpTarget } from './smtp-url.js'

/** How one message went out: its Message-ID, and the file it was written to (no SMTP_URL). */
export interface Delivery { messageId: string, file?: string }

export interface MailTransport {
  readonly kind: 'smtp' | 'file'
  /** Sends (or writes) one message; `id` (the outbox's) makes its Message-ID, so a resend is recognisably the same. */
  send (message: MailMessage, id: string, createdAt: number): Promise<Delivery>
  close (): void
}

/** The server refused this recipient for good (5xx to RCPT TO): trying again would fail the same way. */
export class PermanentMailError extends Error {
  override name = 'PermanentMailError'
}

const envelope = (message: MailMessage, id: string) => {
  const sender = parseMailbox(message.from)
  const domain = sender?.address.split('@')[1] ?? 'gatehouse.invalid'
  return {
    from: sender ?? message.from,
    to: message.to,
    subject: message.subject,
    text: message.text,
    html: message.html,
    messageId: `<${id}@${domain}>`,
    // Headers are never built from values by hand: nodemailer encodes each one; the values were checked one-line.
    disableFileAccess: true,
    disableUrlAccess: true
  }
}

/** To SMTP_URL, one connection per message (the outbox sends few, and a pooled connection can go stale). */
export function smtpTransport (target: SmtpTarget, timeoutMs: number): MailTransport {
  const transporter = nodemailer.createTransport({
    host: target.host,
    port: target.port,
    secure: target.secure,
    requireTLS: target.requireTls,
    auth: target.auth,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    logger: false
  })
  return {
    kind: 'smtp',
    async send (message, id) {
      try {
        const info = await transporter.sendMail(envelope(message, id))
        return { messageId: String(info.messageId) }
      } catch (err) {
        const e = err as { responseCode?: number, command?: string, message?: string }
        if (e.command === 'RCPT TO' && (e.responseCode ?? 0) >= 500) throw new PermanentMailError(e.message ?? 'recipient refused')
        throw err
      }
    },
    close () { transporter.close() }
  }
}

/**
 * No SMTP_URL (the embedded default): each message as an RFC 5322 .eml file in `dir`, readable by the owner only
 * (it holds single-use links), named by when it was queued and its outbox id (a resend overwrites its own file).
 */
export function fileTransport (dir: string): MailTransport {
  const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' })
  return {
    kind: 'file',
    async send (message, id, createdAt) {
      const info = await transporter.sendMail(envelope(message, id))
      await mkdir(dir, { recursive: true, mode: 0o700 })
      const stamp = new Date(createdAt * 1000).toISOString().replace(/[:.]/g, '-')
      const file = join(dir, `${stamp}-${id}.eml`)
      await writeFile(file, info.message as Buffer, { mode: 0o600 })
      return { messageId: String(info.messageId), file }
    },
    close () { transporter.close() }
  }
}

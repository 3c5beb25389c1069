import { isHeaderSafe, isMailAddress } from './addresses.js'
import type { MailTemplates } from './templates.js'

/** A message ready to go out, as the outbox keeps it until it is sent. */
export interface MailMessage {
  /** The template set it was made from (`verify-email`, …), for logs and events. */
  kind: string
  to: string
  from: string
  subject: string
  text: string
  html: string
}

export class MailMessageError extends Error {
  override name = 'MailMessageError'
}

/**
 * A link into Gatehouse, built from ISSUER and a path of ours only: never from a request's Host or forwarded
 * headers, never to another origin (RFC 9700 §4.11; SECURITY-CASES U5). `path` is absolute ("/verify-email").
 */
export function issuerLink (issuer: string, path: string, query: Record<string, string> = {}): string {
  if (!/^\/(?![/\\])[A-Za-z0-9/._~-]*$/.test(path)) throw new MailMessageError(`link path ${JSON.stringify(path)}: an absolute path on the issuer`)
  const search = new URLSearchParams(query).toString()
  return `${issuer.replace(/\/+$/, '')}${path}${search === '' ? '' : `?${search}`}`
}

export interface BuildInput {
  kind: string
  to: string
  data: Record<string, unknown>
  /** MAIL_FROM. */
  from: string
  issuer: string
  issuerName: string
}

/**
 * Renders a message from its templates. Templates see the caller's data as `it`, plus `it.issuerName` and
 * `it.link(path, query)` (the only way they make a URL). A recipient that is not one plain address, or a subject
 * that is not one line, is refused: both would let a value add headers.
 */
export function buildMessage (templates: MailTemplates, input: BuildInput): MailMessage {
  const { kind, to, from, issuer, issuerName } = input
  if (!isMailAddress(to)) throw new MailMessageError('the recipient must be one address, without a name, a list or line breaks')
  if (!isHeaderSafe(from)) throw new MailMessageError('the sender must be one line')
  const link = (path: string, query?: Record<string, string>) => issuerLink(issuer, path, query)
  const { subject, text, html } = templates.render(kind, { ...input.data, issuerName, link })
  if (subject === '' || !isHeaderSafe(subject)) throw new MailMessageError(`the subject of ${kind} must be one non-empty line`)
  return { kind, to, from, subject, text, html }
}

/**
 * SMTP_URL: `smtp://[user[:pass]@]host[:port]` (STARTTLS; required unless the host is a loopback address, where a
 * local relay or a test server offers none) or `smtps://…` (TLS from the first byte, port 465 by default).
 */
export interface SmtpTarget {
  host: string
  port: number
  /** TLS from the first byte (smtps). */
  secure: boolean
  /** STARTTLS must succeed before anything is sent (smtp to a host that is not loopback). */
  requireTls: boolean
  auth?: { user: string, pass: string }
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[?::1\]?)$/i

export function parseSmtpUrl (value: string): SmtpTarget {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new Error('not a URL')
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new Error('must start with smtp:// or smtps://')
  if (url.hostname === '') throw new Error('names no host')
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') throw new Error('takes no path, query or fragment')
  const secure = url.protocol === 'smtps:'
  const host = url.hostname.replace(/^\[|\]$/g, '')
  return {
    host,
    port: url.port === '' ? (secure ? 465 : 587) : Number(url.port),
    secure,
    requireTls: !secure && !LOOPBACK.test(url.hostname),
    auth: url.username === '' ? undefined : { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
  }
}

/** The URL as logs and error messages may show it: any password replaced. */
export function redactSmtpUrl (value: string): string {
  try {
    const url = new URL(value)
    if (url.password !== '') url.password = '***'
    return url.toString()
  } catch {
    // Unparseable: whatever sits between "//" and the last "@" may be a password.
    return value.replace(/\/\/[^/]*@/, '//***@')
  }
}

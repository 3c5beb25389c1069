/**
 * What may go into a mail header. A CR or LF in a header value would end that header and start another (a
 * `Bcc:` added by whoever chose the value: header injection), so every value is one line; recipients are single
 * plain addresses (no display name, no list, no comment), so one `send` never reaches a second mailbox.
 */

/** A value that may stand in a header: no CR, LF or NUL. */
export function isHeaderSafe (value: string): boolean {
  return !/[\r\n\0]/.test(value)
}

/** local@domain, at most 254 characters (RFC 5321 §4.5.3.1.3), nothing a header would read as a second address. */
const ADDRESS = /^[^\s@<>()[\]\\,;:"]{1,64}@[^\s@<>()[\]\\,;:"]{1,253}$/

export function isMailAddress (value: string): boolean {
  return value.length <= 254 && ADDRESS.test(value) && !value.endsWith('.') && isHeaderSafe(value)
}

/**
 * A sender as MAIL_FROM takes it: `address` or `Display Name <address>`, one line. The display name may hold
 * anything but the characters that would end it early (nodemailer quotes it).
 */
export function parseMailbox (value: string): { name: string, address: string } | undefined {
  if (!isHeaderSafe(value)) return undefined
  const named = /^\s*([^<>"]*?)\s*<([^<>]+)>\s*$/.exec(value)
  const name = named ? named[1]! : ''
  const address = named ? named[2]! : value.trim()
  return isMailAddress(address) ? { name, address } : undefined
}

/** The default sender: `Gatehouse <no-reply@HOST of ISSUER>` (CONTRACT.md, MAIL_FROM). */
export function defaultMailFrom (issuer: string): string {
  // Derived before the settings are checked: a bad ISSUER (or PORT) is reported as such, not as a throw here.
  const parsed = URL.canParse(issuer) ? new URL(issuer).hostname : 'localhost'
  // An IPv6 literal ([fd00::7]) makes no address isMailAddress accepts: the placeholder localhost then (set MAIL_FROM).
  const host = parsed.startsWith('[') ? 'localhost' : parsed
  return `Gatehouse <no-reply@${host}>`
}

import { isIP } from 'node:net'

/**
 * What the listening address (HOST, PORT) means for people and browsers: whether only this machine can reach it,
 * and the URL a browser on this machine opens for it, which is the default ISSUER (lib/config.ts).
 */

/** Whether a listening address is reachable from this machine only. */
export function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || /^::ffff:127\./i.test(host)
}

/** Every interface: a browser cannot open these (Chromium refuses 0.0.0.0), but `localhost` reaches them. */
const isWildcard = (host: string): boolean => host === '0.0.0.0' || host === '::' || host === '[::]' || host === '::0'

/**
 * The URL a browser opens to reach a server listening on HOST:PORT, the default ISSUER. A loopback or
 * every-interface address gives `localhost`: browsers treat it as a secure context as they do 127.0.0.1, and
 * unlike an IP address it can be a WebAuthn RP ID (passkeys need the issuer's host to be a domain), so the
 * quick start's URLs (`http://localhost:3000`) all work. Any other host is used as it is (an IPv6 address in
 * brackets). PORT=0 (any free port) gives `:0`: set ISSUER when the port is not known in advance.
 */
export function browserUrl (host: string, port: number): string {
  const name = isLoopback(host) || isWildcard(host) ? 'localhost' : isIP(host) === 6 ? `[${host}]` : host
  return `http://${name}:${String(port)}`
}

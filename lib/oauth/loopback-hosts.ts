/**
 * The hosts a plain `http` URI Gatehouse stores may name: the machine itself, written as a native app's loopback
 * redirect (RFC 8252 §7.3, §8.3) or a resource server on a developer's machine would write it. Exactly these three
 * (not all of 127/8, not *.localhost): redirect URIs (admin clients, RFC 7591 registrations), resource URIs (RFC
 * 8707) and the resource-server plugin's own `resource` share this one rule.
 */
const PLAIN_HTTP_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/** Whether `hostname` (as URL.hostname gives it: IPv6 in brackets) may be named by a plain http URI. */
export const allowsPlainHttp = (hostname: string): boolean => PLAIN_HTTP_HOSTS.has(hostname)

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * Client secrets are 256-bit random strings shown once. Such secrets cannot be guessed or brute-forced,
 * so a slow password hash would only slow the client_credentials hot path: they are stored as a keyed
 * SHA-256 digest (HMAC, domain-separated from other hashes) and compared in constant time.
 */
const DOMAIN = 'gatehouse/client-secret/v1'
const PREFIX = 'hmac-sha256$'

export function generateClientSecret (): string {
  return randomBytes(32).toString('base64url')
}

export function hashClientSecret (secret: string): string {
  return PREFIX + createHmac('sha256', DOMAIN).update(secret, 'utf8').digest('base64url')
}

/** Constant-time: both sides are digests of equal length, compared with timingSafeEqual. */
export function verifyClientSecret (secret: string, stored: string | null): boolean {
  const presented = Buffer.from(hashClientSecret(secret))
  // Unknown client or no secret: compare against a digest anyway, so both paths cost the same.
  const expected = Buffer.from(stored ?? hashClientSecret(''))
  return expected.length === presented.length && timingSafeEqual(presented, expected) && stored !== null
}

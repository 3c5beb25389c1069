import { createHash, randomBytes } from 'node:crypto'

/** Opaque, 256-bit random; only the SHA-256 digest is stored, so a database leak does not leak usable tokens. */
export function generateRefreshToken (): { token: string, hash: string } {
  const token = randomBytes(32).toString('base64url')
  return { token, hash: hashRefreshToken(token) }
}

export function hashRefreshToken (token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url')
}

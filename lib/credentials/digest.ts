import { createHash } from 'node:crypto'

/**
 * SHA-256 of a text (UTF-8), base64url: the one way a high-entropy secret Gatehouse hands out (a refresh token,
 * an authorization code) is stored and looked up, so a database leak gives nothing that can be redeemed; and how
 * a counter key is derived from what must not reach Redis in clear (lib/oauth/brute-force.ts). Passwords are
 * not for this (lib/credentials/passwords.ts), nor are client secrets (a keyed hash: lib/oauth/client-secrets.ts).
 */
export function digest (text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url')
}

import { randomBytes } from 'node:crypto'
import { digest } from '../credentials/digest.js'
import { CLIENTS_PER_SESSION, CODES_PER_SESSION } from '../limits/table-bounds.js'
import type { Storage, User } from '../stores/types.js'
import { AUTHORIZATION_CODE_TTL_SECONDS, type AuthorizationRequest } from './authorize.js'

/**
 * Issues a code for a checked authorization request and a signed-in user: bound to the client, the redirect
 * URI, the PKCE challenge, the nonce, the scopes, the `claims` parameter's names, the time and the ways (`amr`) the user authenticated and the credential version of
 * the session (redeemed only while the user still holds it); single use, 60 s. A session holds at most
 * CODES_PER_SESSION unredeemed codes: issuing past it ends the oldest (a browser asking for codes in a loop keeps
 * ten rows, not one per request). The session remembers the client (bounded), for back-channel logout.
 */
export async function issueCode (storage: Storage, input: { request: AuthorizationRequest, user: User, scopes: string[], authTime: number, sessionHash: string, sid?: string | null, amr: string[], credentialVersion: number, now: number }): Promise<string> {
  const code = randomBytes(32).toString('base64url')
  const { request, now } = input
  await storage.codes.create({
    // Opaque, 256-bit random; only its digest is stored (a database leak gives no redeemable code).
    hash: digest(code),
    clientId: request.client.id,
    userId: input.user.id,
    redirectUri: request.redirectUri,
    codeChallenge: request.codeChallenge,
    nonce: request.nonce ?? null,
    scope: input.scopes.join(' '),
    claims: request.claims ?? null,
    authTime: input.authTime,
    sessionHash: input.sessionHash,
    sid: input.sid ?? null,
    amr: input.amr,
    credentialVersion: input.credentialVersion,
    resources: (request.resources ?? []).map((r) => r.uri),
    dpopJkt: request.dpopJkt ?? null,
    createdAt: now,
    expiresAt: now + AUTHORIZATION_CODE_TTL_SECONDS,
    redeemedAt: null,
    issued: null
  })
  await storage.codes.endOldestForSession(input.sessionHash, CODES_PER_SESSION)
  // Back-Channel Logout 1.0 §2.7: the clients this session signed into are the ones told when it ends.
  await storage.sessions.addClient(input.sessionHash, request.client.id, CLIENTS_PER_SESSION)
  return code
}

import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose'
import { DEFAULT_ID_TOKEN_ALG } from '../keys/algorithm.js'
import { CONSOLE_CLIENT_ID } from './client.js'

/**
 * The console checks the ID token its code brought as any relying party must (OIDC Core §3.1.3.7), although it was
 * issued in this process: signed by one of this issuer's published keys with the console client's algorithm (the
 * default, RS256; never `none` or another), `typ: JWT`, `iss` this issuer, `aud` the console, unexpired at `now`.
 * The nonce and what the claims admit are lib/console/sign-in.ts `admission`.
 */
export async function verifyConsoleIdToken (token: string, input: { jwks: JSONWebKeySet, issuer: string, nowMs: number }): Promise<JWTPayload | undefined> {
  try {
    const { payload } = await jwtVerify(token, createLocalJWKSet(input.jwks), {
      issuer: input.issuer,
      audience: CONSOLE_CLIENT_ID,
      algorithms: [DEFAULT_ID_TOKEN_ALG],
      typ: 'JWT',
      requiredClaims: ['sub', 'exp', 'iat', 'nonce'],
      currentDate: new Date(input.nowMs)
    })
    return payload
  } catch {
    return undefined
  }
}

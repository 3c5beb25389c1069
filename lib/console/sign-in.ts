import { createHash } from 'node:crypto'
import type { SecretBox } from '../credentials/secret-box.js'
import { sameSecret } from '../browser/csrf.js'
import { ACR_MFA } from '../mfa/assurance.js'
import { parseScope } from '../oauth/scopes.js'
import { CONSOLE_CLIENT_ID, CONSOLE_SCOPE, consoleRedirectUri } from './client.js'

/**
 * The console's sign-in, as any OpenID client does it (OIDC Core §3.1; RFC 9700 §2.1): GET /console without a
 * console session sends the browser to /authorize with `state`, `nonce` and a PKCE challenge, remembered in a sealed
 * cookie (AES-256-GCM, lib/credentials/secret-box.ts) that lives SIGN_IN_SECONDS; the callback checks them and
 * admits only what `admission` says. The rules here are plain functions; routes/console/sign-in.ts is the I/O.
 */

/** Ten minutes to sign in (and find the phone for the second factor). */
export const SIGN_IN_SECONDS = 10 * 60

/** The secret-box context: nothing sealed for another purpose (a factor secret, a password step) opens as this. */
const CONTEXT = 'gatehouse/console-sign-in/v1'

export interface ConsoleSignIn {
  state: string
  nonce: string
  codeVerifier: string
  /** The console page asked for before the sign-in (a /console path), where the callback goes on. */
  returnTo: string
  /** Whether the request asked for two factors (CONSOLE_REQUIRE_MFA=on): the ID token must then show them. */
  mfa: boolean
  /** Unix seconds. */
  expiresAt: number
}

export function sealSignIn (box: SecretBox, signIn: ConsoleSignIn): string {
  const { state, nonce, codeVerifier, returnTo, mfa, expiresAt } = signIn
  return box.seal(JSON.stringify([state, nonce, codeVerifier, returnTo, mfa, expiresAt]), CONTEXT)
}

/** The sign-in a cookie holds, when it was sealed here and has not expired at `now`; undefined otherwise. */
export function openSignIn (box: SecretBox, cookie: string | undefined, now: number): ConsoleSignIn | undefined {
  if (cookie === undefined || cookie.length > 4096) return undefined
  const text = box.open(cookie, CONTEXT)
  if (text === undefined) return undefined
  try {
    const [state, nonce, codeVerifier, returnTo, mfa, expiresAt] = JSON.parse(text) as unknown[]
    if (typeof state !== 'string' || typeof nonce !== 'string' || typeof codeVerifier !== 'string') return undefined
    if (typeof returnTo !== 'string' || typeof mfa !== 'boolean' || typeof expiresAt !== 'number') return undefined
    return expiresAt > now ? { state, nonce, codeVerifier, returnTo, mfa, expiresAt } : undefined
  } catch {
    return undefined
  }
}

/** A console path to come back to: /console or below it, nothing else (no other path, host or scheme). */
export function consoleReturnTo (url: unknown): string {
  if (typeof url !== 'string' || url.length > 512) return '/console'
  return /^\/console(\/[A-Za-z0-9._~%/-]*)?(\?[A-Za-z0-9._~%&=+-]*)?$/.test(url) && !url.includes('//') && !url.includes('/..') ? url : '/console'
}

/** The /authorize address the sign-in starts at (a path on this server). */
export function authorizationPath (issuer: string, signIn: ConsoleSignIn): string {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: CONSOLE_CLIENT_ID,
    redirect_uri: consoleRedirectUri(issuer),
    scope: CONSOLE_SCOPE,
    state: signIn.state,
    nonce: signIn.nonce,
    code_challenge: createHash('sha256').update(signIn.codeVerifier).digest('base64url'),
    code_challenge_method: 'S256'
  })
  // The two-factor class (lib/mfa/assurance.ts): the interaction policy then asks for the factor, or its enrolment.
  if (signIn.mfa) query.set('acr_values', ACR_MFA)
  return `/authorize?${query.toString()}`
}

/** Whether the callback's `state` is this browser's sign-in's (constant time). */
export const stateMatches = (signIn: ConsoleSignIn, state: unknown): boolean => typeof state === 'string' && sameSecret(signIn.state, state)

/** What the callback decides once the ID token is verified. */
export type Admission =
  | { outcome: 'admitted' }
  | { outcome: 'refused', reason: 'not_admin' | 'mfa_required' | 'nonce' | 'disabled' }

export interface AdmissionInput {
  /** The verified ID token's claims. */
  idToken: { sub?: unknown, nonce?: unknown, acr?: unknown }
  /** The scope the token reply granted. */
  grantedScope: string | undefined
  /** The user the ID token names, as stored now (undefined: gone). */
  user: { id: string, scope: string, disabled: boolean } | undefined
  /** How many second factors the user has now. */
  factors: number
  signIn: ConsoleSignIn
}

/**
 * Who may use the console: the user the ID token names (its nonce this sign-in's), enabled, holding `admin` (in the
 * granted scope and in their own), and with two factors used whenever they have a factor or the console asked for
 * two (CONSOLE_REQUIRE_MFA=on): `acr` is the two-factor class (OIDC Core §2).
 */
export function admission (input: AdmissionInput): Admission {
  const { idToken, user, signIn } = input
  if (typeof idToken.nonce !== 'string' || !sameSecret(idToken.nonce, signIn.nonce)) return { outcome: 'refused', reason: 'nonce' }
  if (!user || user.id !== idToken.sub || user.disabled) return { outcome: 'refused', reason: 'disabled' }
  if (!parseScope(input.grantedScope).includes('admin') || !holdsAdmin(user)) return { outcome: 'refused', reason: 'not_admin' }
  if ((signIn.mfa || input.factors > 0) && idToken.acr !== ACR_MFA) return { outcome: 'refused', reason: 'mfa_required' }
  return { outcome: 'admitted' }
}

/** Whether a user holds the `admin` scope (the one rule the console's admission and its sessions share). */
export const holdsAdmin = (user: { scope: string }): boolean => parseScope(user.scope).includes('admin')

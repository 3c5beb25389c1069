import { randomBytes, randomInt } from 'node:crypto'
import { digest } from '../credentials/digest.js'
import type { Limit } from '../limits/throttle.js'
import { ConflictError, type Client, type DeviceApproval, type DeviceCode, type Resource, type Storage } from '../stores/types.js'
import type { AuthorizationRequest } from './authorize.js'
import { isOidcScope, parseScope } from './scopes.js'

/**
 * The device authorization grant's rules (RFC 8628): the codes handed to a device, the user code a person types,
 * and what a poll answers. The I/O is the store's (lib/stores/types.ts DeviceCodeStore: every change of state is
 * one atomic update); routes/device and routes/browser/device.ts only read requests and render.
 */

/** RFC 8628 §3.2 `expires_in`: 10 minutes (CONTRACT.md). */
export const DEVICE_CODE_TTL_SECONDS = 600
/** §3.2 `interval`: the least wait between polls; §3.5 slow_down adds SLOW_DOWN_SECONDS to it each time. */
export const DEVICE_POLL_INTERVAL_SECONDS = 5
export const SLOW_DOWN_SECONDS = 5

/**
 * §6.1: 20 consonants (no vowels, so no words; no letter that reads like a digit), 8 of them: 20^8 ≈ 2^34.6.
 * With guesses limited to DEVICE_CODE_GUESSES per address, and few codes live at once, guessing one is hopeless.
 */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ'
export const USER_CODE_LENGTH = 8
const USER_CODE = new RegExp(`^[${USER_CODE_ALPHABET}]{${USER_CODE_LENGTH}}$`)

/**
 * §5.1: user codes tried on the /device page, per client address (found or not, every try counts: the count is
 * then one atomic increment, and a person enters a handful). Beyond it, 429 until the window ends.
 */
export const DEVICE_CODE_GUESSES = { max: 20, windowSeconds: 5 * 60 }
/**
 * Requests started at /device_authorization per client address: each stores a row for 10 minutes, so this bounds
 * the rows one address keeps live at once (60 × 10). A device starts one per sign-in.
 */
export const DEVICE_STARTS = { max: 60, windowSeconds: 60 }

const keyOf = (address: string): string => digest(address).slice(0, 22)
export const deviceGuessLimits = (address: string): Limit[] => [{ key: `device-guess:${keyOf(address)}`, ...DEVICE_CODE_GUESSES, kind: 'address' }]
export const deviceStartLimits = (address: string): Limit[] => [{ key: `device-start:${keyOf(address)}`, ...DEVICE_STARTS, kind: 'address' }]

/** A new user code, normalised (8 letters, no dash), drawn uniformly. */
export function newUserCode (): string {
  let code = ''
  for (let i = 0; i < USER_CODE_LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)]
  return code
}

/** As shown to a person: XXXX-XXXX (§6.1: a separator makes it easier to read and type). */
export const formatUserCode = (code: string): string => `${code.slice(0, 4)}-${code.slice(4)}`

/**
 * What a person typed, as stored: upper case, dashes and white space dropped (§6.1: the server should be lenient
 * with case and punctuation); undefined when it cannot be a user code (so it is never looked up).
 */
export function normaliseUserCode (typed: unknown): string | undefined {
  if (typeof typed !== 'string' || typed.length > 64) return undefined
  const code = typed.toUpperCase().replace(/[\s-]/g, '')
  return USER_CODE.test(code) ? code : undefined
}

/** The device page for one user code: where a sign-in for it comes back to (lib/browser/return-to.ts localReturnTo). */
export const devicePagePath = (userCode: string): string => `/device?user_code=${formatUserCode(userCode)}`
const DEVICE_PAGE_PATH = new RegExp(`^/device\\?user_code=[${USER_CODE_ALPHABET}]{4}-[${USER_CODE_ALPHABET}]{4}$`)
export const isDevicePagePath = (value: string): boolean => DEVICE_PAGE_PATH.test(value)

/**
 * The scopes a device request may ask for: as at /authorize, the OpenID Connect ones and, when the client has a
 * list, its own; undefined when the request sent none (then everything the user holds within the client's list).
 * Returns the refused ones for invalid_scope.
 */
export function deviceScopes (client: Client, requested: string | undefined): { scopes: string[] | undefined, refused: string[] } {
  if (requested === undefined || requested.trim() === '') return { scopes: undefined, refused: [] }
  const scopes = parseScope(requested)
  const clientScopes = parseScope(client.scope)
  const refused = client.scope === null ? [] : scopes.filter((s) => !isOidcScope(s) && !clientScopes.includes(s))
  return { scopes, refused }
}

export interface StartedDeviceRequest { deviceCode: string, userCode: string, expiresIn: number, interval: number }

/** §3.1, §3.2: stores a new request and returns its codes. The device code is 256 random bits, stored as its digest. */
export async function startDeviceRequest (storage: Storage, input: { client: Client, scopes: string[] | undefined, resources?: string[], now: number }): Promise<StartedDeviceRequest> {
  const deviceCode = randomBytes(32).toString('base64url')
  const base = {
    hash: digest(deviceCode),
    clientId: input.client.id,
    scope: input.scopes?.join(' ') ?? '',
    resources: input.resources ?? [],
    status: 'pending' as const,
    approval: null,
    interval: DEVICE_POLL_INTERVAL_SECONDS,
    lastPollAt: null,
    createdAt: input.now,
    expiresAt: input.now + DEVICE_CODE_TTL_SECONDS
  }
  // A user code already taken (live or not yet swept) is drawn again: at 2^34.6 codes, a second draw is plenty.
  for (let attempt = 0; ; attempt++) {
    const userCode = newUserCode()
    try {
      await storage.deviceCodes.create({ ...base, userCode })
      return { deviceCode, userCode, expiresIn: DEVICE_CODE_TTL_SECONDS, interval: DEVICE_POLL_INTERVAL_SECONDS }
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= 3) throw err
    }
  }
}

/**
 * The device request as the browser's interaction policy sees it (lib/oauth/interaction.ts, through
 * authorization-flow.ts decideNext): an authorization request that always asks for consent (prompt=consent: the
 * person confirms on the consent page which device they let in, §5.4) and whose pages' forms stay on this server
 * (`redirectUri` is the device page itself; nothing is ever redirected to a client).
 */
export function deviceAuthorizationRequest (client: Client, code: DeviceCode, issuer: string, resources: Resource[] = []): AuthorizationRequest {
  return {
    client,
    resources,
    redirectUri: `${issuer}/device`,
    state: undefined,
    responseMode: 'query',
    scopes: code.scope === '' ? undefined : parseScope(code.scope),
    codeChallenge: null,
    nonce: undefined,
    prompt: new Set(['consent']),
    maxAge: undefined,
    loginHint: undefined,
    idTokenHint: undefined
  }
}

/** What a poll of /token answers (§3.5): wait, slow down, refused, expired, or the approval to issue tokens from. */
export type PollAnswer =
  | { kind: 'authorization_pending' }
  | { kind: 'slow_down', interval: number }
  | { kind: 'access_denied' }
  | { kind: 'expired_token' }
  | { kind: 'invalid_grant' }
  | { kind: 'approved', approval: DeviceApproval, code: DeviceCode }

/**
 * The answer to one poll, after the store recorded it (DeviceCodeStore.poll). Expiry first (an expired request
 * answers expired_token whatever its state, §3.5), then the pace (slow_down, the interval already grown), then the
 * state. `approved` is only what the row said: the caller redeems it (approved → used) to be the one that issues.
 */
export function pollAnswer (code: DeviceCode | undefined, clientId: string, now: number, tooSoon: boolean): PollAnswer {
  if (code === undefined || code.clientId !== clientId) return { kind: 'invalid_grant' }
  if (code.expiresAt <= now) return { kind: 'expired_token' }
  if (code.status === 'used') return { kind: 'invalid_grant' }
  if (tooSoon) return { kind: 'slow_down', interval: code.interval }
  if (code.status === 'denied') return { kind: 'access_denied' }
  if (code.status === 'pending' || code.approval === null) return { kind: 'authorization_pending' }
  return { kind: 'approved', approval: code.approval, code }
}

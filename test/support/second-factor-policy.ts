import type { FastifyInstance } from 'fastify'
import { cookieNames, newSecret } from '../../lib/browser/cookies.js'
import { digest } from '../../lib/credentials/digest.js'
import type { User } from '../../lib/stores/types.js'
import type { InjectBrowser } from './browser.js'
import { ISSUER } from './helper.js'

/**
 * What the second-factor policy's tests set up straight in the store, without the pages that would make it (those
 * are tested on their own): a confirmed factor for a user, and a browser session whose `amr` says how it signed in.
 */

/** A confirmed authenticator app for `user` (its secret is never read: only countConfirmed matters here). */
export async function addConfirmedFactor (app: FastifyInstance, user: User, id = `totp-${user.id}`): Promise<void> {
  const now = app.clock.now()
  const factor = { id, userId: user.id, kind: 'totp', name: 'Phone', secret: 'sealed-secret-unused', credentialId: null, publicKey: null, counter: 0, data: null, createdAt: now, confirmedAt: now } as const
  await app.storage.factors.create(factor, 10)
}

/** Puts a session of `user` with this `amr` into `browser` (its cookie), as a sign-in would have. */
export async function sessionWithAmr (app: FastifyInstance, browser: InjectBrowser, user: User, amr: string[]): Promise<void> {
  const now = app.clock.now()
  const cookie = newSecret()
  const session = { idHash: digest(cookie), userId: user.id, authTime: now, createdAt: now, expiresAt: now + 3600, credentialVersion: user.credentialVersion, provider: null, amr, sid: newSecret() }
  const stored = await app.storage.sessions.create(session)
  if (!stored) throw new Error('the session was not stored')
  browser.cookies.set(cookieNames(ISSUER).session, cookie)
}

/** The /authorize path a second-factor redirect (`/login/factor` or `/login/enroll`) carries back, or throws. */
export function returnToOf (location: string | undefined, page: '/login/factor' | '/login/enroll'): string {
  if (location === undefined) throw new Error('no Location')
  const url = new URL(location, ISSUER)
  if (url.pathname !== page) throw new Error(`Location ${location} is not ${page}`)
  const returnTo = url.searchParams.get('return_to')
  if (returnTo === null) throw new Error(`Location ${location} has no return_to`)
  return returnTo
}

import type { Clock } from '../clock.js'
import { BrowserSessions } from '../browser/sessions.js'
import type { SignedIn } from '../oauth/interaction.js'
import type { Storage, User } from '../stores/types.js'
import { holdsAdmin } from './sign-in.js'

/** Idle this long, a console session ends (OWASP ASVS 3.3.1: short for privileged sessions). */
export const CONSOLE_IDLE_SECONDS = 15 * 60
/** However busy, a console session ends this long after its sign-in. */
export const CONSOLE_MAX_SECONDS = 8 * 60 * 60
/** The idle deadline moves at most once a minute: a page view is not a write. */
export const CONSOLE_TOUCH_SECONDS = 60

/** When a console session created at `createdAt` expires if used at `now`: idle or maximum, whichever comes first. */
export const consoleExpiry = (createdAt: number, now: number): number => Math.min(createdAt + CONSOLE_MAX_SECONDS, now + CONSOLE_IDLE_SECONDS)

/** Whether a use at `now` moves the deadline (it would move by more than CONSOLE_TOUCH_SECONDS). */
export const touchDue = (session: { createdAt: number, expiresAt: number }, now: number): boolean =>
  consoleExpiry(session.createdAt, now) - session.expiresAt >= CONSOLE_TOUCH_SECONDS

/**
 * Console sessions: rows of the browser sessions store (lib/browser/sessions.ts), under a cookie of their own
 * (lib/browser/cookies.ts `console`, SameSite=Strict). So they follow their user as every session does: ended by a
 * password change, a disable or a delete (the credential version), by "end sessions" on the account page, the
 * admin API and the console; and, on every request here, when the user no longer holds `admin`. Short-lived: idle
 * CONSOLE_IDLE_SECONDS, at most CONSOLE_MAX_SECONDS; server-side, so a logout ends it on every instance.
 */
export class ConsoleSessions {
  readonly #storage: Storage
  readonly #clock: Clock
  readonly #sessions: BrowserSessions

  constructor (deps: { storage: Storage, clock: Clock }) {
    this.#storage = deps.storage
    this.#clock = deps.clock
    this.#sessions = new BrowserSessions({ ...deps, config: { sessionTtl: CONSOLE_IDLE_SECONDS } })
  }

  /** The cookie's lifetime: the browser may forget it at the maximum, the store decides before. */
  get cookieMaxAge (): number { return CONSOLE_MAX_SECONDS }

  /** A console session for `user` (as read before the sign-in was checked), signed in with `amr`; undefined when the user changed meanwhile. */
  async start (user: User, amr: string[], userAgent?: string | string[]): Promise<{ cookie: string, signedIn: SignedIn } | undefined> {
    const started = await this.#sessions.start(user, { provider: null, amr }, undefined, userAgent)
    return started && { cookie: started.cookie, signedIn: { session: started.session, user } }
  }

  /** The live console session a cookie names; a stale one (no admin any more, past its maximum) is ended here. Each use slides its idle deadline. */
  async current (cookie: string | undefined): Promise<SignedIn | undefined> {
    const signedIn = await this.#sessions.current(cookie)
    if (!signedIn) return undefined
    const now = this.#clock.now()
    const { session, user } = signedIn
    if (!holdsAdmin(user) || now >= session.createdAt + CONSOLE_MAX_SECONDS) {
      await this.#storage.sessions.delete(session.idHash)
      return undefined
    }
    if (touchDue(session, now)) {
      const expiresAt = consoleExpiry(session.createdAt, now)
      if (!await this.#storage.sessions.extend(session.idHash, expiresAt, now)) return undefined
      return { session: { ...session, expiresAt }, user }
    }
    return signedIn
  }

  async end (cookie: string | undefined): Promise<void> { await this.#sessions.end(cookie) }
}

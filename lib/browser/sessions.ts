import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import { digest } from '../credentials/digest.js'
import { SESSIONS_PER_USER } from '../limits/table-bounds.js'
import type { SignedIn } from '../oauth/interaction.js'
import type { SignInMethod } from '../oauth/sign-in-methods.js'
import type { Session, Storage, User } from '../stores/types.js'
import { isSecretValue, newSecret } from './cookies.js'

/** How much of a User-Agent a session keeps: enough to name the browser and system, bounded whatever is sent. */
export const SESSION_USER_AGENT_LENGTH = 256

/** A User-Agent as a session keeps it: printable ASCII only (no NUL for PostgreSQL, nothing a log could misread), cut to the bound; null when none is left. */
export function sessionUserAgent (header: string | string[] | undefined): string | null {
  const text = (Array.isArray(header) ? header[0] : header) ?? ''
  const kept = text.replace(/[^\x20-\x7e]/g, '').trim().slice(0, SESSION_USER_AGENT_LENGTH)
  return kept === '' ? null : kept
}

/**
 * Browser sessions. The session cookie holds a random 256-bit id; the store keeps only its digest, so a
 * database leak gives no usable cookie. The id is replaced at every sign-in (no session fixation). A session
 * follows its user's credentials as a refresh family does: it carries the credential version read before the
 * sign-in was checked, is created only while the user still holds it, and ends at its first use after a password
 * change or a disable (re-enabling brings none back: disabling moved the version on).
 */
export class BrowserSessions {
  readonly #storage: Storage
  readonly #clock: Clock
  readonly #ttl: number

  constructor (deps: { storage: Storage, clock: Clock, config: Pick<Config, 'sessionTtl'> }) {
    this.#storage = deps.storage
    this.#clock = deps.clock
    this.#ttl = deps.config.sessionTtl
  }

  get ttl (): number { return this.#ttl }

  /**
   * The live session a cookie names, with its user; none when it expired or was ended. A stale one (its user gone,
   * disabled, or at another credential version) is ended here and is no session either.
   */
  async current (cookie: string | undefined): Promise<SignedIn | undefined> {
    if (!isSecretValue(cookie)) return undefined
    const session = await this.#storage.sessions.find(digest(cookie), this.#clock.now())
    if (!session) return undefined
    const user = await this.#storage.users.findById(session.userId)
    if (!user || user.disabled || user.credentialVersion !== session.credentialVersion) {
      await this.#storage.sessions.delete(session.idHash)
      return undefined
    }
    return { session, user }
  }

  /**
   * Signs `user` in (as read before the sign-in was checked: its credential version is the session's) through
   * `method`: a new session under a new id (the old one, if any, is ended). A user holds at most SESSIONS_PER_USER
   * sessions: past it the oldest end. Returns the cookie's value, or undefined when the user changed meanwhile (a
   * new password, disabled, deleted): then there is no session. `userAgent`: the request's header, kept (bounded)
   * so the account page can name the device.
   */
  async start (user: User, method: SignInMethod, previous: string | undefined, userAgent?: string | string[]): Promise<{ cookie: string, session: Session } | undefined> {
    if (isSecretValue(previous)) await this.#storage.sessions.delete(digest(previous))
    const now = this.#clock.now()
    const cookie = newSecret()
    const session: Session = {
      idHash: digest(cookie),
      userId: user.id,
      authTime: now,
      createdAt: now,
      expiresAt: now + this.#ttl,
      credentialVersion: user.credentialVersion,
      provider: method.provider,
      amr: method.amr,
      // Back-Channel Logout 1.0 §2.1: unrelated to the cookie, so a logout token (sent to clients) never names it.
      sid: newSecret(),
      userAgent: sessionUserAgent(userAgent)
    }
    if (!await this.#storage.sessions.create(session)) return undefined
    await this.#storage.sessions.endOldestForUser(user.id, SESSIONS_PER_USER)
    return { cookie, session }
  }

  async end (cookie: string | undefined): Promise<void> {
    if (isSecretValue(cookie)) await this.#storage.sessions.delete(digest(cookie))
  }
}

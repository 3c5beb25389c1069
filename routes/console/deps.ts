import type { CookieNames } from '../../lib/browser/cookies.js'
import type { ConsoleSessions } from '../../lib/console/sessions.js'
import type { SecretBox } from '../../lib/credentials/secret-box.js'

/** What routes/console/index.ts hands each console page file. */
export interface ConsoleDeps {
  sessions: ConsoleSessions
  /** Seals the sign-in's cookie (lib/console/sign-in.ts). */
  box: SecretBox
  names: CookieNames
}

import type { Clock } from '../clock.js'
import type { Config } from '../config.js'

/** What `app.ts` accepts: tests pass `env` overrides (or a whole `config`) and may control time with `clock`. */
export interface AppOptions {
  env?: Record<string, string | undefined>
  config?: Config
  /** Defaults to the system clock. */
  clock?: Clock
}

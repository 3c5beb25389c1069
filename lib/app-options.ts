import type { Config } from './config.js'

/** What `app.ts` accepts: tests pass `env` overrides (or a whole `config`) and may control time with `now`. */
export interface AppOptions {
  env?: Record<string, string | undefined>
  config?: Config
  /** Current time in unix seconds; defaults to the system clock. */
  now?: () => number
}

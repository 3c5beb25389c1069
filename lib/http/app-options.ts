import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import type { InitialKeyMaterial } from '../keys/signing-keys.js'

/** What `app.ts` accepts: tests pass `env` overrides (or a whole `config`) and may control time with `clock`. */
export interface AppOptions {
  env?: Record<string, string | undefined>
  config?: Config
  /** Defaults to the system clock. */
  clock?: Clock
  /**
   * Test-only: the private keys (PKCS#8 PEM, by algorithm) the first signing keys of an empty store are made
   * from, so that a test suite building hundreds of apps generates one RSA key, not one per app (~100-300 ms
   * each). Never set in production: server.ts does not pass it, and rotations always generate new keys.
   */
  initialKeyMaterial?: InitialKeyMaterial
  /**
   * Test-only: a PEM certificate trusted, besides the system's, by Client ID Metadata Document fetches
   * (plugins/client-metadata-documents.ts), for a test's own HTTPS server. A process is given extra CAs with
   * NODE_EXTRA_CA_CERTS; a test in one process cannot set that after it started.
   */
  documentFetchCa?: string
}

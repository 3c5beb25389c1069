import pg from 'pg'
import { StoreUnavailableError } from '../../errors.js'
import { systemClock, type Clock } from '../../clock.js'
import type { Storage } from '../types.js'
import { Db } from './db.js'
import { toStoreError } from './errors.js'
import { migrate } from './migrations.js'
import { PostgresUserStore } from './users.js'
import { PostgresClientStore } from './clients.js'
import { PostgresGrantStore } from './grants.js'
import { PostgresRevocationStore } from './revocations.js'
import { PostgresKeyStore } from './keys.js'
import { PostgresAuthorizationCodeStore, PostgresConsentStore, PostgresSessionStore } from './browser.js'
import { PostgresIdentityStore, PostgresProviderStore, PostgresUpstreamTransactionStore } from './upstream.js'
import { PostgresHousekeepingStore } from './housekeeping.js'
import { PostgresOutboxStore } from './outbox.js'
import { PostgresAccountLinkStore } from './account-links.js'
import { PostgresUserFactorStore } from './factors.js'
import { PostgresResourceStore } from './resources.js'
import { PostgresPasskeyChallengeStore } from './passkey-challenges.js'
import { PostgresRegistrationTokenStore } from './registration-tokens.js'
import { PostgresDeviceCodeStore } from './device-codes.js'
import { PostgresPushedRequestStore } from './pushed-requests.js'
import { PostgresClientAssertionStore } from './client-assertions.js'
import { PostgresSecurityEventStore } from './security-events.js'

/**
 * INT8 (BIGINT, COUNT(*)) as a JS number instead of node-postgres' default string. Unix seconds and row
 * counts are far below 2^53. Set on this pool only: `pg.types.setTypeParser` would change it process-wide.
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: (oid, format) => oid === pg.types.builtins.INT8 && format !== 'binary'
    ? (value: string) => Number(value)
    : pg.types.getTypeParser(oid, format)
}

/**
 * `postgres://` or `postgresql://` URL, with any libpq-style parameters node-postgres understands
 * (`options=-c search_path=...`, `application_name=...`, `sslmode=...`, `statement_timeout=...`).
 * Parameters in the URL win over the defaults below.
 */
export async function openPostgres (databaseUrl: string, clock: Clock = systemClock): Promise<Storage> {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    types,
    application_name: 'gatehouse',
    max: 10,
    idleTimeoutMillis: 30_000,
    // Fail fast when the server is down or unreachable: callers answer 503 within 2 s (CONTRACT.md) rather
    // than hang. Every statement Gatehouse runs is an indexed point query or a small page, far below these.
    connectionTimeoutMillis: 1_500,
    // Server-side limit per statement; the client-side one is a little longer and only catches a server
    // (or network) that stopped answering altogether.
    statement_timeout: 1_500,
    query_timeout: 1_800,
    // A transaction left open (a stuck or partitioned instance) must not hold row locks for long.
    idle_in_transaction_session_timeout: 15_000,
    keepAlive: true
  })
  // Without a listener, an idle connection dying (server restart, pg_terminate_backend, failover) is an
  // unhandled 'error' event and kills the process. The pool has already discarded that connection; the
  // next statement opens a new one, or fails with StoreUnavailableError, and that is where it is reported.
  pool.on('error', () => {})

  const db = new Db(pool)
  try {
    await migrate(db)
  } catch (err) {
    await pool.end().catch(() => {})
    throw toStoreError(err)
  }

  return {
    kind: 'postgres',
    users: new PostgresUserStore(db, clock),
    clients: new PostgresClientStore(db, clock),
    grants: new PostgresGrantStore(db),
    revocations: new PostgresRevocationStore(db),
    keys: new PostgresKeyStore(db),
    sessions: new PostgresSessionStore(db),
    consents: new PostgresConsentStore(db),
    codes: new PostgresAuthorizationCodeStore(db),
    providers: new PostgresProviderStore(db, clock),
    identities: new PostgresIdentityStore(db),
    upstreamTransactions: new PostgresUpstreamTransactionStore(db),
    housekeeping: new PostgresHousekeepingStore(db),
    outbox: new PostgresOutboxStore(db),
    accountLinks: new PostgresAccountLinkStore(db),
    factors: new PostgresUserFactorStore(db),
    passkeyChallenges: new PostgresPasskeyChallengeStore(db),
    resources: new PostgresResourceStore(db, clock),
    registrationTokens: new PostgresRegistrationTokenStore(db),
    deviceCodes: new PostgresDeviceCodeStore(db),
    pushedRequests: new PostgresPushedRequestStore(db),
    clientAssertions: new PostgresClientAssertionStore(db),
    securityEvents: new PostgresSecurityEventStore(db),
    async ping () {
      try {
        // A table of ours, not just SELECT 1: a database dropped and re-created empty is not ready either.
        await db.query({ name: 'gh_ping', text: 'SELECT 1 FROM schema_migrations LIMIT 1' })
      } catch (err) {
        throw err instanceof StoreUnavailableError ? err : new StoreUnavailableError(err)
      }
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async close () {
      if (!pool.ending) await pool.end()
    }
  }
}

import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { systemClock, type Clock } from '../../clock.js'
import type { Storage } from '../types.js'
import { sqliteMigrations } from './migrations.js'
import { SqliteUserStore } from './users.js'
import { SqliteClientStore } from './clients.js'
import { SqliteGrantStore } from './grants.js'
import { SqliteRevocationStore } from './revocations.js'
import { SqliteKeyStore } from './keys.js'
import { SqliteAuthorizationCodeStore, SqliteConsentStore, SqliteSessionStore } from './browser.js'
import { SqliteIdentityStore, SqliteProviderStore, SqliteUpstreamTransactionStore } from './upstream.js'
import { SqliteHousekeepingStore } from './housekeeping.js'
import { SqliteOutboxStore } from './outbox.js'
import { SqliteAccountLinkStore } from './account-links.js'
import { SqliteUserFactorStore } from './factors.js'
import { SqliteResourceStore } from './resources.js'
import { SqlitePasskeyChallengeStore } from './passkey-challenges.js'
import { SqliteRegistrationTokenStore } from './registration-tokens.js'
import { SqliteDeviceCodeStore } from './device-codes.js'
import { SqlitePushedRequestStore } from './pushed-requests.js'
import { SqliteClientAssertionStore } from './client-assertions.js'
import { SqliteSecurityEventStore } from './security-events.js'

/** `sqlite:PATH` (relative to the working directory) or `sqlite::memory:`. */
export function sqlitePath (databaseUrl: string): string {
  const path = databaseUrl.slice('sqlite:'.length)
  return path === ':memory:' ? path : resolve(path)
}

export function openSqlite (databaseUrl: string, clock: Clock = systemClock): Storage {
  const path = sqlitePath(databaseUrl)
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  // WAL: readers never block the writer, and a commit is on disk (in the WAL) before it is acknowledged;
  // NORMAL sync survives a killed process (only an OS crash can lose the last commits).
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('busy_timeout = 5000')
  db.pragma('foreign_keys = ON')
  migrate(db)
  return {
    kind: 'sqlite',
    users: new SqliteUserStore(db, clock),
    clients: new SqliteClientStore(db, clock),
    grants: new SqliteGrantStore(db),
    revocations: new SqliteRevocationStore(db),
    keys: new SqliteKeyStore(db),
    sessions: new SqliteSessionStore(db),
    consents: new SqliteConsentStore(db),
    codes: new SqliteAuthorizationCodeStore(db),
    providers: new SqliteProviderStore(db, clock),
    identities: new SqliteIdentityStore(db),
    upstreamTransactions: new SqliteUpstreamTransactionStore(db),
    housekeeping: new SqliteHousekeepingStore(db),
    outbox: new SqliteOutboxStore(db),
    accountLinks: new SqliteAccountLinkStore(db),
    factors: new SqliteUserFactorStore(db),
    passkeyChallenges: new SqlitePasskeyChallengeStore(db),
    resources: new SqliteResourceStore(db, clock),
    registrationTokens: new SqliteRegistrationTokenStore(db),
    deviceCodes: new SqliteDeviceCodeStore(db),
    pushedRequests: new SqlitePushedRequestStore(db),
    clientAssertions: new SqliteClientAssertionStore(db),
    securityEvents: new SqliteSecurityEventStore(db),
    async ping () { db.prepare('SELECT 1').get() },
    async close () { if (db.open) db.close() }
  }
}

/** Applies pending migrations under an IMMEDIATE transaction, so a CLI and a server starting together cannot race. */
function migrate (db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)')
  const apply = db.transaction(() => {
    const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }
    const current = row.v ?? 0
    for (const [index, migration] of sqliteMigrations.entries()) {
      const version = index + 1
      if (version <= current) continue
      db.exec(migration)
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, unixepoch())').run(version)
    }
  })
  apply.immediate()
}

import type pg from 'pg'
import type { Db } from './db.js'

/**
 * PostgreSQL schema, as an append-only list: a released migration is never edited, only followed by a new one.
 * Same tables and columns as SQLite. Times are unix seconds (BIGINT), lists are JSONB, flags BOOLEAN.
 * Names are unqualified: everything lands in the first schema of the connection's search_path.
 * Keys are COLLATE "C" so equality and ORDER BY compare bytes, exactly like SQLite's BINARY collation,
 * whatever locale the database was created with.
 */
export const postgresMigrations: string[] = [
  `CREATE TABLE users (
     id TEXT COLLATE "C" PRIMARY KEY,
     username TEXT COLLATE "C" NOT NULL UNIQUE,
     full_name TEXT,
     email TEXT,
     disabled BOOLEAN NOT NULL DEFAULT FALSE,
     scope TEXT NOT NULL DEFAULT '',
     password_hash TEXT,
     created_at BIGINT NOT NULL,
     updated_at BIGINT NOT NULL
   );
   CREATE TABLE clients (
     id TEXT COLLATE "C" PRIMARY KEY,
     secret_hash TEXT,
     is_public BOOLEAN NOT NULL,
     grant_types JSONB NOT NULL,
     scope TEXT,
     redirect_uris JSONB NOT NULL,
     created_at BIGINT NOT NULL,
     updated_at BIGINT NOT NULL
   );
   CREATE TABLE grants (
     id TEXT COLLATE "C" PRIMARY KEY,
     client_id TEXT COLLATE "C" NOT NULL,
     user_id TEXT COLLATE "C" NOT NULL,
     scope TEXT NOT NULL,
     created_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL,
     revoked_at BIGINT
   );
   CREATE INDEX grants_user ON grants (user_id);
   CREATE INDEX grants_client ON grants (client_id);
   CREATE INDEX grants_expires ON grants (expires_at);
   CREATE TABLE refresh_tokens (
     hash TEXT COLLATE "C" PRIMARY KEY,
     grant_id TEXT COLLATE "C" NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
     scope TEXT NOT NULL,
     issued_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL,
     consumed_at BIGINT
   );
   CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);
   CREATE TABLE revocations (
     id TEXT COLLATE "C" PRIMARY KEY,
     created_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL
   );
   CREATE INDEX revocations_created ON revocations (created_at);
   CREATE INDEX revocations_expires ON revocations (expires_at);
   CREATE TABLE signing_keys (
     kid TEXT COLLATE "C" PRIMARY KEY,
     alg TEXT NOT NULL,
     private_key TEXT NOT NULL,
     public_jwk TEXT NOT NULL,
     created_at BIGINT NOT NULL,
     activates_at BIGINT NOT NULL
   );`,
  // Signing keys ordered by a sequence (two rotations in one second no longer tie), private parts that can
  // be deleted once a key retires, and each running instance's publish delay (lib/keys/signing-keys.ts).
  `ALTER TABLE signing_keys ADD COLUMN seq BIGINT;
   UPDATE signing_keys k SET seq = o.n
     FROM (SELECT kid, ROW_NUMBER() OVER (ORDER BY activates_at, created_at, kid) AS n FROM signing_keys) o
     WHERE o.kid = k.kid;
   CREATE SEQUENCE signing_keys_seq OWNED BY signing_keys.seq;
   SELECT setval('signing_keys_seq', COALESCE((SELECT MAX(seq) FROM signing_keys), 0) + 1, false);
   ALTER TABLE signing_keys ALTER COLUMN seq SET DEFAULT nextval('signing_keys_seq'),
     ALTER COLUMN seq SET NOT NULL,
     ALTER COLUMN private_key DROP NOT NULL,
     ADD CONSTRAINT signing_keys_seq_unique UNIQUE (seq);
   CREATE TABLE key_instances (
     instance TEXT COLLATE "C" PRIMARY KEY,
     publish_delay INTEGER NOT NULL,
     seen_at BIGINT NOT NULL
   );`,
  // Admin changes reach issued tokens (issue 10): a user's credential version, bumped by a password change or
  // disabling, carried by their grants and access tokens; a client registration's generation (a random id
  // per registration, so a client re-created under an old id is another generation). NULL: registered before.
  `ALTER TABLE users ADD COLUMN credential_version INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE grants ADD COLUMN credential_version INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE clients ADD COLUMN generation TEXT COLLATE "C";`,
  // Browser flows: sessions (by the SHA-256 of the cookie's id), consents per user and client, and
  // authorization codes (by their SHA-256; single use through redeemed_at).
  `CREATE TABLE sessions (
     id_hash TEXT COLLATE "C" PRIMARY KEY,
     user_id TEXT COLLATE "C" NOT NULL,
     auth_time BIGINT NOT NULL,
     created_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL
   );
   CREATE INDEX sessions_user ON sessions (user_id);
   CREATE INDEX sessions_expires ON sessions (expires_at);
   CREATE TABLE consents (
     user_id TEXT COLLATE "C" NOT NULL,
     client_id TEXT COLLATE "C" NOT NULL,
     scope TEXT NOT NULL,
     created_at BIGINT NOT NULL,
     updated_at BIGINT NOT NULL,
     PRIMARY KEY (user_id, client_id)
   );
   CREATE TABLE authorization_codes (
     hash TEXT COLLATE "C" PRIMARY KEY,
     client_id TEXT COLLATE "C" NOT NULL,
     user_id TEXT COLLATE "C" NOT NULL,
     redirect_uri TEXT NOT NULL,
     code_challenge TEXT NOT NULL,
     nonce TEXT,
     scope TEXT NOT NULL,
     auth_time BIGINT NOT NULL,
     created_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL,
     redeemed_at BIGINT,
     issued JSONB
   );
   CREATE INDEX authorization_codes_expires ON authorization_codes (expires_at);
   ALTER TABLE clients ADD COLUMN post_logout_redirect_uris JSONB NOT NULL DEFAULT '[]'::jsonb,
     ADD COLUMN skip_consent BOOLEAN NOT NULL DEFAULT FALSE;`,
  // Upstream providers (issue 14): see the SQLite migration of the same number.
  `CREATE TABLE upstream_providers (
     name TEXT COLLATE "C" PRIMARY KEY,
     issuer TEXT NOT NULL,
     client_id TEXT NOT NULL,
     client_secret TEXT NOT NULL,
     scope TEXT NOT NULL,
     display_name TEXT NOT NULL,
     link_by_email BOOLEAN NOT NULL DEFAULT FALSE,
     create_users BOOLEAN NOT NULL DEFAULT TRUE,
     authorization_endpoint TEXT,
     token_endpoint TEXT,
     userinfo_endpoint TEXT,
     claims JSONB NOT NULL,
     created_at BIGINT NOT NULL,
     updated_at BIGINT NOT NULL
   );
   CREATE TABLE upstream_identities (
     provider TEXT COLLATE "C" NOT NULL,
     issuer TEXT COLLATE "C" NOT NULL,
     subject TEXT COLLATE "C" NOT NULL,
     user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
     email TEXT,
     linked_at BIGINT NOT NULL,
     PRIMARY KEY (provider, issuer, subject)
   );
   CREATE INDEX upstream_identities_user ON upstream_identities (user_id);
   CREATE TABLE upstream_transactions (
     id_hash TEXT COLLATE "C" PRIMARY KEY,
     binding_hash TEXT COLLATE "C" NOT NULL,
     provider TEXT COLLATE "C" NOT NULL,
     nonce TEXT NOT NULL,
     code_verifier TEXT NOT NULL,
     return_to TEXT,
     created_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL
   );
   CREATE INDEX upstream_transactions_expires ON upstream_transactions (expires_at);
   CREATE INDEX users_email ON users (lower(email));
   ALTER TABLE clients ADD COLUMN providers JSONB;`,
  // Bounded browser tables: each code names the session it was issued from (so issuing past a session's limit
  // ends its oldest unredeemed codes, lib/limits/table-bounds.ts), a sequence on codes and sessions (rows created
  // in the same second still have an oldest), indexes for ending a session's or a user's oldest rows, and one row
  // per housekeeping job (lib/ops/sweep.ts): the instance that claims it sweeps, the others skip that round.
  `ALTER TABLE authorization_codes ADD COLUMN session_hash TEXT COLLATE "C";
   ALTER TABLE authorization_codes ADD COLUMN seq BIGINT GENERATED BY DEFAULT AS IDENTITY;
   CREATE INDEX authorization_codes_session ON authorization_codes (session_hash, seq);
   ALTER TABLE sessions ADD COLUMN seq BIGINT GENERATED BY DEFAULT AS IDENTITY;
   CREATE INDEX sessions_user_seq ON sessions (user_id, seq);
   CREATE TABLE housekeeping (
     job TEXT COLLATE "C" PRIMARY KEY,
     ran_at BIGINT NOT NULL
   );`,
  // Browser sessions follow credential changes: see the SQLite migration of the same number.
  `ALTER TABLE sessions ADD COLUMN credential_version INTEGER NOT NULL DEFAULT 0,
     ADD COLUMN provider TEXT COLLATE "C",
     ADD COLUMN amr JSONB NOT NULL DEFAULT '[]'::jsonb;
   ALTER TABLE authorization_codes ADD COLUMN credential_version INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE user_tombstones (
     id TEXT COLLATE "C" PRIMARY KEY,
     credential_version INTEGER NOT NULL,
     deleted_at BIGINT NOT NULL
   );`,
  // Account pre-hijack through upstream linking: who created a user (`provider:<name>` for a user a provider's
  // first sign-in created, so an import never merges into it; users made so before this migration are found by
  // their unusable password and their first link), and a provider's permission to link by e-mail into an
  // account that already has another identity (off: such accounts are never linked by e-mail).
  `ALTER TABLE users ADD COLUMN created_by TEXT;
   UPDATE users SET created_by = 'provider:' || (SELECT provider FROM upstream_identities i WHERE i.user_id = users.id ORDER BY linked_at, provider LIMIT 1)
     WHERE password_hash = '!upstream' AND EXISTS (SELECT 1 FROM upstream_identities i WHERE i.user_id = users.id);
   ALTER TABLE upstream_providers ADD COLUMN link_linked_accounts BOOLEAN NOT NULL DEFAULT FALSE;`,
  // Client settings of a certified-grade OpenID Provider: see the SQLite migration of the same number.
  `ALTER TABLE clients ADD COLUMN pkce TEXT NOT NULL DEFAULT 'required' CHECK (pkce IN ('required', 'optional')),
     ADD COLUMN id_token_alg TEXT,
     ADD COLUMN userinfo_alg TEXT,
     ADD COLUMN backchannel_logout_uri TEXT;`,
  // OpenID Connect claims: a user's standard claims besides name and e-mail (JSON, lib/admin/user-claims.ts checks
  // them), and the names an authorization request asked for through `claims` (OIDC Core §5.5), kept with its code
  // and its grant (so a refreshed access token still carries them). NULL: no `claims` parameter.
  `ALTER TABLE users ADD COLUMN claims TEXT NOT NULL DEFAULT '{}';
   ALTER TABLE authorization_codes ADD COLUMN claims TEXT;
   ALTER TABLE grants ADD COLUMN claims TEXT;`,
  // Back-Channel Logout 1.0: see the SQLite migration of the same number.
  `ALTER TABLE sessions ADD COLUMN sid TEXT COLLATE "C";
   ALTER TABLE authorization_codes ADD COLUMN sid TEXT COLLATE "C";
   CREATE TABLE session_clients (
     session_hash TEXT COLLATE "C" NOT NULL,
     client_id TEXT COLLATE "C" NOT NULL,
     PRIMARY KEY (session_hash, client_id)
   );
   CREATE TABLE logout_outbox (
     id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
     client_id TEXT NOT NULL,
     uri TEXT NOT NULL,
     sub TEXT NOT NULL,
     sid TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_at BIGINT NOT NULL DEFAULT 0,
     lease_until BIGINT NOT NULL DEFAULT 0
   );
   CREATE INDEX logout_outbox_due ON logout_outbox (next_at);`,
  // The outbox: see the SQLite migration of the same number. JSONB payload.
  `CREATE TABLE outbox (
     id TEXT COLLATE "C" PRIMARY KEY,
     kind TEXT COLLATE "C" NOT NULL,
     payload JSONB NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at BIGINT NOT NULL,
     lease_until BIGINT,
     lease_owner TEXT,
     created_at BIGINT NOT NULL,
     last_error TEXT,
     finished_at BIGINT,
     outcome TEXT CHECK (outcome IN ('sent', 'failed'))
   );
   CREATE INDEX outbox_due ON outbox (kind, next_attempt_at) WHERE finished_at IS NULL;
   CREATE INDEX outbox_finished ON outbox (finished_at) WHERE finished_at IS NOT NULL;`,
  // Back-channel logout onto the outbox: see the SQLite migration of the same number. seq orders the messages
  // created in the same second (SQLite's rowid does there), for dropOldest.
  `ALTER TABLE outbox ADD COLUMN seq BIGINT GENERATED BY DEFAULT AS IDENTITY;
   INSERT INTO outbox (id, kind, payload, attempts, next_attempt_at, created_at)
     SELECT gen_random_uuid()::text, 'backchannel-logout', jsonb_build_object('clientId', client_id, 'uri', uri, 'sub', sub, 'sid', sid),
       attempts, next_at, extract(epoch from now())::bigint FROM logout_outbox ORDER BY id;
   DROP TABLE logout_outbox;`,
  // Single-use account links and users.email_verified: see the SQLite migration of the same number.
  `CREATE TABLE account_links (
     id TEXT COLLATE "C" PRIMARY KEY,
     token_hash TEXT COLLATE "C" NOT NULL UNIQUE,
     purpose TEXT COLLATE "C" NOT NULL CHECK (purpose IN ('verify_email', 'reset_password', 'invitation')),
     user_id TEXT COLLATE "C" REFERENCES users (id) ON DELETE CASCADE,
     email TEXT,
     scope TEXT,
     created_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL,
     used_at BIGINT
   );
   CREATE INDEX account_links_user ON account_links (user_id, purpose);
   CREATE INDEX account_links_expiry ON account_links (expires_at);
   ALTER TABLE users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;
   UPDATE users SET email_verified = TRUE WHERE (claims::jsonb)->>'email_verified' = 'true';
   UPDATE users SET claims = ((claims::jsonb) - 'email_verified')::text WHERE (claims::jsonb) ? 'email_verified';`,
  // Sign-up and e-mail change links, and what a link carries: see the SQLite migration of the same number.
  `ALTER TABLE account_links DROP CONSTRAINT account_links_purpose_check;
   ALTER TABLE account_links ADD CONSTRAINT account_links_purpose_check
     CHECK (purpose IN ('verify_email', 'reset_password', 'invitation', 'signup', 'change_email'));
   ALTER TABLE account_links ADD COLUMN data TEXT;
   CREATE INDEX account_links_email ON account_links (purpose, lower(email));`,
  // The account page names each session's device: the browser's User-Agent at sign-in, cut to 256 characters by
  // lib/browser/sessions.ts (NULL for sessions from before, and when none was sent).
  'ALTER TABLE sessions ADD COLUMN user_agent TEXT;',
  // Second factors and recovery codes: see the SQLite migration of the same number.
  `CREATE TABLE user_factors (
     id TEXT COLLATE "C" PRIMARY KEY,
     user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
     kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('totp', 'passkey')),
     name TEXT NOT NULL,
     secret TEXT,
     credential_id TEXT COLLATE "C" UNIQUE,
     public_key TEXT,
     counter BIGINT NOT NULL DEFAULT 0,
     data JSONB,
     last_step BIGINT,
     created_at BIGINT NOT NULL,
     confirmed_at BIGINT,
     last_used_at BIGINT
   );
   CREATE INDEX user_factors_user ON user_factors (user_id);
   CREATE INDEX user_factors_unconfirmed ON user_factors (created_at) WHERE confirmed_at IS NULL;
   CREATE TABLE recovery_codes (
     user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
     digest TEXT COLLATE "C" NOT NULL,
     created_at BIGINT NOT NULL,
     used_at BIGINT,
     PRIMARY KEY (user_id, digest)
   );`,
  // Passkey challenges: see the SQLite migration of the same number.
  `CREATE TABLE passkey_challenges (
     id_hash TEXT COLLATE "C" PRIMARY KEY,
     binding_hash TEXT COLLATE "C" NOT NULL,
     ceremony TEXT COLLATE "C" NOT NULL CHECK (ceremony IN ('register', 'signin', 'second-factor')),
     user_id TEXT COLLATE "C" REFERENCES users (id) ON DELETE CASCADE,
     created_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL
   );
   CREATE INDEX passkey_challenges_expiry ON passkey_challenges (expires_at);`,
  // Per-client second-factor policy: see the SQLite migration of the same number.
  `ALTER TABLE clients ADD COLUMN require_mfa BOOLEAN NOT NULL DEFAULT FALSE;
   ALTER TABLE clients ADD COLUMN password_grant_skips_mfa BOOLEAN NOT NULL DEFAULT FALSE;`,
  // A code keeps its session's amr: see the SQLite migration of the same number.
  "ALTER TABLE authorization_codes ADD COLUMN amr JSONB NOT NULL DEFAULT '[]'::jsonb;",
  // Resource indicators (RFC 8707): see the SQLite migration of the same number.
  `CREATE TABLE resources (
     uri TEXT COLLATE "C" PRIMARY KEY,
     name TEXT,
     scope TEXT NOT NULL DEFAULT '',
     created_at BIGINT NOT NULL
   );
   ALTER TABLE authorization_codes ADD COLUMN resources TEXT NOT NULL DEFAULT '';
   ALTER TABLE grants ADD COLUMN resources TEXT NOT NULL DEFAULT '';`,
  // Dynamic client registration (RFC 7591/7592, docs/registration.md): a registered client's own metadata, its
  // registration access token's digest, who registered it and its first use (unused open registrations expire:
  // lib/ops/sweep.ts); and the initial access tokens of REGISTRATION=token, by digest only.
  `ALTER TABLE clients ADD COLUMN registration TEXT CHECK (registration IN ('open', 'token')),
     ADD COLUMN client_name TEXT,
     ADD COLUMN client_uri TEXT,
     ADD COLUMN logo_uri TEXT,
     ADD COLUMN registration_metadata JSONB NOT NULL DEFAULT '{}'::jsonb,
     ADD COLUMN registration_token_hash TEXT,
     ADD COLUMN registered_by TEXT,
     ADD COLUMN first_used_at BIGINT;
   CREATE INDEX clients_unused_registrations ON clients (created_at) WHERE registration = 'open' AND first_used_at IS NULL;
   CREATE TABLE registration_tokens (
     id TEXT COLLATE "C" PRIMARY KEY,
     digest TEXT COLLATE "C" NOT NULL UNIQUE,
     expires_at BIGINT,
     max_uses INTEGER,
     uses INTEGER NOT NULL DEFAULT 0,
     created_at BIGINT NOT NULL
   );`,
  // Device authorization grant: see the SQLite migration of the same number.
  `CREATE TABLE device_codes (
     hash TEXT COLLATE "C" PRIMARY KEY,
     user_code TEXT COLLATE "C" NOT NULL UNIQUE,
     client_id TEXT COLLATE "C" NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
     scope TEXT NOT NULL,
     resources JSONB NOT NULL DEFAULT '[]'::jsonb,
     status TEXT COLLATE "C" NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'used')),
     user_id TEXT COLLATE "C" REFERENCES users (id) ON DELETE CASCADE,
     granted_scope TEXT,
     auth_time BIGINT,
     amr JSONB,
     sid TEXT,
     credential_version INTEGER,
     poll_interval INTEGER NOT NULL,
     last_poll_at BIGINT,
     created_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL
   );
   CREATE INDEX device_codes_expiry ON device_codes (expires_at);`,
  // Token exchange (RFC 8693): see the SQLite migration of the same number.
  `ALTER TABLE clients ADD COLUMN exchange_sources JSONB NOT NULL DEFAULT '[]';
   ALTER TABLE clients ADD COLUMN exchange_targets JSONB NOT NULL DEFAULT '[]';`,
  // Client ID Metadata Documents: see the SQLite migration of the same number.
  `ALTER TABLE clients ADD COLUMN metadata_document BOOLEAN NOT NULL DEFAULT false;
   CREATE INDEX clients_unused_documents ON clients (created_at) WHERE metadata_document AND first_used_at IS NULL;`,
  // Pushed authorization requests (RFC 9126): see the SQLite migration of the same number.
  `CREATE TABLE pushed_requests (
     hash TEXT COLLATE "C" PRIMARY KEY,
     client_id TEXT COLLATE "C" NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
     parameters JSONB NOT NULL,
     state TEXT COLLATE "C" NOT NULL CHECK (state IN ('unused', 'started', 'used')),
     created_at BIGINT NOT NULL,
     started_at BIGINT,
     expires_at BIGINT NOT NULL
   );
   CREATE INDEX pushed_requests_expiry ON pushed_requests (expires_at);
   ALTER TABLE clients ADD COLUMN require_par BOOLEAN NOT NULL DEFAULT FALSE;`,
  // DPoP (RFC 9449, docs/dpop.md): a client that must send proofs (§5.2 dpop_bound_access_tokens); the key a public
  // client's refresh family is bound to (§5); the key an authorization code is bound to by `dpop_jkt` (§10).
  `ALTER TABLE clients ADD COLUMN dpop_bound_access_tokens BOOLEAN NOT NULL DEFAULT false;
   ALTER TABLE grants ADD COLUMN dpop_jkt TEXT;
   ALTER TABLE authorization_codes ADD COLUMN dpop_jkt TEXT;`,
  // Client keys and client assertions' jti: see the SQLite migration of the same number.
  `ALTER TABLE clients ADD COLUMN jwks JSONB;
   ALTER TABLE clients ADD COLUMN jwks_uri TEXT;
   ALTER TABLE clients ADD COLUMN token_endpoint_auth_method TEXT;
   CREATE TABLE client_assertion_jtis (
     client_id TEXT NOT NULL,
     jti TEXT NOT NULL,
     expires_at BIGINT NOT NULL,
     PRIMARY KEY (client_id, jti)
   );
   CREATE INDEX client_assertion_jtis_expiry ON client_assertion_jtis (expires_at);`,
  // Recent security events: see the SQLite migration of the same number. "user" is a reserved word here: quoted.
  `CREATE TABLE security_events (
     id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     at BIGINT NOT NULL,
     type TEXT COLLATE "C" NOT NULL,
     "user" TEXT COLLATE "C",
     client_id TEXT COLLATE "C",
     actor TEXT,
     target TEXT,
     ip TEXT,
     details JSONB NOT NULL
   );
   CREATE INDEX security_events_at ON security_events (at);
   CREATE INDEX security_events_type ON security_events (type, id);
   CREATE INDEX security_events_user ON security_events ("user", id);
   CREATE INDEX security_events_client ON security_events (client_id, id);
   CREATE INDEX security_events_target ON security_events (target, id);`
]

/**
 * One fixed key for pg_advisory_xact_lock, shared by every Gatehouse instance on the database
 * (it is per database, not per schema: instances on other schemas merely wait their turn).
 */
const MIGRATION_LOCK = '7160328412000570421'
/** Migrations may legitimately outlast the pool's per-statement limits, and so may waiting for the lock. */
const MIGRATION_TIMEOUT_MS = 120_000

/**
 * Applies pending migrations in one transaction holding the advisory lock, so instances starting
 * together apply each migration exactly once: the others wait, then find nothing left to do.
 */
/** Which migrations a schema has had (created before the first one runs). */
export const SCHEMA_MIGRATIONS_TABLE = 'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)'

export async function migrate (db: Db): Promise<void> {
  await db.transaction(async (tx) => {
    // query_timeout is a client-side per-query option node-postgres honours but @types/pg does not declare.
    const slow = (text: string, values?: unknown[]) => tx.query({ text, values, query_timeout: MIGRATION_TIMEOUT_MS } as pg.QueryConfig)
    await slow(`SET LOCAL statement_timeout = ${MIGRATION_TIMEOUT_MS}`)
    await slow('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK])
    await slow(SCHEMA_MIGRATIONS_TABLE)
    const { rows } = await slow('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations')
    for (const [index, migration] of postgresMigrations.entries()) {
      const version = index + 1
      if (version <= Number(rows[0]?.v ?? 0)) continue
      await slow(migration)
      await slow('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, extract(epoch from now())::bigint)', [version])
    }
  })
}

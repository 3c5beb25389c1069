/**
 * SQLite schema, as an append-only list: a released migration is never edited, only followed by a new one.
 * Times are unix seconds; lists (grant types, redirect URIs) are JSON text.
 */
export const sqliteMigrations: string[] = [
  `CREATE TABLE users (
     id TEXT PRIMARY KEY,
     username TEXT NOT NULL UNIQUE,
     full_name TEXT,
     email TEXT,
     disabled INTEGER NOT NULL DEFAULT 0,
     scope TEXT NOT NULL DEFAULT '',
     password_hash TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE clients (
     id TEXT PRIMARY KEY,
     secret_hash TEXT,
     is_public INTEGER NOT NULL,
     grant_types TEXT NOT NULL,
     scope TEXT,
     redirect_uris TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE grants (
     id TEXT PRIMARY KEY,
     client_id TEXT NOT NULL,
     user_id TEXT NOT NULL,
     scope TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     revoked_at INTEGER
   );
   CREATE INDEX grants_user ON grants (user_id);
   CREATE INDEX grants_client ON grants (client_id);
   CREATE TABLE refresh_tokens (
     hash TEXT PRIMARY KEY,
     grant_id TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
     scope TEXT NOT NULL,
     issued_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     consumed_at INTEGER
   );
   CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);
   CREATE TABLE revocations (
     id TEXT PRIMARY KEY,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX revocations_created ON revocations (created_at);
   CREATE INDEX revocations_expires ON revocations (expires_at);
   CREATE TABLE signing_keys (
     kid TEXT PRIMARY KEY,
     alg TEXT NOT NULL,
     private_key TEXT NOT NULL,
     public_jwk TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     activates_at INTEGER NOT NULL
   );`,
  // Signing keys ordered by a sequence (two rotations in one second no longer tie), private parts that can
  // be deleted once a key retires, and each running instance's publish delay (lib/keys/signing-keys.ts).
  `CREATE TABLE signing_keys_next (
     kid TEXT PRIMARY KEY,
     seq INTEGER NOT NULL UNIQUE,
     alg TEXT NOT NULL,
     private_key TEXT,
     public_jwk TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     activates_at INTEGER NOT NULL
   );
   INSERT INTO signing_keys_next (kid, seq, alg, private_key, public_jwk, created_at, activates_at)
     SELECT kid, ROW_NUMBER() OVER (ORDER BY activates_at, created_at, kid), alg, private_key, public_jwk, created_at, activates_at
     FROM signing_keys;
   DROP TABLE signing_keys;
   ALTER TABLE signing_keys_next RENAME TO signing_keys;
   CREATE TABLE key_instances (
     instance TEXT PRIMARY KEY,
     publish_delay INTEGER NOT NULL,
     seen_at INTEGER NOT NULL
   );`,
  // Admin changes reach issued tokens (issue 10): a user's credential version, bumped by a password change or
  // disabling, carried by their grants and access tokens; a client registration's generation (a random id
  // per registration, so a client re-created under an old id is another generation). NULL: registered before.
  `ALTER TABLE users ADD COLUMN credential_version INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE grants ADD COLUMN credential_version INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE clients ADD COLUMN generation TEXT;`,
  // Browser flows: sessions (by the SHA-256 of the cookie's id), consents per user and client, and
  // authorization codes (by their SHA-256; single use through redeemed_at).
  `CREATE TABLE sessions (
     id_hash TEXT PRIMARY KEY,
     user_id TEXT NOT NULL,
     auth_time INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX sessions_user ON sessions (user_id);
   CREATE INDEX sessions_expires ON sessions (expires_at);
   CREATE TABLE consents (
     user_id TEXT NOT NULL,
     client_id TEXT NOT NULL,
     scope TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (user_id, client_id)
   );
   CREATE TABLE authorization_codes (
     hash TEXT PRIMARY KEY,
     client_id TEXT NOT NULL,
     user_id TEXT NOT NULL,
     redirect_uri TEXT NOT NULL,
     code_challenge TEXT NOT NULL,
     nonce TEXT,
     scope TEXT NOT NULL,
     auth_time INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     redeemed_at INTEGER,
     issued TEXT
   );
   CREATE INDEX authorization_codes_expires ON authorization_codes (expires_at);
   ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]';
   ALTER TABLE clients ADD COLUMN skip_consent INTEGER NOT NULL DEFAULT 0;`,
  // Upstream providers (issue 14): the providers (their client secret is needed in clear to call them; no API
  // ever shows it), the identities linking (provider, issuer, subject) to a local user, the pending sign-ins
  // (by the SHA-256 of their state; bound to a browser by the SHA-256 of a cookie), and the providers a
  // client offers (JSON list; NULL: every provider and the password form).
  `CREATE TABLE upstream_providers (
     name TEXT PRIMARY KEY,
     issuer TEXT NOT NULL,
     client_id TEXT NOT NULL,
     client_secret TEXT NOT NULL,
     scope TEXT NOT NULL,
     display_name TEXT NOT NULL,
     link_by_email INTEGER NOT NULL DEFAULT 0,
     create_users INTEGER NOT NULL DEFAULT 1,
     authorization_endpoint TEXT,
     token_endpoint TEXT,
     userinfo_endpoint TEXT,
     claims TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE upstream_identities (
     provider TEXT NOT NULL,
     issuer TEXT NOT NULL,
     subject TEXT NOT NULL,
     user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
     email TEXT,
     linked_at INTEGER NOT NULL,
     PRIMARY KEY (provider, issuer, subject)
   );
   CREATE INDEX upstream_identities_user ON upstream_identities (user_id);
   CREATE TABLE upstream_transactions (
     id_hash TEXT PRIMARY KEY,
     binding_hash TEXT NOT NULL,
     provider TEXT NOT NULL,
     nonce TEXT NOT NULL,
     code_verifier TEXT NOT NULL,
     return_to TEXT,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX upstream_transactions_expires ON upstream_transactions (expires_at);
   CREATE INDEX users_email ON users (lower(email));
   ALTER TABLE clients ADD COLUMN providers TEXT;`,
  // Bounded browser tables: each code names the session it was issued from (so issuing past a session's limit
  // ends its oldest unredeemed codes, lib/limits/table-bounds.ts), indexes for ending a session's or a user's
  // oldest rows (their rowid orders rows created in the same second), the expiry index PostgreSQL's grants had
  // (the sweep deletes by it), and one row per housekeeping job (lib/ops/sweep.ts): the instance that claims it
  // sweeps, the others skip that round.
  `ALTER TABLE authorization_codes ADD COLUMN session_hash TEXT;
   CREATE INDEX authorization_codes_session ON authorization_codes (session_hash, created_at);
   CREATE INDEX sessions_user_created ON sessions (user_id, created_at);
   CREATE INDEX IF NOT EXISTS grants_expires ON grants (expires_at);
   CREATE TABLE housekeeping (
     job TEXT PRIMARY KEY,
     ran_at INTEGER NOT NULL
   );`,
  // Browser sessions follow credential changes: a session and a code carry the user's credential
  // version they were made under (a session is refused once it is older than the user's; DEFAULT 0 keeps only the
  // sessions of users never changed, which cannot be stale), a session says how it was authenticated (provider:
  // NULL for the password form, else the provider's name; amr: JSON list, RFC 8176), and a deleted user leaves a
  // tombstone (its sub and last credential version), so a user re-created under that sub (an import of an
  // export) starts above it and the old user's tokens stay dead.
  `ALTER TABLE sessions ADD COLUMN credential_version INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE sessions ADD COLUMN provider TEXT;
   ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '[]';
   ALTER TABLE authorization_codes ADD COLUMN credential_version INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE user_tombstones (
     id TEXT PRIMARY KEY,
     credential_version INTEGER NOT NULL,
     deleted_at INTEGER NOT NULL
   );`,
  // Account pre-hijack through upstream linking: who created a user (`provider:<name>` for a user a provider's
  // first sign-in created, so an import never merges into it; users made so before this migration are found by
  // their unusable password and their first link), and a provider's permission to link by e-mail into an
  // account that already has another identity (off: such accounts are never linked by e-mail).
  `ALTER TABLE users ADD COLUMN created_by TEXT;
   UPDATE users SET created_by = 'provider:' || (SELECT provider FROM upstream_identities i WHERE i.user_id = users.id ORDER BY linked_at, provider LIMIT 1)
     WHERE password_hash = '!upstream' AND EXISTS (SELECT 1 FROM upstream_identities i WHERE i.user_id = users.id);
   ALTER TABLE upstream_providers ADD COLUMN link_linked_accounts INTEGER NOT NULL DEFAULT 0;`,
  // Client settings of a certified-grade OpenID Provider: PKCE per client ('required' or 'optional'; public clients
  // are always required, whatever the column says), the ID token and userinfo signing algorithms (NULL: the
  // server's default; userinfo NULL: plain JSON), and the Back-Channel Logout 1.0 endpoint.
  `ALTER TABLE clients ADD COLUMN pkce TEXT NOT NULL DEFAULT 'required' CHECK (pkce IN ('required', 'optional'));
   ALTER TABLE clients ADD COLUMN id_token_alg TEXT;
   ALTER TABLE clients ADD COLUMN userinfo_alg TEXT;
   ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT;`,
  // OpenID Connect claims: a user's standard claims besides name and e-mail (JSON, lib/admin/user-claims.ts checks
  // them), and the names an authorization request asked for through `claims` (OIDC Core §5.5), kept with its code
  // and its grant (so a refreshed access token still carries them). NULL: no `claims` parameter.
  `ALTER TABLE users ADD COLUMN claims TEXT NOT NULL DEFAULT '{}';
   ALTER TABLE authorization_codes ADD COLUMN claims TEXT;
   ALTER TABLE grants ADD COLUMN claims TEXT;`,
  // Back-Channel Logout 1.0: a session's `sid` (random, neither the cookie nor its digest; NULL for sessions from
  // before), carried by its codes into ID tokens; which clients a session issued codes to (session_clients, bounded
  // per session: lib/limits/table-bounds.ts); and the logout tokens still to deliver (logout_outbox), written in
  // the same transaction as the session's delete so a crash cannot lose one. lease_until: a sender's claim.
  `ALTER TABLE sessions ADD COLUMN sid TEXT;
   ALTER TABLE authorization_codes ADD COLUMN sid TEXT;
   CREATE TABLE session_clients (
     session_hash TEXT NOT NULL,
     client_id TEXT NOT NULL,
     PRIMARY KEY (session_hash, client_id)
   );
   CREATE TABLE logout_outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     client_id TEXT NOT NULL,
     uri TEXT NOT NULL,
     sub TEXT NOT NULL,
     sid TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_at INTEGER NOT NULL DEFAULT 0,
     lease_until INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX logout_outbox_due ON logout_outbox (next_at);`,
  // The outbox (lib/ops/outbox.ts): work done outside a request, at least once, by whichever instance claims it
  // (a lease: lease_owner until lease_until). finished_at/outcome are set once it was sent or given up; the payload
  // is emptied then (a mail carries a single-use link) and the sweep deletes the row later. Partial indexes: the
  // claim and the cap read the unfinished rows only, the sweep the finished ones.
  `CREATE TABLE outbox (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     payload TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at INTEGER NOT NULL,
     lease_until INTEGER,
     lease_owner TEXT,
     created_at INTEGER NOT NULL,
     last_error TEXT,
     finished_at INTEGER,
     outcome TEXT CHECK (outcome IN ('sent', 'failed'))
   );
   CREATE INDEX outbox_due ON outbox (kind, next_attempt_at) WHERE finished_at IS NULL;
   CREATE INDEX outbox_finished ON outbox (finished_at) WHERE finished_at IS NOT NULL;`,
  // Back-channel logout messages move onto the outbox (kind 'backchannel-logout', lib/stores/types.ts
  // BACKCHANNEL_LOGOUT_KIND): the waiting ones are carried over (their failed attempts kept, due when they were;
  // a lease is not: a message being sent right now may go twice, which §2.5 allows a client to see), then
  // logout_outbox goes.
  `INSERT INTO outbox (id, kind, payload, attempts, next_attempt_at, created_at)
     SELECT lower(hex(randomblob(16))), 'backchannel-logout', json_object('clientId', client_id, 'uri', uri, 'sub', sub, 'sid', sid),
       attempts, next_at, CAST(strftime('%s', 'now') AS INTEGER) FROM logout_outbox ORDER BY id;
   DROP TABLE logout_outbox;`,
  // Single-use account links (lib/accounts/links.ts): verification, reset and invitation links, stored only as the
  // SHA-256 of their token; used_at is set by one atomic update (two clicks: one wins). And email_verified as a
  // column, the one source of truth for the claim (it was inside users.claims, set by an administrator or an
  // import): moved out of the JSON here so the two can never disagree.
  `CREATE TABLE account_links (
     id TEXT PRIMARY KEY,
     token_hash TEXT NOT NULL UNIQUE,
     purpose TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password', 'invitation')),
     user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
     email TEXT,
     scope TEXT,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     used_at INTEGER
   );
   CREATE INDEX account_links_user ON account_links (user_id, purpose);
   CREATE INDEX account_links_expiry ON account_links (expires_at);
   ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;
   UPDATE users SET email_verified = 1 WHERE json_extract(claims, '$.email_verified') = 1;
   UPDATE users SET claims = json_remove(claims, '$.email_verified') WHERE json_type(claims, '$.email_verified') IS NOT NULL;`,
  // Two more kinds of account link: a sign-up waiting for its address to be proven (the account is made when the
  // link is followed: SECURITY-CASES U1) and an e-mail change (the new address replaces the old one only then: U6);
  // `data` holds what such a link carries (JSON: a sign-up's username and password hash). SQLite cannot change a
  // CHECK in place: the table is rebuilt, its rows kept.
  `CREATE TABLE account_links_next (
     id TEXT PRIMARY KEY,
     token_hash TEXT NOT NULL UNIQUE,
     purpose TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password', 'invitation', 'signup', 'change_email')),
     user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
     email TEXT,
     scope TEXT,
     data TEXT,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     used_at INTEGER
   );
   INSERT INTO account_links_next (id, token_hash, purpose, user_id, email, scope, created_at, expires_at, used_at)
     SELECT id, token_hash, purpose, user_id, email, scope, created_at, expires_at, used_at FROM account_links;
   DROP TABLE account_links;
   ALTER TABLE account_links_next RENAME TO account_links;
   CREATE INDEX account_links_user ON account_links (user_id, purpose);
   CREATE INDEX account_links_expiry ON account_links (expires_at);
   CREATE INDEX account_links_email ON account_links (purpose, lower(email));`,
  // The account page names each session's device: the browser's User-Agent at sign-in, cut to 256 characters by
  // lib/browser/sessions.ts (NULL for sessions from before, and when none was sent).
  'ALTER TABLE sessions ADD COLUMN user_agent TEXT;',
  // Second factors (lib/stores/types.ts UserFactor, docs/second-factors.md): TOTP apps with their secret sealed by
  // SECRETS_KEY and the last accepted time step, passkeys with their credential (its id unique across users); and
  // recovery codes, stored only as digests, each used once.
  `CREATE TABLE user_factors (
     id TEXT PRIMARY KEY,
     user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
     kind TEXT NOT NULL CHECK (kind IN ('totp', 'passkey')),
     name TEXT NOT NULL,
     secret TEXT,
     credential_id TEXT UNIQUE,
     public_key TEXT,
     counter INTEGER NOT NULL DEFAULT 0,
     data TEXT,
     last_step INTEGER,
     created_at INTEGER NOT NULL,
     confirmed_at INTEGER,
     last_used_at INTEGER
   );
   CREATE INDEX user_factors_user ON user_factors (user_id);
   CREATE INDEX user_factors_unconfirmed ON user_factors (created_at) WHERE confirmed_at IS NULL;
   CREATE TABLE recovery_codes (
     user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
     digest TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     used_at INTEGER,
     PRIMARY KEY (user_id, digest)
   );`,
  // Passkey challenges (lib/stores/types.ts PasskeyChallenge, lib/mfa/passkeys.ts): each WebAuthn challenge handed to a
  // browser, by its digest, until it is answered once or expires (minutes); bounded per address by the rate of
  // ceremonies (lib/mfa/webauthn.ts) and swept by lib/ops/sweep.ts.
  `CREATE TABLE passkey_challenges (
     id_hash TEXT PRIMARY KEY,
     binding_hash TEXT NOT NULL,
     ceremony TEXT NOT NULL CHECK (ceremony IN ('register', 'signin', 'second-factor')),
     user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX passkey_challenges_expiry ON passkey_challenges (expires_at);`,
  // Per-client second-factor policy (docs/second-factors.md "Requiring a second factor"): its users must have used
  // one in the browser; the password grant may skip it for this client (legacy).
  `ALTER TABLE clients ADD COLUMN require_mfa INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE clients ADD COLUMN password_grant_skips_mfa INTEGER NOT NULL DEFAULT 0;`,
  // A code keeps its session's amr (JSON list, RFC 8176) as it was at issue, for the ID token's amr and acr; codes
  // from before read [] (one factor).
  "ALTER TABLE authorization_codes ADD COLUMN amr TEXT NOT NULL DEFAULT '[]';",
  // Resource indicators (RFC 8707, docs/resources.md): the registered resources (APIs, MCP servers) tokens may be
  // issued for; the resources a code and a refresh family were granted (space-separated URIs, '' for none).
  `CREATE TABLE resources (
     uri TEXT PRIMARY KEY,
     name TEXT,
     scope TEXT NOT NULL DEFAULT '',
     created_at INTEGER NOT NULL
   );
   ALTER TABLE authorization_codes ADD COLUMN resources TEXT NOT NULL DEFAULT '';
   ALTER TABLE grants ADD COLUMN resources TEXT NOT NULL DEFAULT '';`,
  // Dynamic client registration (RFC 7591/7592, docs/registration.md): a registered client's own metadata, its
  // registration access token's digest, who registered it and its first use (unused open registrations expire:
  // lib/ops/sweep.ts); and the initial access tokens of REGISTRATION=token, by digest only.
  `ALTER TABLE clients ADD COLUMN registration TEXT CHECK (registration IN ('open', 'token'));
   ALTER TABLE clients ADD COLUMN client_name TEXT;
   ALTER TABLE clients ADD COLUMN client_uri TEXT;
   ALTER TABLE clients ADD COLUMN logo_uri TEXT;
   ALTER TABLE clients ADD COLUMN registration_metadata TEXT NOT NULL DEFAULT '{}';
   ALTER TABLE clients ADD COLUMN registration_token_hash TEXT;
   ALTER TABLE clients ADD COLUMN registered_by TEXT;
   ALTER TABLE clients ADD COLUMN first_used_at INTEGER;
   CREATE INDEX clients_unused_registrations ON clients (created_at) WHERE registration = 'open' AND first_used_at IS NULL;
   CREATE TABLE registration_tokens (
     id TEXT PRIMARY KEY,
     digest TEXT NOT NULL UNIQUE,
     expires_at INTEGER,
     max_uses INTEGER,
     uses INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL
   );`,
  // Device authorization grant (RFC 8628, lib/oauth/device-codes.ts): one row per /device_authorization, by the
  // digest of its device code, its user code unique (normalised); what the approval carries to issue the tokens;
  // live 10 minutes, then swept (lib/ops/sweep.ts); bounded per address by the rate of requests.
  `CREATE TABLE device_codes (
     hash TEXT PRIMARY KEY,
     user_code TEXT NOT NULL UNIQUE,
     client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
     scope TEXT NOT NULL,
     resources TEXT NOT NULL DEFAULT '[]',
     status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'used')),
     user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
     granted_scope TEXT,
     auth_time INTEGER,
     amr TEXT,
     sid TEXT,
     credential_version INTEGER,
     poll_interval INTEGER NOT NULL,
     last_poll_at INTEGER,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX device_codes_expiry ON device_codes (expires_at);`,
  // Token exchange (RFC 8693, lib/oauth/token-exchange.ts): per client, the resources whose tokens it may exchange
  // (exchange_sources: it acts for them) and those it may exchange to (exchange_targets); JSON lists, empty by default.
  `ALTER TABLE clients ADD COLUMN exchange_sources TEXT NOT NULL DEFAULT '[]';
   ALTER TABLE clients ADD COLUMN exchange_targets TEXT NOT NULL DEFAULT '[]';`,
  // Client ID Metadata Documents (docs/client-metadata-documents.md): a client whose id is an https URL, built from
  // the document found there, is stored as a row (grants, consents and bearer checks name it) marked by this flag
  // (the registration column's CHECK cannot be widened in place); never used, it is swept as unused registrations are.
  `ALTER TABLE clients ADD COLUMN metadata_document INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX clients_unused_documents ON clients (created_at) WHERE metadata_document = 1 AND first_used_at IS NULL;`,
  // Pushed authorization requests (RFC 9126, lib/oauth/pushed-requests.ts): one row per POST /par, by the digest of its
  // request_uri; the parameters as pushed (JSON); 60 s to be presented at /authorize, then the sign-in's lifetime;
  // unused → started → used; swept once expired (lib/ops/sweep.ts); bounded per client and per address by the rate of pushes.
  // And the client's require_par: its /authorize requests must come through /par (RFC 9126 §5).
  `CREATE TABLE pushed_requests (
     hash TEXT PRIMARY KEY,
     client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
     parameters TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('unused', 'started', 'used')),
     created_at INTEGER NOT NULL,
     started_at INTEGER,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX pushed_requests_expiry ON pushed_requests (expires_at);
   ALTER TABLE clients ADD COLUMN require_par INTEGER NOT NULL DEFAULT 0;`,
  // DPoP (RFC 9449, docs/dpop.md): a client that must send proofs (§5.2 dpop_bound_access_tokens); the key a public
  // client's refresh family is bound to (§5); the key an authorization code is bound to by `dpop_jkt` (§10).
  `ALTER TABLE clients ADD COLUMN dpop_bound_access_tokens INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE grants ADD COLUMN dpop_jkt TEXT;
   ALTER TABLE authorization_codes ADD COLUMN dpop_jkt TEXT;`,
  // Client keys (RFC 7523 private_key_jwt, RFC 9101 request objects; docs/client-authentication.md): a client's JWK Set
  // inline (JSON) or its jwks_uri, and the one token endpoint auth method it may use (null: as before). The jti of every
  // accepted client assertion, single use until its exp (lib/oauth/client-assertion.ts), swept when expired.
  `ALTER TABLE clients ADD COLUMN jwks TEXT;
   ALTER TABLE clients ADD COLUMN jwks_uri TEXT;
   ALTER TABLE clients ADD COLUMN token_endpoint_auth_method TEXT;
   CREATE TABLE client_assertion_jtis (
     client_id TEXT NOT NULL,
     jti TEXT NOT NULL,
     expires_at INTEGER NOT NULL,
     PRIMARY KEY (client_id, jti)
   );
   CREATE INDEX client_assertion_jtis_expiry ON client_assertion_jtis (expires_at);`,
  // Recent security events (plugins/events.ts, docs/operating.md): written in batches off the request path, listed newest
  // first by id (the paging cursor) and filtered by type, user (an id, or a username's digest), client; bounded by the sweep
  // (30 days, at most so many rows). The filters' indexes end in id, the order the list reads them in; (at) serves the purge. `details`: the event's other fields as JSON, never a secret.
  `CREATE TABLE security_events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     at INTEGER NOT NULL,
     type TEXT NOT NULL,
     user TEXT,
     client_id TEXT,
     actor TEXT,
     target TEXT,
     ip TEXT,
     details TEXT NOT NULL
   );
   CREATE INDEX security_events_at ON security_events (at);
   CREATE INDEX security_events_type ON security_events (type, id);
   CREATE INDEX security_events_user ON security_events (user, id);
   CREATE INDEX security_events_client ON security_events (client_id, id);
   CREATE INDEX security_events_target ON security_events (target, id);`
]

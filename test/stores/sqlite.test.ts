import t from 'tap'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { openSqlite } from '../../lib/stores/sqlite/index.js'
import { sqliteMigrations } from '../../lib/stores/sqlite/migrations.js'
import { BACKCHANNEL_LOGOUT_KIND } from '../../lib/stores/types.js'
import { checkKeysAfterMigration2, storeSuite } from './suite.js'

/**
 * Writes `file` as a database stood just before the migration whose text contains `marker` (every earlier one
 * applied and recorded), with `seed` run on it: opening it then runs that migration on the seeded rows.
 */
function databaseBefore (file: string, marker: string, seed: string): void {
  const index = sqliteMigrations.findIndex((m) => m.includes(marker))
  if (index < 0) throw new Error(`no migration contains ${marker}`)
  const before = sqliteMigrations.slice(0, index)
  const db = new Database(file)
  for (const migration of before) db.exec(migration)
  db.exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
    ${before.map((_, i) => `INSERT INTO schema_migrations VALUES (${i + 1}, 0);`).join('\n')}
    ${seed}`)
  db.close()
}

// Real files in a temp dir, one database per subtest.
let n = 0
storeSuite(t, async () => openSqlite(`sqlite:${join(t.testdirName, `store-${n++}.db`)}`))
t.before(() => { t.testdir({}) })

t.test('migration 2: keys from before it get sequence numbers in activation order, and can lose their private part', async (t) => {
  const file = join(t.testdir({}), 'before-migration-2.db')
  const db = new Database(file)
  db.exec(sqliteMigrations[0]!)
  db.exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
    INSERT INTO schema_migrations VALUES (1, 0);
    INSERT INTO signing_keys VALUES ('kb', 'ES256', 'pem-b', '{}', 100, 200), ('ka', 'ES256', 'pem-a', '{}', 100, 100), ('kc', 'ES256', 'pem-c', '{}', 150, 200)`)
  db.close()
  const s = await openSqlite(`sqlite:${file}`)
  t.teardown(() => s.close())
  await checkKeysAfterMigration2(t, s)
})

t.test('22.6: the migration that marks provider-created users marks those made before it by their first link', async (t) => {
  const file = join(t.testdir({}), 'before-created-by.db')
  databaseBefore(file, 'ADD COLUMN created_by', `INSERT INTO users (id, username, password_hash, created_at, updated_at) VALUES
      ('u-vera', 'vera', '!upstream', 1, 1), ('u-alice', 'alice', 'h', 1, 1), ('u-moved', 'moved', '!upstream', 1, 1);
    INSERT INTO upstream_identities (provider, issuer, subject, user_id, email, linked_at) VALUES
      ('later', 'https://l.example', 's2', 'u-vera', NULL, 20), ('corp', 'https://c.example', 's1', 'u-vera', NULL, 10),
      ('corp', 'https://c.example', 's3', 'u-alice', NULL, 10);
    INSERT INTO upstream_providers (name, issuer, client_id, client_secret, scope, display_name, claims, created_at, updated_at)
      VALUES ('corp', 'https://c.example', 'c', 's', 'openid', 'Corp', '{}', 1, 1);`)
  const s = await openSqlite(`sqlite:${file}`)
  t.teardown(() => s.close())
  t.equal((await s.users.findByUsername('vera'))?.createdBy, 'provider:corp', 'an unusable password and links: the provider of the first link')
  t.equal((await s.users.findByUsername('alice'))?.createdBy, null, 'a password user linked later: not provider-created')
  t.equal((await s.users.findByUsername('moved'))?.createdBy, null, 'no link (an export imported elsewhere): not marked')
  t.equal((await s.providers.find('corp'))?.linkLinkedAccounts, false, 'providers: link_linked_accounts off')
})

t.test('the account-links migration moves email_verified out of users.claims into its own column', async (t) => {
  const file = join(t.testdir({}), 'before-email-verified.db')
  databaseBefore(file, 'CREATE TABLE account_links', `INSERT INTO users (id, username, password_hash, created_at, updated_at, claims) VALUES
      ('u1', 'yes', 'h', 1, 1, '{"email_verified":true,"nickname":"Y"}'), ('u2', 'no', 'h', 1, 1, '{"email_verified":false}'),
      ('u3', 'none', 'h', 1, 1, '{"locale":"en"}');`)
  const s = await openSqlite(`sqlite:${file}`)
  t.teardown(() => s.close())
  t.match(await s.users.findByUsername('yes'), { emailVerified: true, claims: { nickname: 'Y' } })
  t.match(await s.users.findByUsername('no'), { emailVerified: false, claims: {} })
  t.match(await s.users.findByUsername('none'), { emailVerified: false, claims: { locale: 'en' } })
  const raw = new Database(file, { readonly: true })
  t.teardown(() => raw.close())
  t.same((raw.prepare('SELECT claims FROM users ORDER BY id').all() as Array<{ claims: string }>).map((r) => JSON.parse(r.claims)), [{ nickname: 'Y' }, {}, { locale: 'en' }], 'gone from the JSON')
})

t.test('the migration that moves back-channel logout onto the outbox carries the waiting messages over', async (t) => {
  const file = join(t.testdir({}), 'before-logout-move.db')
  databaseBefore(file, 'DROP TABLE logout_outbox', `INSERT INTO logout_outbox (client_id, uri, sub, sid, attempts, next_at, lease_until) VALUES
    ('web', 'https://rp.example/bcl', 'u1', 'sid-1', 0, 0, 0),
    ('web', 'https://rp.example/bcl', 'u2', 'sid-2', 2, 5000, 0);`)
  const s = await openSqlite(`sqlite:${file}`)
  t.teardown(() => s.close())
  t.equal(await s.outbox.pending(BACKCHANNEL_LOGOUT_KIND), 2, 'both waiting messages are in the outbox')
  const due = await s.outbox.claim(BACKCHANNEL_LOGOUT_KIND, 100, 10, 60, 'test')
  t.match(due, [{ kind: BACKCHANNEL_LOGOUT_KIND, payload: { clientId: 'web', uri: 'https://rp.example/bcl', sub: 'u1', sid: 'sid-1' }, attempts: 1 }], 'the one due now, its payload whole')
  t.ok(await s.outbox.complete(due[0]!.id, 'test', 100))
  t.same(await s.outbox.claim(BACKCHANNEL_LOGOUT_KIND, 4999, 10, 60, 'test'), [], 'the other not before it was due')
  t.match(await s.outbox.claim(BACKCHANNEL_LOGOUT_KIND, 5000, 10, 60, 'test'), [{ payload: { sub: 'u2', sid: 'sid-2' }, attempts: 3 }], 'the other when it was due, its failed attempts kept')
  const raw = new Database(file, { readonly: true })
  t.teardown(() => raw.close())
  t.equal((raw.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'logout_outbox'").get() as { n: number }).n, 0, 'logout_outbox is gone')
})

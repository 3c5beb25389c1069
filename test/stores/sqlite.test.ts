import t from 'tap'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { openSqlite } from '../../lib/stores/sqlite/index.js'
import { sqliteMigrations } from '../../lib/stores/sqlite/migrations.js'
import { checkKeysAfterMigration2, storeSuite } from './suite.js'

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
  const db = new Database(file)
  // Every migration before the one that adds created_by (later ones may follow it).
  const before = sqliteMigrations.slice(0, sqliteMigrations.findIndex((m) => m.includes('ADD COLUMN created_by')))
  for (const migration of before) db.exec(migration)
  db.exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
    ${before.map((_, i) => `INSERT INTO schema_migrations VALUES (${i + 1}, 0);`).join('\n')}
    INSERT INTO users (id, username, password_hash, created_at, updated_at) VALUES
      ('u-vera', 'vera', '!upstream', 1, 1), ('u-alice', 'alice', 'h', 1, 1), ('u-moved', 'moved', '!upstream', 1, 1);
    INSERT INTO upstream_identities (provider, issuer, subject, user_id, email, linked_at) VALUES
      ('later', 'https://l.example', 's2', 'u-vera', NULL, 20), ('corp', 'https://c.example', 's1', 'u-vera', NULL, 10),
      ('corp', 'https://c.example', 's3', 'u-alice', NULL, 10);
    INSERT INTO upstream_providers (name, issuer, client_id, client_secret, scope, display_name, claims, created_at, updated_at)
      VALUES ('corp', 'https://c.example', 'c', 's', 'openid', 'Corp', '{}', 1, 1);`)
  db.close()
  const s = await openSqlite(`sqlite:${file}`)
  t.teardown(() => s.close())
  t.equal((await s.users.findByUsername('vera'))?.createdBy, 'provider:corp', 'an unusable password and links: the provider of the first link')
  t.equal((await s.users.findByUsername('alice'))?.createdBy, null, 'a password user linked later: not provider-created')
  t.equal((await s.users.findByUsername('moved'))?.createdBy, null, 'no link (an export imported elsewhere): not marked')
  t.equal((await s.providers.find('corp'))?.linkLinkedAccounts, false, 'providers: link_linked_accounts off')
})

t.test('the account-links migration moves email_verified out of users.claims into its own column', async (t) => {
  const file = join(t.testdir({}), 'before-email-verified.db')
  const db = new Database(file)
  const before = sqliteMigrations.slice(0, sqliteMigrations.findIndex((m) => m.includes('CREATE TABLE account_links')))
  for (const migration of before) db.exec(migration)
  db.exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
    ${before.map((_, i) => `INSERT INTO schema_migrations VALUES (${i + 1}, 0);`).join('\n')}
    INSERT INTO users (id, username, password_hash, created_at, updated_at, claims) VALUES
      ('u1', 'yes', 'h', 1, 1, '{"email_verified":true,"nickname":"Y"}'), ('u2', 'no', 'h', 1, 1, '{"email_verified":false}'),
      ('u3', 'none', 'h', 1, 1, '{"locale":"en"}');`)
  db.close()
  const s = await openSqlite(`sqlite:${file}`)
  t.teardown(() => s.close())
  t.match(await s.users.findByUsername('yes'), { emailVerified: true, claims: { nickname: 'Y' } })
  t.match(await s.users.findByUsername('no'), { emailVerified: false, claims: {} })
  t.match(await s.users.findByUsername('none'), { emailVerified: false, claims: { locale: 'en' } })
  const raw = new Database(file, { readonly: true })
  t.teardown(() => raw.close())
  t.same((raw.prepare('SELECT claims FROM users ORDER BY id').all() as Array<{ claims: string }>).map((r) => JSON.parse(r.claims)), [{ nickname: 'Y' }, {}, { locale: 'en' }], 'gone from the JSON')
})

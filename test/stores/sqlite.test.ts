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

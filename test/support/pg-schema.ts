import pg from 'pg'
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js'
import { randomBytes } from 'node:crypto'
import { postgresMigrations, SCHEMA_MIGRATIONS_TABLE } from '../../lib/stores/postgres/migrations.js'

/** The PostgreSQL server tests use; each test run works in schemas of its own inside it. */
export const testDatabaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

async function admin<T> (fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testDatabaseUrl, connectionTimeoutMillis: 5_000 })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/** Runs one statement on the test server outside any test schema (for assertions and fault injection). */
export async function adminQuery (text: string, values: unknown[] = []): Promise<Array<Record<string, unknown>>> {
  return admin(async (client) => (await client.query(text, values)).rows)
}

/**
 * A fresh, empty schema `gh_test_<random>` and a DATABASE_URL that selects it through the libpq `options`
 * parameter (so unqualified table names resolve, and are created, there). Its `application_name` is the
 * schema name too, which lets a test find, and only find, its own connections in pg_stat_activity.
 * `drop` removes the schema and everything in it; close the storages using it first.
 */
export async function createTestSchema (): Promise<{ url: string, schema: string, drop: () => Promise<void> }> {
  const schema = `gh_test_${randomBytes(6).toString('hex')}`
  await admin((client) => client.query(`CREATE SCHEMA ${schema}`))
  const separator = testDatabaseUrl.includes('?') ? '&' : '?'
  // encodeURIComponent, not URLSearchParams: libpq does not read '+' as a space.
  const url = `${testDatabaseUrl}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}&application_name=${schema}`
  return { url, schema, drop: async () => { await admin((client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)) } }
}

/**
 * A fresh schema with every migration already applied, for the apps tests build (freshDatabase in helper.ts):
 * the app's migrate() (lib/stores/postgres/migrations.ts) then finds nothing to do. migrate() would apply the
 * same migrations one statement, one round trip at a time, under an advisory lock that every schema of the test
 * database shares, so apps built at once by parallel test files queued on it. Here they run as one script,
 * without the lock. Migrating empty schemas is tested where it is the subject (test/stores/postgres.test.ts).
 */
export async function createMigratedTestSchema (): Promise<{ url: string, schema: string, drop: () => Promise<void> }> {
  const created = await createTestSchema()
  await admin((client) => client.query(migrationScript(created.schema, postgresMigrations)))
  return created
}

/** `migrations` applied and recorded in `schema`, as one script (see createMigratedTestSchema). */
function migrationScript (schema: string, migrations: readonly string[]): string {
  return [
    `SET search_path TO ${schema}`,
    SCHEMA_MIGRATIONS_TABLE,
    ...migrations.flatMap((migration, index) => [migration, `INSERT INTO schema_migrations (version, applied_at) VALUES (${index + 1}, extract(epoch from now())::bigint)`])
  ].join(';\n')
}

/**
 * A fresh schema stood just before the migration whose text contains `marker` (every earlier one applied and
 * recorded), with `seed` run in it: opening it then runs that migration on the seeded rows.
 */
export async function createTestSchemaBefore (marker: string, seed: string): Promise<{ url: string, schema: string, drop: () => Promise<void> }> {
  const index = postgresMigrations.findIndex((m) => m.includes(marker))
  if (index < 0) throw new Error(`no migration contains ${marker}`)
  const created = await createTestSchema()
  await admin((client) => client.query(`${migrationScript(created.schema, postgresMigrations.slice(0, index))};\n${seed}`))
  return created
}

/**
 * For a test file that wants an empty schema per subtest: returns `fresh()`, and drops every schema it made
 * when the file's tests end.
 */
export function schemasDroppedAtEnd (t: { teardown: (fn: () => Promise<void>) => void }): () => Promise<{ url: string, schema: string }> {
  const drops: Array<() => Promise<void>> = []
  t.teardown(async () => { for (const drop of drops) await drop() })
  return async () => {
    const created = await createTestSchema()
    drops.push(created.drop)
    return created
  }
}

/**
 * A fresh schema reached through a TCP proxy (test/support/tcp-proxy.ts), for outage tests: `url` goes through
 * the proxy, `directUrl` does not (for setup and checks that must not be cut off).
 */
export async function createProxiedTestSchema (): Promise<{ url: string, directUrl: string, proxy: TcpProxy, drop: () => Promise<void> }> {
  const { url: directUrl, drop } = await createTestSchema()
  const target = new URL(testDatabaseUrl)
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
  const viaProxy = new URL(directUrl)
  viaProxy.hostname = '127.0.0.1'
  viaProxy.port = String(proxy.port)
  return {
    url: viaProxy.toString(),
    directUrl,
    proxy,
    drop: async () => { await proxy.stop().catch(() => {}); await drop() }
  }
}

import t from 'tap'
import pg from 'pg'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { StoreUnavailableError } from '../../lib/errors.js'
import { openPostgres } from '../../lib/stores/postgres/index.js'
import type { RefreshToken, Storage } from '../../lib/stores/types.js'
import { adminQuery, createProxiedTestSchema, createTestSchema, testDatabaseUrl } from '../support/pg-schema.js'
import { closedPort, startTcpProxy } from '../support/tcp-proxy.js'
import { denyEntry } from '../../lib/stores/deny-list.js'
import { createGrant } from './grant-fixture.js'

/**
 * The database going away under a running store: every failure must be a StoreUnavailableError
 * (so the server answers 503), the process must survive, and the store must recover by itself.
 */
const now = Math.floor(Date.now() / 1000)
const deny = { now, denyUntil: now + 900 }
const token = (grantId: string): RefreshToken =>
  ({ hash: randomUUID(), grantId, scope: 'read', issuedAt: now, expiresAt: now + 3600, consumedAt: null })

/** Resolves with how each call ended: 'ok', 'unavailable', or the unexpected error itself. */
async function outcome (call: Promise<unknown>): Promise<'ok' | 'unavailable' | unknown> {
  try {
    await call
    return 'ok'
  } catch (err) {
    return err instanceof StoreUnavailableError ? 'unavailable' : err
  }
}

/** Keeps `workers` loops of mixed reads and transactions going until `stop()`, recording every outcome. */
function load (s: Storage, workers: number) {
  const outcomes: unknown[] = []
  let running = true
  const ops = [
    () => s.users.count(),
    () => s.revocations.anyRevoked([denyEntry.token(randomUUID()), denyEntry.grant('x')]),
    () => s.revocations.add([denyEntry.token(randomUUID())], now + 60),
    () => s.grants.revokeForUser('nobody', deny),
    () => s.keys.insertFirstOfAlg({ kid: randomUUID(), alg: 'ES256', privateKey: 'p', publicJwk: '{}', createdAt: now, activatesAt: now }),
    async () => {
      const id = randomUUID()
      const first = token(id)
      await createGrant(s, { id, clientId: 'c', userId: 'u', scope: 'read', createdAt: now, expiresAt: now + 600 }, first)
      await s.grants.rotate(first.hash, token(id), deny)
    }
  ]
  const loops = Array.from({ length: workers }, async (_, w) => {
    // eslint-disable-next-line no-unmodified-loop-condition -- cleared by the test body, between awaits
    for (let i = w; running; i++) {
      outcomes.push(await outcome(ops[i % ops.length]!()))
      await sleep(2)
    }
  })
  return { outcomes, stop: async () => { running = false; await Promise.all(loops) } }
}

async function killBackends (applicationName: string): Promise<number> {
  const rows = await adminQuery(`SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
    WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()`, [applicationName])
  return rows.filter((r) => r.killed === true).length
}

async function until (what: string, check: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

t.test('pg_terminate_backend on every connection of the pool, under load', async (t) => {
  const { url, schema, drop } = await createTestSchema()
  const s = await openPostgres(url)
  t.teardown(async () => { await s.close(); await drop() })

  const grantId = randomUUID()
  const rt = token(grantId)
  await createGrant(s, { id: grantId, clientId: 'c', userId: 'u', scope: 'read', createdAt: now, expiresAt: now + 3600 }, rt)

  // Park one rotation mid-transaction: another session holds its grant row, so the kill lands while it waits.
  const blocker = new pg.Client({ connectionString: testDatabaseUrl })
  await blocker.connect()
  t.teardown(() => blocker.end())
  await blocker.query('BEGIN')
  await blocker.query(`SELECT 1 FROM ${schema}.grants WHERE id = $1 FOR UPDATE`, [grantId])
  const parked = outcome(s.grants.rotate(rt.hash, token(grantId), deny))
  await until('the rotation to wait on the row lock', async () => (await adminQuery(
    "SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [schema])).length === 1)

  const traffic = load(s, 6)
  await sleep(150)
  const killed = await killBackends(schema)
  t.ok(killed >= 2, `terminated ${killed} connections`)
  t.equal(await parked, 'unavailable', 'the statement in flight fails as StoreUnavailableError')
  await blocker.query('ROLLBACK')
  await sleep(150)
  await killBackends(schema) // and again, while the pool is reconnecting
  await sleep(300)
  await traffic.stop()

  const unexpected = traffic.outcomes.filter((o) => o !== 'ok' && o !== 'unavailable')
  t.same(unexpected, [], 'every call either succeeded or failed as StoreUnavailableError')
  t.ok(traffic.outcomes.includes('ok'), `${traffic.outcomes.length} calls, ${traffic.outcomes.filter((o) => o === 'unavailable').length} unavailable`)

  // Recovery needs nothing from us: the next calls simply work.
  for (let i = 0; i < 20; i++) await s.users.count()
  await t.resolves(s.ping())
  const retried = await s.grants.rotate(rt.hash, token(grantId), deny)
  t.equal(retried.outcome, 'rotated', 'the interrupted rotation left nothing behind: the token is still live')

  // Idle pooled connections die too: the pool drops them (its 'error' event) and the next call reconnects.
  await Promise.all(Array.from({ length: 5 }, () => s.users.count()))
  t.ok(await killBackends(schema) >= 1, 'terminated the idle connections')
  await sleep(100)
  t.match(await outcome(s.users.count()), /^(ok|unavailable)$/)
  await until('calls to succeed again', async () => { await s.users.count(); return true })
  await t.resolves(s.ping())
})

t.test('the database goes away and comes back (server stopped)', async (t) => {
  const { url, proxy, drop } = await createProxiedTestSchema()
  const s = await openPostgres(url)
  t.teardown(async () => { await s.close(); await drop() })
  await Promise.all(Array.from({ length: 4 }, () => s.users.count())) // several pooled connections

  await proxy.stop()
  const started = Date.now()
  t.equal(await outcome(s.ping()), 'unavailable')
  t.equal(await outcome(s.users.findByUsername('x')), 'unavailable')
  t.equal(await outcome(s.grants.revoke('g', deny)), 'unavailable', 'transactions too')
  t.ok(Date.now() - started < 3_000, `failed fast (${Date.now() - started} ms)`)

  await proxy.start()
  await until('ping to answer again', async () => { await s.ping(); return true })
  t.equal(await s.users.count(), 0)
})

t.test('the network stops answering (blackhole): timeouts, not hangs', async (t) => {
  const { url, proxy, drop } = await createProxiedTestSchema()
  const s = await openPostgres(url)
  t.teardown(async () => { await s.close(); await drop() })
  await s.ping()

  proxy.mode = 'blackhole'
  let started = Date.now()
  t.equal(await outcome(s.ping()), 'unavailable', 'a statement on an established connection hits query_timeout')
  t.ok(Date.now() - started < 8_000, `gave up after ${Date.now() - started} ms`)
  started = Date.now()
  t.equal(await outcome(s.ping()), 'unavailable', 'a new connection hits connectionTimeoutMillis')
  t.ok(Date.now() - started < 3_000, `gave up after ${Date.now() - started} ms`)

  proxy.mode = 'forward'
  await t.resolves(s.ping(), 'the timed-out connections were discarded, not reused')
  t.equal(await s.users.count(), 0)
})

t.test('opening against a closed port fails fast with StoreUnavailableError', async (t) => {
  const port = await closedPort()
  const started = Date.now()
  t.equal(await outcome(openPostgres(`postgres://postgres@127.0.0.1:${port}/test`)), 'unavailable')
  t.ok(Date.now() - started < 3_000, `in ${Date.now() - started} ms`)
})

t.test('opening against a server that never answers fails within ~3 s', async (t) => {
  const target = new URL(testDatabaseUrl)
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
  t.teardown(() => proxy.stop())
  proxy.mode = 'blackhole'
  const started = Date.now()
  t.equal(await outcome(openPostgres(`postgres://postgres@127.0.0.1:${proxy.port}/test`)), 'unavailable')
  t.ok(Date.now() - started < 3_500, `in ${Date.now() - started} ms`)
})

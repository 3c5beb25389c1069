import t from 'tap'
import { randomUUID } from 'node:crypto'
import { openPostgres } from '../../lib/stores/postgres/index.js'
import { postgresMigrations } from '../../lib/stores/postgres/migrations.js'
import { openStorage } from '../../lib/stores/index.js'
import { adminQuery, createTestSchemaBefore, schemasDroppedAtEnd } from '../support/pg-schema.js'
import { BACKCHANNEL_LOGOUT_KIND } from '../../lib/stores/types.js'
import { checkKeysAfterMigration2, storeSuite } from './suite.js'
import { denyEntry } from '../../lib/stores/deny-list.js'
import { createGrant } from './grant-fixture.js'

// A schema of its own per subtest (each wants an empty store), all dropped at the end.
const freshSchema = schemasDroppedAtEnd(t)

storeSuite(t, async () => openPostgres((await freshSchema()).url))

t.test('openStorage picks PostgreSQL for postgres:// and postgresql:// URLs', async (t) => {
  const { url } = await freshSchema()
  for (const u of [url, url.replace(/^postgres:/, 'postgresql:')]) {
    const s = await openStorage(u)
    t.equal(s.kind, 'postgres')
    await s.ping()
    await s.close()
    await s.close() // idempotent, like SQLite's
  }
})

t.test('migrations: five instances opening a fresh schema at once apply it once, in that schema', async (t) => {
  const { url, schema } = await freshSchema()
  const opened = await Promise.allSettled(Array.from({ length: 5 }, () => openPostgres(url)))
  t.same(opened.map((r) => r.status), Array(5).fill('fulfilled'), 'every instance opened')
  for (const r of opened) if (r.status === 'fulfilled') await r.value.close()

  const versions = await adminQuery(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`)
  t.same(versions.map((r) => r.version), postgresMigrations.map((_, i) => i + 1), 'each version recorded once')
  const tables = await adminQuery('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [schema])
  t.same(tables.map((r) => r.table_name),
    ['account_links', 'authorization_codes', 'client_assertion_jtis', 'clients', 'consents', 'device_codes', 'grants', 'housekeeping', 'key_instances', 'outbox', 'passkey_challenges', 'pushed_requests', 'recovery_codes', 'refresh_tokens', 'registration_tokens', 'resources', 'revocations', 'schema_migrations', 'security_events', 'session_clients', 'sessions', 'signing_keys', 'upstream_identities', 'upstream_providers', 'upstream_transactions', 'user_factors', 'user_tombstones', 'users'])

  const again = await openPostgres(url)
  t.equal((await adminQuery(`SELECT COUNT(*)::int AS n FROM ${schema}.schema_migrations`))[0]!.n, postgresMigrations.length,
    'reopening applies nothing')
  await again.close()
})

t.test('migration 2: keys from before it get sequence numbers in activation order, and can lose their private part', async (t) => {
  const { url, schema } = await freshSchema()
  await adminQuery(`SET search_path TO ${schema}; ${postgresMigrations[0]!};
    CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL);
    INSERT INTO schema_migrations VALUES (1, 0);
    INSERT INTO signing_keys VALUES ('kb', 'ES256', 'pem-b', '{}', 100, 200), ('ka', 'ES256', 'pem-a', '{}', 100, 100), ('kc', 'ES256', 'pem-c', '{}', 150, 200)`)
  const s = await openPostgres(url)
  t.teardown(() => s.close())
  await checkKeysAfterMigration2(t, s)
})

t.test('types: timestamps and counts come back as numbers, flags as booleans, lists as arrays', async (t) => {
  const s = await openPostgres((await freshSchema()).url)
  t.teardown(() => s.close())
  const u = await s.users.create({ username: 'n', passwordHash: null, disabled: true })
  t.type(u.createdAt, 'number')
  t.equal(u.disabled, true)
  t.type(await s.users.count(), 'number')
  await s.revocations.add([denyEntry.token('n')], 2 ** 40)
  const [entry] = await s.revocations.listSince(0)
  t.match(entry, { id: denyEntry.token('n'), expiresAt: 2 ** 40 })
  if (entry === undefined) throw new Error('the deny-list entry just added is not listed')
  t.type(entry.createdAt, 'number')
  t.ok(Math.abs(entry.createdAt - u.createdAt) <= 2, 'stamped by the database clock, in unix seconds')
  const c = await s.clients.create({ id: 'c', secretHash: null, isPublic: true, grantTypes: ['authorization_code'], scope: null, redirectUris: ['https://a.test/cb', 'https://b.test/cb'] })
  t.same((await s.clients.find('c'))?.redirectUris, ['https://a.test/cb', 'https://b.test/cb'], 'order kept')
  t.equal(c.isPublic, true)
})

t.test('writes containing NUL are refused with a clear error and leave nothing behind', async (t) => {
  const s = await openPostgres((await freshSchema()).url)
  t.teardown(() => s.close())
  const nul = '\u0000'
  await t.rejects(s.users.create({ username: `a${nul}b`, passwordHash: null }), { name: 'NulCharacterError', message: /NUL/ })
  await t.rejects(s.clients.create({ id: 'c', secretHash: null, isPublic: true, grantTypes: ['password'], scope: null, redirectUris: [`https://x${nul}`] }),
    { name: 'NulCharacterError' })
  await s.users.create({ username: 'a', passwordHash: null })
  await t.rejects(s.users.update('a', { fullName: nul }), { name: 'NulCharacterError' })
  await t.rejects(s.revocations.add([denyEntry.token(nul)], 1), { name: 'NulCharacterError' })
  t.equal(await s.users.count(), 1)
  t.equal(await s.clients.find('c'), undefined)
  await t.resolves(s.ping(), 'the pool is fine afterwards')
})

t.test('a failed statement inside a transaction rolls the whole transaction back', async (t) => {
  const s = await openPostgres((await freshSchema()).url)
  t.teardown(() => s.close())
  const now = Math.floor(Date.now() / 1000)
  const first = { hash: 'h1', grantId: 'g1', scope: '', issuedAt: now, expiresAt: now + 60, consumedAt: null }
  await createGrant(s, { id: 'g1', clientId: 'c', userId: 'u', scope: '', createdAt: now, expiresAt: now + 60 }, first)
  // Same token hash, new grant: the token insert fails, so the grant insert must not survive either.
  await t.rejects(createGrant(s, { id: 'g2', clientId: 'c', userId: 'u', scope: '', createdAt: now, expiresAt: now + 60 }, { ...first, grantId: 'g2' }),
    { code: '23505' })
  t.equal(await s.grants.findGrant('g2'), undefined)
  await t.resolves(s.ping())
})

t.test('pages: negative limit and offset mean what they mean on SQLite', async (t) => {
  const s = await openPostgres((await freshSchema()).url)
  t.teardown(() => s.close())
  for (const username of ['a', 'b', 'c']) await s.users.create({ username, passwordHash: null })
  t.same((await s.users.list({ limit: -1, offset: -3 })).map((u) => u.username), ['a', 'b', 'c'])
  t.same((await s.clients.list({ limit: -1, offset: 0 })), [])
})

t.test('several instances (pools) on one schema: rotate and insertFirstOfAlg stay single-winner (per algorithm)', async (t) => {
  const { url } = await freshSchema()
  const instances = await Promise.all([openPostgres(url), openPostgres(url), openPostgres(url)])
  t.teardown(async () => { for (const s of instances) await s.close() })
  const now = Math.floor(Date.now() / 1000)
  const deny = { now, denyUntil: now + 900 }
  for (let round = 0; round < 5; round++) {
    const grantId = randomUUID()
    const token = () => ({ hash: randomUUID(), grantId, scope: 'read', issuedAt: now, expiresAt: now + 3600, consumedAt: null })
    const first = token()
    await createGrant(instances[0], { id: grantId, clientId: 'c', userId: 'u', scope: 'read', createdAt: now, expiresAt: now + 3600 }, first)
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => instances[i % 3]!.grants.rotate(first.hash, token(), deny)))
    t.equal(results.filter((r) => r.outcome === 'rotated').length, 1, `round ${round}: one winner`)
    t.equal(results.filter((r) => r.outcome === 'reused').length, 29)
    t.ok((await instances[1].grants.findGrant(grantId))?.revokedAt, 'the family is revoked')
    t.ok(await instances[2].revocations.anyRevoked([denyEntry.grant(grantId)]), 'and on the deny-list')
  }
  const key = (kid: string, alg: 'ES256' | 'RS256') => ({ kid, alg, privateKey: 'p', publicJwk: '{}', createdAt: now, activatesAt: now })
  const won = await Promise.all(Array.from({ length: 18 }, (_, i) => instances[i % 3]!.keys.insertFirstOfAlg(key(`k${i}`, i % 2 === 0 ? 'ES256' : 'RS256'))))
  t.equal(won.filter(Boolean).length, 2, 'one winner per algorithm')
  t.same((await instances[0].keys.list()).map((k) => k.alg).sort(), ['ES256', 'RS256'])
})

t.test('the migration that moves back-channel logout onto the outbox carries the waiting messages over', async (t) => {
  const { url, drop } = await createTestSchemaBefore('DROP TABLE logout_outbox', `INSERT INTO logout_outbox (client_id, uri, sub, sid, attempts, next_at, lease_until) VALUES
    ('web', 'https://rp.example/bcl', 'u1', 'sid-1', 0, 0, 0),
    ('web', 'https://rp.example/bcl', 'u2', 'sid-2', 2, 5000, 0)`)
  const s = await openPostgres(url)
  t.teardown(async () => { await s.close(); await drop() })
  t.equal(await s.outbox.pending(BACKCHANNEL_LOGOUT_KIND), 2, 'both waiting messages are in the outbox')
  const due = await s.outbox.claim(BACKCHANNEL_LOGOUT_KIND, 100, 10, 60, 'test')
  t.match(due, [{ kind: BACKCHANNEL_LOGOUT_KIND, payload: { clientId: 'web', uri: 'https://rp.example/bcl', sub: 'u1', sid: 'sid-1' }, attempts: 1 }], 'the one due now, its payload whole')
  t.ok(await s.outbox.complete(due[0]!.id, 'test', 100))
  t.same(await s.outbox.claim(BACKCHANNEL_LOGOUT_KIND, 4999, 10, 60, 'test'), [], 'the other not before it was due')
  t.match(await s.outbox.claim(BACKCHANNEL_LOGOUT_KIND, 5000, 10, 60, 'test'), [{ payload: { sub: 'u2', sid: 'sid-2' }, attempts: 3 }], 'the other when it was due, its failed attempts kept')
  t.same(await s.outbox.pending(BACKCHANNEL_LOGOUT_KIND), 1)
})

import t from 'tap'
import { join } from 'node:path'
import { openSqlite } from '../../lib/stores/sqlite/index.js'
import { withReadCache, type Invalidation, type InvalidationBus } from '../../lib/stores/cached.js'
import { denyEntry } from '../../lib/stores/deny-list.js'
import { createGrant } from './grant-fixture.js'

let n = 0
const dbUrl = () => `sqlite:${join(t.testdirName, `cached-${n++}.db`)}`
t.before(() => { t.testdir({}) })

function memoryBus (): () => InvalidationBus {
  const listeners: Array<{ owner: object, fn: (m: Invalidation) => void }> = []
  return () => {
    const owner = {}
    return {
      publish: (message) => { for (const l of listeners) if (l.owner !== owner) l.fn(message) },
      subscribe: (fn) => { listeners.push({ owner, fn }) }
    }
  }
}

const now = Math.floor(Date.now() / 1000)
const deny = { now, denyUntil: now + 900 }

t.test('users and clients are served from memory until a write through the layer drops them', async (t) => {
  const url = dbUrl()
  const raw = openSqlite(url)
  const cached = await withReadCache(openSqlite(url), { ttlMs: 60_000, syncMs: 60_000, maxStaleMs: 120_000 })
  t.teardown(async () => { await cached.close(); await raw.close() })
  const alice = await cached.users.create({ username: 'alice', passwordHash: null })
  t.equal((await cached.users.findById(alice.id))?.disabled, false)

  await raw.users.update('alice', { disabled: true }) // another process, behind the cache's back
  t.equal((await cached.users.findById(alice.id))?.disabled, false, 'still the cached copy (TTL not over)')
  await cached.users.update('alice', { fullName: 'A' })
  t.equal((await cached.users.findById(alice.id))?.disabled, true, 'a write through the layer drops the entry')

  await cached.clients.create({ id: 'c1', secretHash: 'h', isPublic: false, grantTypes: ['client_credentials'], scope: null, redirectUris: [] })
  t.ok(await cached.clients.find('c1'))
  await cached.clients.delete('c1')
  t.equal(await cached.clients.find('c1'), undefined, 'a deleted client is gone at once')
  t.equal(await cached.clients.find('nope'), undefined, 'misses are cached too, and correct')
})

t.test('entries expire after ttlMs', async (t) => {
  let clock = 1_000_000
  const url = dbUrl()
  const raw = openSqlite(url)
  const cached = await withReadCache(openSqlite(url), { ttlMs: 1000, syncMs: 60_000, maxStaleMs: 120_000, clock: { now: () => Math.floor(clock / 1000), nowMs: () => clock } })
  t.teardown(async () => { await cached.close(); await raw.close() })
  const bob = await raw.users.create({ username: 'bob', passwordHash: null })
  t.equal((await cached.users.findById(bob.id))?.disabled, false)
  await raw.users.update('bob', { disabled: true })
  clock += 999
  t.equal((await cached.users.findById(bob.id))?.disabled, false)
  clock += 2
  t.equal((await cached.users.findById(bob.id))?.disabled, true, 'a change by another process lands within ttlMs')
})

t.test('the deny-list mirror: local revocations at once, others after a sync, fail closed when stale', async (t) => {
  let clock = Date.now()
  const url = dbUrl()
  const raw = openSqlite(url)
  const cached = await withReadCache(openSqlite(url), { ttlMs: 1000, syncMs: 60_000, maxStaleMs: 3000, clock: { now: () => Math.floor(clock / 1000), nowMs: () => clock } })
  t.teardown(async () => { await cached.close(); await raw.close() })

  await cached.revocations.add([denyEntry.token('a')], now + 60)
  t.ok(await cached.revocations.anyRevoked([denyEntry.token('a')]), 'a local revocation is mirrored at once')

  const grantId = 'g1'
  await createGrant(raw, { id: grantId, clientId: 'c', userId: 'u', scope: '', createdAt: now, expiresAt: now + 100 }, { hash: 'h1', grantId, scope: '', issuedAt: now, expiresAt: now + 100, consumedAt: null })
  await cached.grants.revoke(grantId, deny)
  t.ok(await cached.revocations.anyRevoked([denyEntry.token('x'), denyEntry.grant(grantId)]), 'a grant revoked through the layer is mirrored before the call returns')

  await raw.revocations.add([denyEntry.token('elsewhere')], now + 60)
  t.notOk(await cached.revocations.anyRevoked([denyEntry.token('elsewhere')]), 'not yet synced')
  await cached.cache.sync()
  t.ok(await cached.revocations.anyRevoked([denyEntry.token('elsewhere')]), 'seen after a sync')

  await raw.revocations.add([denyEntry.token('during-trouble')], now + 60)
  clock += 3001 // no sync for longer than maxStaleMs: the mirror is not trusted with "no"
  t.ok(await cached.revocations.anyRevoked([denyEntry.token('during-trouble')]), 'a stale mirror asks the database')
})

t.test('an invalidation bus carries changes between instances', async (t) => {
  const url = dbUrl()
  const bus = memoryBus()
  const options = { ttlMs: 60_000, syncMs: 60_000, maxStaleMs: 120_000 }
  const a = await withReadCache(openSqlite(url), options, bus())
  const b = await withReadCache(openSqlite(url), options, bus())
  t.teardown(async () => { await a.close(); await b.close() })
  const carol = await a.users.create({ username: 'carol', passwordHash: null })
  t.equal((await b.users.findById(carol.id))?.disabled, false)
  await a.users.update('carol', { disabled: true })
  t.equal((await b.users.findById(carol.id))?.disabled, true, 'B dropped its copy when A wrote')
  await a.revocations.add([denyEntry.token('z')], now + 60)
  await new Promise((resolve) => setTimeout(resolve, 20)) // B syncs on the message
  t.ok(await b.revocations.anyRevoked([denyEntry.token('z')]), 'B mirrored A\'s revocation')
})

t.test('failing syncs never leave an unhandled rejection (the process would die with its database)', async (t) => {
  const unhandled: unknown[] = []
  const onUnhandled = (err: unknown) => { unhandled.push(err) }
  process.on('unhandledRejection', onUnhandled)
  t.teardown(() => { process.off('unhandledRejection', onUnhandled) })
  const inner = openSqlite(dbUrl())
  const cached = await withReadCache(inner, { ttlMs: 1000, syncMs: 20, maxStaleMs: 3000 })
  await inner.close() // every sync from now on fails
  await t.rejects(cached.cache.sync())
  await new Promise((resolve) => setTimeout(resolve, 200)) // several timer syncs fail meanwhile
  t.same(unhandled, [])
  await cached.close()
})

t.test('a read in flight when a write lands does not put the old row back', async (t) => {
  const url = dbUrl()
  const inner = openSqlite(url)
  const cached = await withReadCache(inner, { ttlMs: 60_000, syncMs: 60_000, maxStaleMs: 120_000 })
  t.teardown(() => cached.close())
  const dana = await cached.users.create({ username: 'dana', passwordHash: null })
  // Hold the inner read until the write has happened.
  const realFind = inner.users.findById.bind(inner.users)
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  inner.users.findById = async (id) => { const before = await realFind(id); await gate; return before }
  const slowRead = cached.users.findById(dana.id)
  await cached.users.update('dana', { disabled: true })
  release()
  t.equal((await slowRead)?.disabled, false, 'the slow read returns what it read')
  inner.users.findById = realFind
  t.equal((await cached.users.findById(dana.id))?.disabled, true, 'but it was not cached over the write')
})

t.test('a burst of revocations costs no re-reads: they enter the mirror as they are written', async (t) => {
  const inner = openSqlite(dbUrl())
  const cached = await withReadCache(inner, { ttlMs: 1000, syncMs: 60_000, maxStaleMs: 120_000 })
  t.teardown(() => cached.close())
  let reads = 0
  const listSince = inner.revocations.listSince.bind(inner.revocations)
  inner.revocations.listSince = async (since) => { reads++; return listSince(since) }
  for (let i = 0; i < 100; i++) {
    const id = `g${i}`
    await createGrant(inner, { id, clientId: 'c', userId: `u${i % 3}`, scope: '', createdAt: now, expiresAt: now + 100 }, { hash: `h${i}`, grantId: id, scope: '', issuedAt: now, expiresAt: now + 100, consumedAt: null })
  }
  for (let i = 0; i < 50; i++) await cached.grants.revoke(`g${i}`, deny)
  for (let i = 0; i < 20; i++) await cached.revocations.add([denyEntry.token(String(i))], now + 60)
  const byUser = await cached.grants.revokeForUser('u1', deny)
  t.equal(reads, 0, 'no deny-list reads')
  t.ok(await cached.revocations.anyRevoked([denyEntry.grant('g49')]))
  t.ok(await cached.revocations.anyRevoked([denyEntry.token('19')]))
  t.ok(byUser.length > 0 && await cached.revocations.anyRevoked([denyEntry.grant(byUser[byUser.length - 1]!)]), 'bulk revocations too')
  t.notOk(await cached.revocations.anyRevoked([denyEntry.grant('g50')]))
  await cached.cache.sync()
  t.equal(reads, 1, 'a sync is one read')
})

t.test('two instances create the same client at once: the loser finds the winner\'s row, not its own cached miss', async (t) => {
  const url = dbUrl()
  const options = { ttlMs: 60_000, syncMs: 60_000, maxStaleMs: 120_000 }
  const a = await withReadCache(openSqlite(url), options)
  const b = await withReadCache(openSqlite(url), options)
  t.teardown(async () => { await a.close(); await b.close() })
  t.equal(await a.clients.find('gatehouse-console'), undefined, 'instance a looks first: a miss, cached')
  const fields = { secretHash: null, isPublic: true, grantTypes: ['authorization_code' as const], scope: 'openid admin', redirectUris: ['https://id.example/console/callback'] }
  await b.clients.create({ id: 'gatehouse-console', ...fields })
  await t.rejects(a.clients.create({ id: 'gatehouse-console', ...fields }), { name: 'ConflictError' })
  t.equal((await a.clients.find('gatehouse-console'))?.id, 'gatehouse-console', 'after the conflict, a reads the row b made')
})

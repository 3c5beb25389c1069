import type { Client, ClientStore, GrantStore, RevocationStore, Storage, User, UserStore } from './types.js'

/**
 * A read-through layer over a Storage for the per-request checks behind every bearer token (is it
 * revoked, does its user exist and is it enabled, does its client exist), so that steady traffic
 * costs no database round trip:
 *
 * - the access-token deny-list is mirrored in memory, re-synced every `syncMs` (entries are only
 *   ever added, so "entries created since the last sync" is enough) and at once after every revocation
 *   made through this layer. If the mirror has not synced for `maxStaleMs` (database trouble), checks
 *   go to the database again, so a stale mirror never answers "not revoked" (fail closed);
 * - users by id and clients by id are kept for `ttlMs` and dropped at once by every write made
 *   through this layer (and, across instances, by `invalidations`, e.g. Redis pub/sub).
 *
 * So a change made here is seen here immediately; one made by another process (the CLI, another
 * instance) within `ttlMs`/`syncMs`, or immediately when an invalidation bus connects the instances.
 */
const RESYNC_WINDOW_SECONDS = 120

export interface CacheOptions {
  ttlMs: number
  syncMs: number
  maxStaleMs: number
  now?: () => number
}

/** Tells other instances what changed (Redis pub/sub) and hears what they changed. */
export interface InvalidationBus {
  publish (message: Invalidation): void
  subscribe (listener: (message: Invalidation) => void): void
}

export type Invalidation = { kind: 'user', id: string } | { kind: 'client', id: string } | { kind: 'revocations' }

export interface CachedStorage extends Storage {
  /** Re-syncs the deny-list mirror now; drops every cached user and client. */
  readonly cache: { sync (): Promise<void>, clear (): void }
}

export async function withReadCache (inner: Storage, options: CacheOptions, bus?: InvalidationBus): Promise<CachedStorage> {
  const now = options.now ?? Date.now
  const users = new Map<string, { user: User | undefined, at: number }>()
  const clients = new Map<string, { client: Client | undefined, at: number }>()
  const denied = new Map<string, number>() // id → expiresAt (unix seconds)
  let syncedAt = -Infinity
  let chain: Promise<void> = Promise.resolve()

  async function syncNow (): Promise<void> {
    const started = now()
    const nowSeconds = Math.floor(started / 1000)
    // The first sync reads the whole list; later ones re-read a trailing window, wide enough for clock
    // skew between instances and for transactions that commit a little after their timestamp.
    const rows = await inner.revocations.listSince(syncedAt === -Infinity ? 0 : nowSeconds - RESYNC_WINDOW_SECONDS)
    for (const row of rows) denied.set(row.id, Math.max(denied.get(row.id) ?? 0, row.expiresAt))
    for (const [id, expiresAt] of denied) if (expiresAt < nowSeconds) denied.delete(id)
    syncedAt = started
  }
  /**
   * One sync at a time, in order; each caller gets its own sync's outcome. The chain itself swallows
   * failures (each caller handles its own), so no promise is ever left rejected with nobody listening:
   * in Node that would kill the process exactly when the database goes away.
   */
  function sync (): Promise<void> {
    const run = chain.then(syncNow)
    chain = run.catch(() => {})
    return run
  }

  const fresh = (at: number) => now() - at < options.ttlMs
  const dropUser = (id: string) => { users.delete(id) }
  const dropClient = (id: string) => { clients.delete(id) }
  const announce = (message: Invalidation) => bus?.publish(message)

  bus?.subscribe((message) => {
    if (message.kind === 'user') dropUser(message.id)
    else if (message.kind === 'client') dropClient(message.id)
    else sync().catch(() => {})
  })

  await sync()
  const timer = setInterval(() => { sync().catch(() => {}) }, options.syncMs)
  timer.unref()

  const userStore: UserStore = {
    create: (user) => inner.users.create(user),
    async findById (id) {
      const hit = users.get(id)
      if (hit && fresh(hit.at)) return hit.user
      const user = await inner.users.findById(id)
      users.set(id, { user, at: now() })
      return user
    },
    findByUsername: (username) => inner.users.findByUsername(username),
    list: (page) => inner.users.list(page),
    async update (username, patch) {
      const user = await inner.users.update(username, patch)
      if (user) { dropUser(user.id); announce({ kind: 'user', id: user.id }) }
      return user
    },
    async delete (username) {
      const user = await inner.users.delete(username)
      if (user) { dropUser(user.id); announce({ kind: 'user', id: user.id }) }
      return user
    },
    count: () => inner.users.count(),
    scopeLists: () => inner.users.scopeLists()
  }

  const clientStore: ClientStore = {
    async create (client) {
      const created = await inner.clients.create(client)
      dropClient(created.id)
      announce({ kind: 'client', id: created.id })
      return created
    },
    async find (id) {
      const hit = clients.get(id)
      if (hit && fresh(hit.at)) return hit.client
      const client = await inner.clients.find(id)
      clients.set(id, { client, at: now() })
      return client
    },
    list: (page) => inner.clients.list(page),
    async update (id, patch) {
      const client = await inner.clients.update(id, patch)
      dropClient(id)
      announce({ kind: 'client', id })
      return client
    },
    async delete (id) {
      const client = await inner.clients.delete(id)
      dropClient(id)
      announce({ kind: 'client', id })
      return client
    },
    scopeLists: () => inner.clients.scopeLists()
  }

  /** After a revocation through this layer: mirror it before answering, and tell the other instances. */
  async function revoked<T> (result: T): Promise<T> {
    await sync()
    announce({ kind: 'revocations' })
    return result
  }

  const grantStore: GrantStore = {
    create: (grant, first) => inner.grants.create(grant, first),
    findGrant: (id) => inner.grants.findGrant(id),
    findToken: (hash) => inner.grants.findToken(hash),
    async rotate (hash, next, revoke) {
      const result = await inner.grants.rotate(hash, next, revoke)
      return result.outcome === 'reused' ? revoked(result) : result
    },
    revoke: async (grantId, revoke) => revoked(await inner.grants.revoke(grantId, revoke)),
    revokeForUser: async (userId, revoke) => revoked(await inner.grants.revokeForUser(userId, revoke)),
    revokeForClient: async (clientId, revoke) => revoked(await inner.grants.revokeForClient(clientId, revoke)),
    purgeExpired: (at) => inner.grants.purgeExpired(at)
  }

  const revocationStore: RevocationStore = {
    async add (ids, expiresAt) {
      await inner.revocations.add(ids, expiresAt)
      for (const id of ids) denied.set(id, Math.max(denied.get(id) ?? 0, expiresAt))
      announce({ kind: 'revocations' })
    },
    async anyRevoked (ids) {
      // Fail closed: a mirror that could not sync lately is not trusted with "no".
      if (now() - syncedAt > options.maxStaleMs) return inner.revocations.anyRevoked(ids)
      return ids.some((id) => denied.has(id))
    },
    listSince: (at) => inner.revocations.listSince(at),
    purgeExpired: (at) => inner.revocations.purgeExpired(at)
  }

  return {
    kind: inner.kind,
    users: userStore,
    clients: clientStore,
    grants: grantStore,
    revocations: revocationStore,
    keys: inner.keys,
    ping: () => inner.ping(),
    async close () {
      clearInterval(timer)
      await inner.close()
    },
    cache: {
      sync,
      clear () { users.clear(); clients.clear() }
    }
  }
}

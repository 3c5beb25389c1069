import { systemClock, type Clock } from '../clock.js'
import { BoundedLru, sweepEvery } from '../limits/lru.js'
import { denyEntry } from './deny-list.js'
import { ConflictError, type Client, type ClientStore, type GrantStore, type Resource, type ResourceStore, type RevocationStore, type Storage, type User, type UserStore } from './types.js'

/**
 * A read-through layer over a Storage for the per-request checks behind every bearer token (is it
 * revoked, does its user exist and is it enabled, does its client exist), so that steady traffic
 * costs no database round trip:
 *
 * - the access-token deny-list is mirrored in memory. Revocations made through this layer enter the
 *   mirror as they are written (and reach other instances' mirrors through `invalidations`, entries
 *   included); the rest (the CLI, instances without a bus) arrive with a sync every `syncMs`, which
 *   reads only entries created since the last one (a cursor on the database-stamped `createdAt`, with a
 *   few seconds of overlap for transactions that commit just after their timestamp). If the mirror has
 *   not synced for `maxStaleMs` (database trouble), checks go to the database again, so a stale mirror
 *   never answers "not revoked" (fail closed);
 * - users by id, clients by id and resources by URI (every token request naming one reads it) are kept for `ttlMs` and dropped at once by every write made
 *   through this layer (and, across instances, by `invalidations`, e.g. Redis pub/sub).
 *
 * So a change made here is seen here immediately; one made by another process (the CLI, another
 * instance) within `ttlMs`/`syncMs`, or immediately when an invalidation bus connects the instances.
 */
/** Re-read this much before the cursor on every sync: a row may become visible a little after its timestamp. */
const SYNC_OVERLAP_SECONDS = 3

export interface CacheOptions {
  ttlMs: number
  syncMs: number
  maxStaleMs: number
  clock?: Clock
}

/** Tells other instances what changed (Redis pub/sub) and hears what they changed. */
export interface InvalidationBus {
  publish (message: Invalidation): void
  subscribe (listener: (message: Invalidation) => void): void
}

export type Invalidation =
  | { kind: 'user', id: string }
  | { kind: 'client', id: string }
  /** A resource (RFC 8707) added or removed: its URI. */
  | { kind: 'resource', uri: string }
  /** Deny-list entries just written: [id, expiresAt] pairs. */
  | { kind: 'denied', entries: Array<[string, number]> }

export interface CachedStorage extends Storage {
  /** Re-syncs the deny-list mirror now; `peek` reads what is cached without waiting. */
  readonly cache: {
    sync (): Promise<void>
    readonly peek: CachePeek
    /** Lookups of users and clients since the start: answered from memory (hits) or by the store (misses). */
    stats (): Array<{ cache: 'users' | 'clients', hits: number, misses: number }>
  }
}

/**
 * Synchronous reads of the answers the cache holds now, under exactly the rules of the async reads (a
 * user or client entry younger than `ttlMs`, a deny-list mirror synced within `maxStaleMs`): undefined
 * when it does not hold the answer, and then the caller asks the async store. The bearer check's fast
 * path (lib/oauth/token-standing.ts `cachedTokenStanding`): no promise on a steady request.
 */
export interface CachePeek {
  /** Whether any of `ids` is on the deny-list; undefined while the mirror is not trusted (fail closed: ask the store). */
  anyRevoked (ids: string[]): boolean | undefined
  /** The cached answer for the user (`value` undefined: no such user), or undefined when not cached. */
  user (id: string): { readonly value: User | undefined } | undefined
  client (id: string): { readonly value: Client | undefined } | undefined
}

/** At most this many users and as many clients are cached per instance (ids come from requests: misses count). */
export const CACHED_ENTRIES_MAX = 10_000

/**
 * Entries by id for `ttlMs`, misses included, at most `maxEntries` (least recently used evicted first,
 * expired ones swept: lib/limits/lru.ts), so random ids cannot grow memory. A load that was in flight when any
 * entry was dropped is not stored (the generation moved on), so a write can never be undone by a read that
 * started before it.
 */
class TtlCache<T> {
  readonly #entries: BoundedLru<string, T>
  #generation = 0
  constructor (private readonly ttlMs: number, now: () => number, maxEntries = CACHED_ENTRIES_MAX) {
    this.#entries = new BoundedLru(maxEntries, now)
  }

  /** Lookups answered from memory, and those that went to the store (for /metrics: the hit rate). */
  hits = 0
  misses = 0

  get size (): number { return this.#entries.size }

  async get (id: string, load: (id: string) => Promise<T>): Promise<T> {
    // A cached miss is stored as null (BoundedLru uses undefined for "not there").
    const hit = this.#entries.get(id)
    if (hit !== undefined) {
      this.hits++
      return (hit === null ? undefined : hit) as T
    }
    this.misses++
    const generation = this.#generation
    const value = await load(id)
    if (this.#generation === generation) this.#entries.set(id, (value === undefined ? null : value) as T, this.ttlMs)
    return value
  }

  /** The entry when it is fresh (the same test as `get`), without loading anything. */
  peek (id: string): { readonly value: T } | undefined {
    const hit = this.#entries.get(id)
    // Not counted as a miss here: the caller then asks `get`, which counts it.
    if (hit === undefined) return undefined
    this.hits++
    return { value: (hit === null ? undefined : hit) as T }
  }

  drop (id: string): void {
    this.#entries.delete(id)
    this.#generation++
  }

  sweep (): void { this.#entries.sweep() }
}

export async function withReadCache (inner: Storage, options: CacheOptions, bus?: InvalidationBus): Promise<CachedStorage> {
  const now = (options.clock ?? systemClock).nowMs
  const users = new TtlCache<User | undefined>(options.ttlMs, now)
  const clients = new TtlCache<Client | undefined>(options.ttlMs, now)
  const resources = new TtlCache<Resource | undefined>(options.ttlMs, now)
  const denied = new Map<string, number>() // id → expiresAt (unix seconds)
  let syncedAt = -Infinity
  let cursor = 0 // the newest createdAt seen; the first sync reads the whole list
  let chain: Promise<void> = Promise.resolve()

  const deny = (id: string, expiresAt: number) => { denied.set(id, Math.max(denied.get(id) ?? 0, expiresAt)) }

  async function syncNow (): Promise<void> {
    const started = now()
    const rows = await inner.revocations.listSince(Math.max(0, cursor - SYNC_OVERLAP_SECONDS))
    for (const row of rows) {
      deny(row.id, row.expiresAt)
      cursor = Math.max(cursor, row.createdAt)
    }
    const nowSeconds = Math.floor(started / 1000)
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

  const dropUser = (id: string) => { users.drop(id) }
  const dropClient = (id: string) => { clients.drop(id) }
  const announce = (message: Invalidation) => bus?.publish(message)

  bus?.subscribe((message) => {
    if (message.kind === 'user') dropUser(message.id)
    else if (message.kind === 'client') dropClient(message.id)
    else if (message.kind === 'resource') resources.drop(message.uri)
    else for (const [id, expiresAt] of message.entries) deny(id, expiresAt)
  })

  await sync()
  const timer = setInterval(() => { sync().catch(() => {}) }, options.syncMs)
  timer.unref()
  const stopSweeping = sweepEvery(Math.max(options.ttlMs, 1000) * 10, users, clients, resources)

  const userStore: UserStore = {
    create: (user) => inner.users.create(user),
    findById: (id) => users.get(id, (key) => inner.users.findById(key)),
    findByUsername: (username) => inner.users.findByUsername(username),
    findByEmail: (email, limit) => inner.users.findByEmail(email, limit),
    list: (page) => inner.users.list(page),
    async update (username, patch) {
      const user = await inner.users.update(username, patch)
      if (user) { dropUser(user.id); announce({ kind: 'user', id: user.id }) }
      return user
    },
    // Only the hash changes, which no cached answer holds for a check (sign-in reads by username, uncached).
    replacePasswordHash: (username, expected, next) => inner.users.replacePasswordHash(username, expected, next),
    async delete (username) {
      const user = await inner.users.delete(username)
      if (user) { dropUser(user.id); announce({ kind: 'user', id: user.id }) }
      return user
    },
    count: () => inner.users.count(),
    async importBatch (batch, options) {
      const outcomes = await inner.users.importBatch(batch, options)
      // A created user may have been looked up (and missed) before: a user restored under its old sub. Dropped
      // here; elsewhere a cached miss for a new id lasts ttlMs at most, like any other (not worth a message each).
      for (const o of outcomes) {
        if (o.outcome === 'created') dropUser(o.id)
        else if (o.outcome === 'updated') { dropUser(o.id); announce({ kind: 'user', id: o.id }) }
      }
      return outcomes
    },
    listAfter: (after, limit) => inner.users.listAfter(after, limit),
    scopeLists: () => inner.users.scopeLists()
  }

  const clientStore: ClientStore = {
    async create (client) {
      let created: Client
      try {
        created = await inner.clients.create(client)
      } catch (err) {
        // A conflict means another process created it: a miss cached here is stale now.
        if (err instanceof ConflictError) dropClient(client.id)
        throw err
      }
      dropClient(created.id)
      announce({ kind: 'client', id: created.id })
      return created
    },
    find: (id) => clients.get(id, (key) => inner.clients.find(key)),
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
    scopeLists: () => inner.clients.scopeLists(),
    publicRedirectUris: () => inner.clients.publicRedirectUris(),
    // Dropped here so the next read sees the mark (and stops marking); another instance's stale copy only marks
    // again, which changes nothing (the store marks once).
    async markUsed (id, now) {
      await inner.clients.markUsed(id, now)
      dropClient(id)
    },
    // The purged clients were never used, so none is cached with tokens behind it; a cached copy answers at most
    // one TTL longer (as a client deleted on another instance does before its invalidation arrives).
    purgeUnusedRegistrations: (createdBefore) => inner.clients.purgeUnusedRegistrations(createdBefore)
  }

  const dropResource = (uri: string) => { resources.drop(uri); announce({ kind: 'resource', uri }) }
  const resourceStore: ResourceStore = {
    async create (resource) {
      const created = await inner.resources.create(resource)
      // A miss for this URI may be cached (an invalid_target a moment ago).
      dropResource(created.uri)
      return created
    },
    find: (uri) => resources.get(uri, (key) => inner.resources.find(key)),
    list: (page) => inner.resources.list(page),
    async delete (uri) {
      const removed = await inner.resources.delete(uri)
      dropResource(uri)
      return removed
    }
  }

  /** Entries this instance just wrote: into its mirror before the call returns, and to the other instances. */
  function mirror (ids: string[], expiresAt: number): void {
    if (ids.length === 0) return
    for (const id of ids) deny(id, expiresAt)
    announce({ kind: 'denied', entries: ids.map((id): [string, number] => [id, expiresAt]) })
  }
  const grantEntries = (grantIds: string[]) => grantIds.map(denyEntry.grant)

  const grantStore: GrantStore = {
    create: (grant, first) => inner.grants.create(grant, first),
    findGrant: (id) => inner.grants.findGrant(id),
    findToken: (hash) => inner.grants.findToken(hash),
    async rotate (hash, next, revoke) {
      const result = await inner.grants.rotate(hash, next, revoke)
      if (result.outcome === 'reused') mirror(grantEntries([result.grant.id]), revoke.denyUntil)
      return result
    },
    async revoke (grantId, revoke) {
      const grant = await inner.grants.revoke(grantId, revoke)
      if (grant) mirror(grantEntries([grant.id]), revoke.denyUntil)
      return grant
    },
    async revokeForUser (userId, revoke, clientId) {
      const ids = await inner.grants.revokeForUser(userId, revoke, clientId)
      mirror(grantEntries(ids), revoke.denyUntil)
      return ids
    },
    async revokeForClient (clientId, revoke) {
      const ids = await inner.grants.revokeForClient(clientId, revoke)
      mirror(grantEntries(ids), revoke.denyUntil)
      return ids
    },
    purgeExpired: (at) => inner.grants.purgeExpired(at)
  }

  const revocationStore: RevocationStore = {
    async add (ids, expiresAt) {
      await inner.revocations.add(ids, expiresAt)
      mirror(ids, expiresAt)
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
    sessions: inner.sessions,
    consents: inner.consents,
    codes: inner.codes,
    providers: inner.providers,
    identities: inner.identities,
    upstreamTransactions: inner.upstreamTransactions,
    housekeeping: inner.housekeeping,
    outbox: inner.outbox,
    accountLinks: inner.accountLinks,
    factors: inner.factors,
    passkeyChallenges: inner.passkeyChallenges,
    resources: resourceStore,
    registrationTokens: inner.registrationTokens,
    deviceCodes: inner.deviceCodes,
    pushedRequests: inner.pushedRequests,
    clientAssertions: inner.clientAssertions,
    securityEvents: inner.securityEvents,
    ping: () => inner.ping(),
    poolStats: inner.poolStats,
    async close () {
      clearInterval(timer)
      stopSweeping()
      await inner.close()
    },
    cache: {
      sync,
      stats: () => [
        { cache: 'users', hits: users.hits, misses: users.misses },
        { cache: 'clients', hits: clients.hits, misses: clients.misses }
      ],
      peek: {
        anyRevoked: (ids) => now() - syncedAt > options.maxStaleMs ? undefined : ids.some((id) => denied.has(id)),
        user: (id) => users.peek(id),
        client: (id) => clients.peek(id)
      }
    }
  }
}

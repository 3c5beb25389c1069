import { randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import { StoreUnavailableError } from '../lib/errors.js'
import { INSTANCE_STALE_SECONDS, jwksMaxAge, retainSeconds, trustedFor } from '../lib/keys/key-timing.js'
import {
  ensureSigningKey, keyLifecycle, loadKey, rotateSigningKey, signingKeyAt, type KeySet, type LoadedKey, type PublicJwk
} from '../lib/keys/signing-keys.js'
import type { SigningKey } from '../lib/stores/types.js'

export interface SigningKeys {
  /** The published keys, and the one that signs now. */
  current (): KeySet
  /** The JWKS document: public members only. */
  jwks (): { keys: PublicJwk[] }
  /** The JWKS `Cache-Control` max-age, in seconds (lib/keys/signing-keys.ts `jwksMaxAge`). */
  readonly jwksMaxAge: number
  /** Re-reads the keys from the store (also done every KEYS_REFRESH_SECONDS). */
  reload (): Promise<void>
  /**
   * Resolves (at once, in the common case) when the keys read last can be trusted to sign at `at`; reloads
   * them first when they are too old for that, and rejects with StoreUnavailableError when that fails.
   */
  confirm (at: number): Promise<void> | undefined
  /** Adds a new key; it signs once every instance has had time to publish it. */
  rotate (): Promise<{ kid: string, activatesAt: number }>
  onChange (listener: (keys: KeySet) => void): void
}

declare module 'fastify' {
  interface FastifyInstance {
    signingKeys: SigningKeys
  }
}

/**
 * The signing keys live in the store, never in local files, so every instance serves the same JWKS.
 * The first start creates one; `keys rotate` (CLI or admin API, on any instance) adds one, which every
 * running instance publishes on its next reload and signs with from its `activatesAt` (lib/keys/signing-keys.ts has
 * every timing rule). A failed reload changes nothing: retired keys stay published.
 */
export default fp(async (fastify) => {
  const { config, storage, clock } = fastify
  const retain = retainSeconds(config)
  const instance = randomUUID()
  const listeners: Array<(keys: KeySet) => void> = []
  const loaded = new Map<string, LoadedKey>()
  let published: LoadedKey[] = []
  /** Until when (seconds) the keys read last can be trusted to sign. */
  let trustedUntil = -Infinity
  let reloading: Promise<void> | undefined

  const load = (k: SigningKey): LoadedKey => {
    let key = loaded.get(k.kid)
    // A key whose private part the store has deleted (it retired) keeps only its public part here too.
    if (key && key.privateKey && k.privateKey === null) key = { ...key, privateKey: undefined }
    if (!key) key = loadKey(k)
    loaded.set(k.kid, key)
    return key
  }

  const keySet = (now: number): KeySet => {
    const active = signingKeyAt(published, now)
    if (!active) throw new Error('no signing key in the store can sign now')
    return { active, published }
  }

  async function readKeys (): Promise<void> {
    const now = clock.now()
    const [stored] = await Promise.all([
      storage.keys.list(),
      storage.keys.heartbeat(instance, config.keyPublishDelaySeconds, now, now - INSTANCE_STALE_SECONDS)
    ])
    const life = keyLifecycle(stored, now, retain)
    // A retired key's private part is deleted from the store below: forget it here too.
    const retired = new Set(life.retiredPrivate.map((k) => k.kid))
    const next = life.published.map((k) => load(retired.has(k.kid) ? { ...k, privateKey: null } : k))
    if (!signingKeyAt(next, now)) throw new Error('no signing key in the store can sign now')
    for (const kid of loaded.keys()) if (!next.some((k) => k.kid === kid)) loaded.delete(kid)
    const changed = published.length !== next.length || published.some((k, i) => k !== next[i])
    published = next
    trustedUntil = now + trustedFor(config)
    if (changed) for (const listener of listeners) listener(keySet(now))
    // Housekeeping any instance may do (deleting twice is harmless); if it fails, the next reload retries.
    if (life.dropped.length > 0 || life.retiredPrivate.length > 0) {
      try {
        await storage.keys.deletePrivateKeys(life.retiredPrivate.map((k) => k.kid))
        await storage.keys.delete(life.dropped.map((k) => k.kid))
      } catch (err) {
        fastify.log.warn({ err }, 'deleting retired signing keys failed; retrying at the next reload')
      }
    }
  }

  /** One reload at a time: concurrent callers share it. */
  function reload (): Promise<void> {
    reloading ??= readKeys().finally(() => { reloading = undefined })
    return reloading
  }

  await ensureSigningKey(storage.keys, clock.now())
  await reload()

  const timer = setInterval(() => {
    reload().catch((err) => fastify.log.warn({ err }, 'reloading signing keys failed; keeping the current ones (retired keys stay published)'))
  }, config.keysRefreshSeconds * 1000).unref()
  fastify.addHook('onClose', async () => {
    clearInterval(timer)
    await storage.keys.leave(instance).catch(() => {})
  })

  fastify.decorate('signingKeys', {
    current: () => keySet(clock.now()),
    jwks: () => ({ keys: published.map((k) => k.publicJwk) }),
    jwksMaxAge: jwksMaxAge(config),
    reload,
    confirm (at) {
      if (at < trustedUntil) return undefined
      return reload().catch((err) => {
        fastify.log.warn({ err }, 'signing keys could not be confirmed: not signing')
        throw err instanceof StoreUnavailableError ? err : new StoreUnavailableError(err)
      })
    },
    async rotate () {
      await reload() // renews this instance's heartbeat, so its own delay is among those agreed on
      const key = await rotateSigningKey(storage.keys, clock, config.keyPublishDelaySeconds)
      await reload()
      return { kid: key.kid, activatesAt: key.activatesAt }
    },
    onChange (listener) {
      listeners.push(listener)
      listener(keySet(clock.now()))
    }
  } satisfies SigningKeys)
}, { name: 'signing-keys', dependencies: ['config', 'clock', 'storage'] })

import fp from 'fastify-plugin'
import { ensureSigningKey, loadKey, rotateSigningKey, selectKeys, type KeySet, type LoadedKey, type PublicJwk } from '../lib/keys.js'
import { CLOCK_LEEWAY_SECONDS } from '../lib/oauth/access-tokens.js'

export interface SigningKeys {
  current (): KeySet
  /** The JWKS document: public members only. */
  jwks (): { keys: PublicJwk[] }
  /** Re-reads the keys from the store (also done every KEYS_REFRESH_SECONDS). */
  reload (): Promise<void>
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
 * running instance picks up on its next refresh without a restart.
 */
export default fp(async (fastify) => {
  const { config, storage } = fastify
  // A retired key stays published as long as a token it signed can be valid.
  const retainSeconds = config.accessTokenTtl + CLOCK_LEEWAY_SECONDS
  const listeners: Array<(keys: KeySet) => void> = []
  const loaded = new Map<string, LoadedKey>()
  let keys: KeySet

  async function reload (): Promise<void> {
    const now = fastify.clock.now()
    const selection = selectKeys(await storage.keys.list(), now, retainSeconds)
    if (!selection.active) throw new Error('no active signing key in the store')
    const load = (k: typeof selection.published[number]) => {
      let key = loaded.get(k.kid)
      if (!key) loaded.set(k.kid, key = loadKey(k))
      return key
    }
    const next = { active: load(selection.active), published: selection.published.map(load) }
    for (const kid of loaded.keys()) if (!next.published.some((k) => k.kid === kid)) loaded.delete(kid)
    const changed = !keys || keys.active.kid !== next.active.kid ||
      keys.published.map((k) => k.kid).join() !== next.published.map((k) => k.kid).join()
    keys = next
    if (changed) for (const listener of listeners) listener(keys)
  }

  await ensureSigningKey(storage.keys, fastify.clock.now())
  await reload()

  const timer = setInterval(() => {
    reload().catch((err) => fastify.log.warn({ err }, 'reloading signing keys failed; keeping the current ones'))
  }, config.keysRefreshSeconds * 1000).unref()
  fastify.addHook('onClose', async () => clearInterval(timer))

  fastify.decorate('signingKeys', {
    current: () => keys,
    jwks: () => ({ keys: keys.published.map((k) => k.publicJwk) }),
    reload,
    async rotate () {
      const key = await rotateSigningKey(storage.keys, fastify.clock.now(), config.keyPublishDelaySeconds)
      await reload()
      return { kid: key.kid, activatesAt: key.activatesAt }
    },
    onChange (listener) {
      listeners.push(listener)
      listener(keys)
    }
  } satisfies SigningKeys)
}, { name: 'signing-keys', dependencies: ['config', 'clock', 'storage'] })

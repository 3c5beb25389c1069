import fp from 'fastify-plugin'
import type { AppOptions } from '../lib/http/app-options.js'
import { KeyRing } from '../lib/keys/key-ring.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The key ring (lib/keys/key-ring.ts): `current()`, `jwks()`, `jwksMaxAge`, `reload()`, `confirm(at)`, `rotate()`, `onChange()`. */
    signingKeys: KeyRing
  }
}

/** The signing keys, read from the store at start and again every KEYS_REFRESH_SECONDS; the rules are the key ring's. */
export default fp<AppOptions>(async (fastify, opts) => {
  const { config, storage, clock } = fastify
  const keyRing = new KeyRing({ storage, clock, config, log: fastify.log, initialKeyMaterial: opts.initialKeyMaterial })
  await keyRing.open()
  const timer = setInterval(() => {
    keyRing.reload().catch((err) => fastify.log.warn({ err }, 'reloading signing keys failed; keeping the current ones (retired keys stay published)'))
  }, config.keysRefreshSeconds * 1000).unref()
  fastify.addHook('onClose', async () => {
    clearInterval(timer)
    await keyRing.close()
  })
  fastify.decorate('signingKeys', keyRing)
}, { name: 'signing-keys', dependencies: ['config', 'clock', 'storage'] })

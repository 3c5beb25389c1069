import fp from 'fastify-plugin'
import type { AppOptions } from '../lib/app-options.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Unix seconds. Everything that compares against expiry reads time here, so tests can move it. */
    now: () => number
  }
}

export default fp<AppOptions>(async (fastify, opts) => {
  fastify.decorate('now', opts.now ?? (() => Math.floor(Date.now() / 1000)))
}, { name: 'clock' })

import fp from 'fastify-plugin'
import type { AppOptions } from '../lib/http/app-options.js'
import { systemClock, type Clock } from '../lib/clock.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The one clock: everything that compares against expiry reads time here, so tests can move it. */
    clock: Clock
  }
}

export default fp<AppOptions>(async (fastify, opts) => {
  fastify.decorate('clock', opts.clock ?? systemClock)
}, { name: 'clock' })

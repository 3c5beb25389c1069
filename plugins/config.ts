import fp from 'fastify-plugin'
import { loadConfig, type Config } from '../lib/config.js'
import type { AppOptions } from '../lib/http/app-options.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
  }
}

/** The validated configuration; the only place the environment is read (server.ts passes it in when it has it). */
export default fp<AppOptions>(async (fastify, opts) => {
  fastify.decorate('config', opts.config ?? loadConfig(opts.env ?? process.env))
}, { name: 'config' })

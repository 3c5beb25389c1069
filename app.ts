import autoload from '@fastify/autoload'
import type { FastifyInstance } from 'fastify'
import { join, resolve } from 'node:path'
import type { AppOptions } from './lib/http/app-options.js'

export type { AppOptions }

/**
 * The root plugin, and nothing else: it autoloads plugins/ (ordered by their declared dependencies),
 * then PLUGINS_DIR, then routes/, then ROUTES_DIR: drop a file into one of those folders and it is
 * loaded. Tests build this; server.ts owns the process around it.
 */
export default async function app (fastify: FastifyInstance, opts: AppOptions): Promise<void> {
  await fastify.register(autoload, { dir: join(import.meta.dirname, 'plugins'), options: opts })
  const { pluginsDir, routesDir } = fastify.config
  if (pluginsDir) await fastify.register(autoload, { dir: resolve(pluginsDir), options: opts })
  await fastify.register(autoload, { dir: join(import.meta.dirname, 'routes'), dirNameRoutePrefix: false, options: opts })
  if (routesDir) await fastify.register(autoload, { dir: resolve(routesDir), dirNameRoutePrefix: false, options: opts })
}

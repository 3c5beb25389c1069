import type { FastifyPluginAsync } from 'fastify'
import { dashboardCounts } from '../../lib/console/dashboard.js'
import { consoleSchemas } from '../../schemas/console.js'
import type { ConsoleDeps } from './deps.js'

/** GET /console: what there is (users, clients, sessions) and where to go. */
const dashboard: FastifyPluginAsync<ConsoleDeps> = async (fastify) => {
  fastify.get('/console', { schema: consoleSchemas.dashboard, config: { browser: 'page' } }, async (_request, reply) =>
    reply.consolePage('dashboard', { counts: await dashboardCounts(fastify.storage) }))
}

export default dashboard

import type { FastifyPluginAsync } from 'fastify'
import { listEvents, type EventPage } from '../../lib/admin/events.js'
import { EVENT_MESSAGES } from '../../lib/ops/events.js'
import { GatehouseError } from '../../lib/errors.js'
import { consoleEventSchemas } from '../../schemas/console-events.js'
import { SECURITY_EVENT_TYPES } from '../../schemas/events.js'
import type { ConsoleDeps } from './deps.js'

/** The filters the page keeps in its links (the Older link, the form's values). */
const FILTERS = ['type', 'user', 'client_id'] as const

/**
 * The console's security events page: the stored events (lib/admin/events.ts, as GET /admin/events lists them), a
 * filter form (type, user, client) and an "Older" link carrying the cursor. A filter the rules refuse (an unknown
 * type, a bad limit) shows its message on the page. It changes nothing, so it writes no admin_change.
 */
const events: FastifyPluginAsync<ConsoleDeps> = async (fastify) => {
  const { storage } = fastify

  fastify.get('/console/events', { schema: consoleEventSchemas.events, config: { browser: 'page' } }, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>
    const filters = Object.fromEntries(FILTERS.map((name) => [name, query[name]?.trim() ?? ''])) as Record<typeof FILTERS[number], string>
    const types = SECURITY_EVENT_TYPES.map((type) => ({ type, label: EVENT_MESSAGES[type] }))
    let found: EventPage
    try {
      found = await listEvents(storage, { ...filters, before: query.before, limit: query.limit })
    } catch (err) {
      if (!(err instanceof GatehouseError) || err.statusCode !== 400) throw err
      return reply.consolePage('events', { filters, types, events: [], older: undefined, paged: false, problem: err.message }, { status: 400 })
    }
    const link = (extra: Record<string, string>): string => {
      const params = new URLSearchParams()
      for (const name of FILTERS) if (filters[name] !== '') params.set(name, filters[name])
      if (query.limit !== undefined && query.limit !== '') params.set('limit', query.limit)
      for (const [name, value] of Object.entries(extra)) params.set(name, value)
      const text = params.toString()
      return `/console/events${text === '' ? '' : `?${text}`}`
    }
    const older = found.next_before === null ? undefined : link({ before: String(found.next_before) })
    const paged = query.before !== undefined && query.before !== ''
    return reply.consolePage('events', { filters, types, events: found.events, older, newest: paged ? link({}) : undefined, paged })
  })
}

export default events

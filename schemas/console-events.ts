import { page } from './console.js'

/** The console's events page (routes/console/events.ts): its filters are read as text and judged by lib/admin/events.ts. */
export const consoleEventSchemas = {
  events: page('consoleEvents', 'Security events', 'Recent security events, newest first, filtered by `type`, `user` (a username) and `client_id`, ' +
    'as GET /admin/events lists them; `before` (an id) and `limit` page them, the "Older" link carries the next `before`.')
}

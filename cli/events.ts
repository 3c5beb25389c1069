import { listEvents } from '../lib/admin/events.js'
import { EVENTS_PAGE_MAX } from '../schemas/events.js'
import { command, type CommandGroup } from './command.js'

/** `gatehouse events …`: the stored security events (lib/admin/events.ts), as GET /admin/events lists them. */
export const events: CommandGroup = {
  name: 'events',
  summary: 'recent security events, as stored by the server (docs/operating.md)',
  commands: [
    command({
      name: 'list',
      operations: ['listSecurityEvents'],
      summary: 'recent security events, newest first, as JSON: { events, next_before } as GET /admin/events answers',
      usage: ['[--type TYPE] [--user USERNAME] [--client CLIENT_ID] [--limit N] [--before ID]'],
      details: [
        'A user\'s events are found whichever way the event named them: by the user\'s id, by the digest of the username as typed at a failed sign-in, or as the target of an admin_change. ' +
        `Pass next_before as --before for the next (older) page; --limit is at most ${EVENTS_PAGE_MAX} (default 50). The server writes events within a second of them happening.`
      ],
      positionals: false,
      flags: {
        type: { type: 'string', value: 'TYPE', description: 'only events of this type (login_failed, admin_change …)' },
        user: { type: 'string', value: 'USERNAME', description: 'only this user\'s events' },
        client: { type: 'string', value: 'CLIENT_ID', description: 'only events naming this client' },
        limit: { type: 'string', value: 'N', description: 'at most this many' },
        before: { type: 'string', value: 'ID', description: 'only events older than this id (the next_before of the page before)' }
      },
      async run ({ values }, { storage }) {
        return listEvents(await storage(), { type: values.type, user: values.user, client_id: values.client, limit: values.limit, before: values.before })
      }
    })
  ]
}

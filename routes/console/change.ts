import type { FastifyRequest } from 'fastify'
import { adminChange } from '../../lib/admin/actor.js'

/**
 * A change made in the console, as the admin_change event the admin API writes (lib/admin/actor.ts adminChange):
 * the console user as actor, the page's method and route as action, `target` the record changed; the form's field
 * names without the CSRF field (never their values).
 */
export function logChange (request: FastifyRequest, target: string): void {
  const { csrf: _csrf, ...fields } = request.formFields()
  request.server.events.emit(adminChange({
    actor: request.consoleSession?.user.username ?? '',
    action: `${request.method} ${request.routeOptions.url ?? ''}`,
    params: undefined,
    created: target,
    body: fields
  }), request.log)
}

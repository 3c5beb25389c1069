import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { addResource, removeResource, toResourceView } from '../../lib/admin/resources.js'
import { doneMessage } from '../../lib/console/done.js'
import { pageOf } from '../../lib/console/users.js'
import { GatehouseError, invalidInput } from '../../lib/errors.js'
import type { Page } from '../../lib/stores/types.js'
import { consoleProviderSchemas } from '../../schemas/console-providers.js'
import { logChange } from './change.js'
import type { ConsoleDeps } from './deps.js'

/** A form field as text ('' when absent); lib/admin/resources.ts judges it. */
const text = (fields: Record<string, unknown>, name: string): string => typeof fields[name] === 'string' ? fields[name] : ''

/** What the list says after a change (its `done` query: fixed words, nothing of the URL is echoed). */
const DONE: Record<string, string> = {
  added: 'Added: clients may ask for tokens for it now.',
  removed: 'Removed: its tokens are no longer active, and no grant may name it again.'
}

/**
 * The console's resources page: RFC 8707 resources a page at a time (as GET /admin/resources), the form that adds
 * one and a form a row that removes it. Every rule is the admin API's (lib/admin/resources.ts: addResource,
 * removeResource); every change is an admin_change event naming the resource's URI (change.ts).
 */
const resources: FastifyPluginAsync<ConsoleDeps> = async (fastify) => {
  const { storage, config } = fastify

  async function resourcesPage (reply: FastifyReply, page: Page, extra: Record<string, unknown> = {}, status = 200): Promise<FastifyReply> {
    const list = await storage.resources.list(page)
    return reply.consolePage('resources', { resources: list.map(toResourceView), page, more: list.length === page.limit, values: {}, ...extra }, { status })
  }

  fastify.get('/console/resources', { schema: consoleProviderSchemas.resources, config: { browser: 'page' } }, async (request, reply) => {
    const query = request.query as { limit?: string, offset?: string, done?: string }
    return resourcesPage(reply, pageOf(query), { done: doneMessage(DONE, query.done) })
  })

  fastify.post('/console/resources', { schema: consoleProviderSchemas.createResource, config: { browser: 'form' } }, async (request, reply) => {
    const fields = request.formFields()
    // The URI byte for byte (it is the tokens' aud); the name and scope as the admin API takes them.
    const values = { uri: text(fields, 'uri'), name: text(fields, 'name'), scope: text(fields, 'scope') }
    try {
      const resource = await addResource({ storage, audience: config.audience }, values)
      logChange(request, resource.uri)
      return reply.redirect('/console/resources?done=added', 303)
    } catch (err) {
      return refusal(err, () => resourcesPage(reply, pageOf({}), { values, problem: (err as Error).message }, (err as GatehouseError).statusCode))
    }
  })

  fastify.post('/console/resources/remove', { schema: consoleProviderSchemas.removeResource, config: { browser: 'form' } }, async (request, reply) => {
    const fields = request.formFields()
    const uri = text(fields, 'uri')
    try {
      // Its tokens stop being active at once: the form asks to confirm it with a ticked box.
      if (fields.confirm === undefined) throw invalidInput(`tick "Yes, remove" to remove ${uri.slice(0, 200)}`)
      const removed = await removeResource(storage, uri)
      logChange(request, removed.uri)
      return reply.redirect('/console/resources?done=removed', 303)
    } catch (err) {
      if (err instanceof GatehouseError && err.statusCode === 404) throw err
      return refusal(err, () => resourcesPage(reply, pageOf({}), { problem: (err as Error).message }, (err as GatehouseError).statusCode))
    }
  })

  /** A refusal by a lib/admin rule (400, 409): the page again with its message; anything else is the error page. */
  function refusal (err: unknown, render: () => Promise<FastifyReply>): Promise<FastifyReply> {
    if (!(err instanceof GatehouseError) || err.statusCode >= 500 || err.statusCode === 403) throw err
    return render()
  }
}

export default resources

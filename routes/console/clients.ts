import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { createClient, deleteClient, findClient, issuerOnLoopback, toClientView, updateClient } from '../../lib/admin/clients.js'
import { doneMessage } from '../../lib/console/done.js'
import { createInput, FORM_GRANT_TYPES, updatePatch } from '../../lib/console/clients.js'
import { pageOf } from '../../lib/console/users.js'
import { GatehouseError, invalidInput } from '../../lib/errors.js'
import { consoleSchemas, type ClientAction } from '../../schemas/console.js'
import { logChange } from './change.js'
import type { ConsoleDeps } from './deps.js'

/** What the client page says after each action (its `done` query); a new secret is never in a URL, so not here. */
const DONE: Partial<Record<ClientAction | 'created', string>> = { created: 'Created.', update: 'Saved.' }

/**
 * The console's clients pages: the list (pages), the create form, one client (edit, rotate the secret, delete). Every
 * rule is the admin API's (lib/admin/clients.ts: createClient, updateClient, deleteClient); the forms are only read
 * into its inputs (lib/console/clients.ts). A secret is shown once, on the answer to the post that made it (never a
 * redirect, never stored): the pages are no-store. Every change is an admin_change event (change.ts).
 */
const clients: FastifyPluginAsync<ConsoleDeps> = async (fastify) => {
  const { storage, clock, config } = fastify
  const deps = { storage, clock, config }

  fastify.get('/console/clients', { schema: consoleSchemas.clients, config: { browser: 'page' } }, async (request, reply) => {
    const page = pageOf(request.query as { limit?: string, offset?: string })
    const list = await storage.clients.list(page)
    return reply.consolePage('clients', { clients: list.map(toClientView), page, more: list.length === page.limit })
  })

  fastify.get('/console/clients/new', { schema: consoleSchemas.newClient, config: { browser: 'page' } }, async (_request, reply) =>
    reply.consolePage('client-new', { values: { grantTypes: ['authorization_code', 'refresh_token'], redirectUris: [] }, grants: FORM_GRANT_TYPES }))

  fastify.post('/console/clients', { schema: consoleSchemas.createClient, config: { browser: 'form' } }, async (request, reply) => {
    const { id, input } = createInput(request.formFields())
    try {
      const { client, secret } = await createClient(storage, id, input, { issuerOnLoopback: issuerOnLoopback(config.issuer) })
      logChange(request, client.id)
      if (secret === undefined) return reply.redirect(`/console/clients/${encodeURIComponent(client.id)}?done=created`, 303)
      return reply.consolePage('client-secret', { client: toClientView(client), secret, created: true })
    } catch (err) {
      return refusal(reply, err, () => reply.consolePage('client-new', { values: { id, ...input }, grants: FORM_GRANT_TYPES, problem: (err as Error).message }, { status: (err as GatehouseError).statusCode }))
    }
  })

  async function clientPage (reply: FastifyReply, id: string, extra: Record<string, unknown> = {}, status = 200): Promise<FastifyReply> {
    const client = await findClient(storage, id)
    return reply.consolePage('client', { client: toClientView(client), grants: FORM_GRANT_TYPES, ...extra }, { status })
  }

  fastify.get('/console/clients/:clientId', { schema: consoleSchemas.client, config: { browser: 'page' } }, async (request, reply) => {
    const done = (request.query as { done?: string }).done
    return clientPage(reply, (request.params as { clientId: string }).clientId, { done: doneMessage(DONE, done) })
  })

  fastify.post('/console/clients/:clientId/:action', { schema: consoleSchemas.clientAction, config: { browser: 'form' } }, async (request, reply) => {
    const { clientId, action } = request.params as { clientId: string, action: ClientAction }
    const fields = request.formFields()
    try {
      if (action === 'update') {
        const current = await findClient(storage, clientId)
        await updateClient(deps, clientId, updatePatch(fields, current))
      } else if (action === 'rotate-secret') {
        const { client, secret } = await updateClient(deps, clientId, { rotateSecret: true })
        logChange(request, clientId)
        return reply.consolePage('client-secret', { client: toClientView(client), secret, created: false })
      } else {
        // A deletion revokes every grant of the client: the form asks to confirm it with a ticked box.
        if (fields.confirm === undefined) throw invalidInput('tick "Yes, delete this client" to delete it')
        await deleteClient(deps, clientId)
        logChange(request, clientId)
        return reply.redirect(`/console/clients?deleted=${encodeURIComponent(clientId)}`, 303)
      }
    } catch (err) {
      if (err instanceof GatehouseError && err.statusCode === 404) throw err
      return refusal(reply, err, () => clientPage(reply, clientId, { problem: (err as Error).message }, (err as GatehouseError).statusCode))
    }
    logChange(request, clientId)
    return reply.redirect(`/console/clients/${encodeURIComponent(clientId)}?done=${action}`, 303)
  })

  /** A refusal by a lib/admin rule (400, 409): the page again with its message; anything else is the error page. */
  function refusal (_reply: FastifyReply, err: unknown, render: () => Promise<FastifyReply>): Promise<FastifyReply> {
    if (!(err instanceof GatehouseError) || err.statusCode >= 500 || err.statusCode === 403) throw err
    return render()
  }
}

export default clients

import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { createProvider, deleteProvider, getProvider, listProviders, updateProvider, type ProviderDiscovery, type ProviderEndpoints } from '../../lib/admin/providers.js'
import { doneMessage } from '../../lib/console/done.js'
import { providerInput, providerPatch } from '../../lib/console/providers.js'
import { GatehouseError, invalidInput } from '../../lib/errors.js'
import { consoleProviderSchemas, type ProviderAction } from '../../schemas/console-providers.js'
import { logChange } from './change.js'
import type { ConsoleDeps } from './deps.js'

/** What the provider page says after each action (its `done` query). */
const REGISTER = 'Register its redirect URI (below) at the provider before anyone signs in with it.'
const DONE: Partial<Record<ProviderAction | 'created' | 'created-checked' | 'created-plain' | 'update-checked', string>> = {
  created: `Added. ${REGISTER}`,
  'created-checked': `Added; its discovery document was read. ${REGISTER}`,
  'created-plain': `Added. A plain OAuth 2.0 provider has no discovery document: its endpoints are used as given. ${REGISTER}`,
  update: 'Saved: the next sign-in uses these settings.',
  'update-checked': 'Saved; its discovery document was read. The next sign-in uses these settings.'
}

/** The done key of a create or update: whether a discovery check ran, and what it could read. */
const checked = (action: 'created' | 'update', discovery: ProviderDiscovery | undefined): string =>
  discovery === undefined ? action : discovery.discovered ? `${action}-checked` : action === 'created' ? 'created-plain' : action

/**
 * The console's upstream providers pages: the list (all of them, as GET /admin/providers: providers are few), the
 * add form, one provider (its settings and redirect URI, edit, remove). Every rule is the admin API's
 * (lib/admin/providers.ts: createProvider, updateProvider, deleteProvider); the forms are only read into its inputs
 * (lib/console/providers.ts). The client secret is write-only: no page shows it. Every change is an admin_change
 * event (change.ts).
 */
const providers: FastifyPluginAsync<ConsoleDeps> = async (fastify) => {
  const { storage, config } = fastify
  // The "Check the provider's discovery document now" box: UpstreamClients.check, before anything is stored.
  const deps = { storage, config, discover: (provider: ProviderEndpoints) => fastify.providers.upstream.check(provider) }

  fastify.get('/console/providers', { schema: consoleProviderSchemas.providers, config: { browser: 'page' } }, async (request, reply) => {
    const done = (request.query as { done?: string }).done === 'deleted' ? 'Removed: its sign-in button is gone.' : undefined
    return reply.consolePage('providers', { providers: await listProviders(deps), done })
  })

  fastify.get('/console/providers/new', { schema: consoleProviderSchemas.newProvider, config: { browser: 'page' } }, async (_request, reply) =>
    reply.consolePage('provider-new', { values: { create_users: true, check_discovery: true, claims: {} } }))

  fastify.post('/console/providers', { schema: consoleProviderSchemas.createProvider, config: { browser: 'form' } }, async (request, reply) => {
    const fields = request.formFields()
    const input = providerInput(fields)
    try {
      const provider = await createProvider(deps, input)
      logChange(request, provider.name)
      return reply.redirect(`/console/providers/${encodeURIComponent(provider.name)}?done=${checked('created', provider.discovery)}`, 303)
    } catch (err) {
      // The form again with what was typed, but never the secret.
      const { client_secret: _secret, ...values } = fields
      return refusal(err, () => reply.consolePage('provider-new', { values: { ...values, claims: claimValues(fields) }, problem: (err as Error).message }, { status: (err as GatehouseError).statusCode }))
    }
  })

  async function providerPage (reply: FastifyReply, name: string, extra: Record<string, unknown> = {}, status = 200): Promise<FastifyReply> {
    return reply.consolePage('provider', { provider: await getProvider(deps, name), ...extra }, { status })
  }

  fastify.get('/console/providers/:name', { schema: consoleProviderSchemas.provider, config: { browser: 'page' } }, async (request, reply) => {
    const done = (request.query as { done?: string }).done
    return providerPage(reply, (request.params as { name: string }).name, { done: doneMessage(DONE, done) })
  })

  fastify.post('/console/providers/:name/:action', { schema: consoleProviderSchemas.providerAction, config: { browser: 'form' } }, async (request, reply) => {
    const { name, action } = request.params as { name: string, action: ProviderAction }
    const fields = request.formFields()
    let done: string = action
    try {
      if (action === 'update') {
        done = checked('update', (await updateProvider(deps, name, providerPatch(fields))).discovery)
      } else {
        // Its sign-in button goes at once: the form asks to confirm it with a ticked box.
        if (fields.confirm === undefined) throw invalidInput('tick "Yes, remove this provider" to remove it')
        const removed = await deleteProvider(deps, name)
        logChange(request, removed.name)
        return reply.redirect('/console/providers?done=deleted', 303)
      }
    } catch (err) {
      if (err instanceof GatehouseError && err.statusCode === 404) throw err
      return refusal(err, () => providerPage(reply, name, { problem: (err as Error).message }, (err as GatehouseError).statusCode))
    }
    logChange(request, name)
    return reply.redirect(`/console/providers/${encodeURIComponent(name)}?done=${done}`, 303)
  })

  /** A refusal by a lib/admin rule (400, 409): the page again with its message; anything else is the error page. */
  function refusal (err: unknown, render: () => Promise<FastifyReply>): Promise<FastifyReply> {
    if (!(err instanceof GatehouseError) || err.statusCode >= 500 || err.statusCode === 403) throw err
    return render()
  }
}

/** The claim fields of a refused create form, as the form shows them again. */
const claimValues = (fields: Record<string, unknown>) => Object.fromEntries(['subject', 'email', 'email_verified', 'name', 'username']
  .map((what) => [what, typeof fields[`claim_${what}`] === 'string' ? fields[`claim_${what}`] : '']))

export default providers

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { createProvider, deleteProvider, getProvider, listIdentities, listProviders, unlinkIdentity, updateProvider, type ProviderEndpoints, type ProviderPatchInput } from '../../lib/admin/providers.js'
import { adminBodyErrors, adminDeletion, adminErrors, adminSecurity, UsernameParam } from '../../schemas/admin.js'
import { ref } from '../../schemas/common.js'
import { CreateProvider, IdentityView, ProviderNameParam, ProviderView, UpdateProvider } from '../../schemas/providers.js'

type ClaimsBody = { subject?: string, email?: string, email_verified?: string, name?: string, username?: string }
type ProviderBody = {
  issuer?: string,
  client_id?: string,
  client_secret?: string,
  scope?: string,
  display_name?: string,
  link_by_email?: boolean,
  link_linked_accounts?: boolean,
  create_users?: boolean,
  authorization_endpoint?: string,
  token_endpoint?: string,
  userinfo_endpoint?: string,
  claims?: ClaimsBody,
  check_discovery?: boolean
}

/** The admin API's snake_case body as the service's input. */
function providerInput (b: ProviderBody): ProviderPatchInput {
  return {
    issuer: b.issuer,
    clientId: b.client_id,
    clientSecret: b.client_secret,
    scope: b.scope,
    displayName: b.display_name,
    linkByEmail: b.link_by_email,
    linkLinkedAccounts: b.link_linked_accounts,
    createUsers: b.create_users,
    authorizationEndpoint: b.authorization_endpoint,
    tokenEndpoint: b.token_endpoint,
    userinfoEndpoint: b.userinfo_endpoint,
    claims: b.claims && {
      subject: b.claims.subject,
      email: b.claims.email,
      emailVerified: b.claims.email_verified,
      name: b.claims.name,
      username: b.claims.username
    },
    checkDiscovery: b.check_discovery
  }
}

/** /admin/providers (upstream identity providers) and a user's linked accounts (scope admin). */
const adminProviderRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, config } = fastify
  // check_discovery reads the provider's discovery document before anything is stored (UpstreamClients.check).
  const deps = { storage, config, discover: (provider: ProviderEndpoints) => fastify.providers.upstream.check(provider) }
  fastify.requireAdmin(fastify)
  const tags = ['admin']

  fastify.get('/admin/providers', {
    schema: {
      operationId: 'listProviders',
      tags,
      security: adminSecurity,
      summary: 'List upstream providers',
      description: 'Every provider users may sign in with, by name. Client secrets are never shown.',
      response: { 200: Type.Array(ref(ProviderView), { description: 'the providers' }), ...adminErrors }
    }
  }, async () => listProviders(deps))

  fastify.post('/admin/providers', {
    schema: {
      operationId: 'createProvider',
      tags,
      security: adminSecurity,
      summary: 'Register an upstream provider',
      description: 'An OpenID provider by its issuer (endpoints from its discovery document), or a plain OAuth 2.0 provider by its endpoints. ' +
        'The reply gives the redirect_uri to register at the provider; the client secret is stored and never shown again. ' +
        'With check_discovery, the provider\'s discovery document is read first (as a sign-in would, within UPSTREAM_TIMEOUT_MS): ' +
        'when that fails the answer is a 400 saying why ("discovery failed: …") and nothing is stored; when it works the reply\'s ' +
        '`discovery` says what the document gave. Without it the document is first read at the first sign-in.',
      body: CreateProvider,
      response: { 201: ref(ProviderView, 'the new provider'), ...adminBodyErrors }
    }
  }, async (request, reply) => {
    const view = await createProvider(deps, { ...providerInput(request.body), name: request.body.name } as Parameters<typeof createProvider>[1])
    request.adminTarget = view.name
    return reply.code(201).send(view)
  })

  fastify.get('/admin/providers/:name', {
    schema: {
      operationId: 'getProvider',
      tags,
      security: adminSecurity,
      summary: 'Read an upstream provider',
      description: 'One provider by name (never its client secret).',
      params: ProviderNameParam,
      response: { 200: ref(ProviderView, 'the provider'), ...adminErrors }
    }
  }, async (request) => getProvider(deps, request.params.name))

  fastify.patch('/admin/providers/:name', {
    schema: {
      operationId: 'updateProvider',
      tags,
      security: adminSecurity,
      summary: 'Update an upstream provider',
      description: 'Changes the fields sent (a client_secret replaces the stored one); the next sign-in uses them. With check_discovery ' +
        'and a new issuer or endpoint, the discovery document is read first, as with POST: a failure is a 400 and nothing changes.',
      params: ProviderNameParam,
      body: UpdateProvider,
      response: { 200: ref(ProviderView, 'the provider as updated'), ...adminBodyErrors }
    }
  }, async (request) => updateProvider(deps, request.params.name, providerInput(request.body)))

  fastify.delete('/admin/providers/:name', {
    schema: adminDeletion(ProviderNameParam, {
      operationId: 'deleteProvider',
      summary: 'Delete an upstream provider',
      description: 'Its button and sign-ins stop at once. Linked accounts are kept (registering the same issuer again brings them back).',
      done: 'deleted'
    })
  }, async (request, reply) => {
    await deleteProvider(deps, request.params.name)
    return reply.code(204).send(null)
  })

  fastify.get('/admin/users/:username/identities', {
    schema: {
      operationId: 'listUserIdentities',
      tags,
      security: adminSecurity,
      summary: 'List a user\'s linked provider accounts',
      description: 'The accounts at upstream providers that sign in as this user.',
      params: UsernameParam,
      response: { 200: Type.Array(IdentityView, { description: 'the linked accounts' }), ...adminErrors }
    }
  }, async (request) => listIdentities(storage, request.params.username))

  fastify.delete('/admin/users/:username/identities/:provider', {
    schema: adminDeletion(Type.Object({ username: Type.String({ maxLength: 256 }), provider: Type.String({ maxLength: 64 }) }), {
      operationId: 'unlinkUserIdentity',
      summary: 'Unlink a user\'s account at one provider',
      description: 'That account no longer signs in as this user; its next sign-in is a first one (a new user, or refused, as the provider says).',
      done: 'unlinked'
    })
  }, async (request, reply) => {
    await unlinkIdentity(storage, request.params.username, request.params.provider)
    return reply.code(204).send(null)
  })
}

export default adminProviderRoutes

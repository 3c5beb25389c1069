import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { createClient, deleteClient, findClient, issuerOnLoopback, toClientView, updateClient } from '../../lib/admin/clients.js'
import { checkedPage } from '../../lib/admin/page.js'
import { adminBodyErrors, adminErrors, adminSecurity, adminDeletion, ClientIdParam, ClientView, CreateClient, Paging, UpdateClient } from '../../schemas/admin.js'
import { ref } from '../../schemas/common.js'

/** /admin/clients: list, register, read, update, delete (scope admin). Deleting revokes the client's tokens. */
const adminClientRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, clock, config } = fastify
  const deps = { storage, clock, config }
  fastify.requireAdmin(fastify)
  const tags = ['admin']

  fastify.get('/admin/clients', {
    schema: {
      operationId: 'listClients',
      tags,
      security: adminSecurity,
      summary: 'List clients',
      description: 'Clients ordered by id, a page at a time (`limit` defaults to 100, `offset` to 0). Secrets are never shown.',
      querystring: Paging,
      response: { 200: Type.Array(ref(ClientView), { description: 'a page of clients' }), ...adminErrors }
    }
  }, async (request) => (await storage.clients.list(checkedPage(request.query))).map(toClientView))

  fastify.post('/admin/clients', {
    schema: {
      operationId: 'createOAuthClient',
      tags,
      security: adminSecurity,
      summary: 'Register a client',
      description: 'A confidential client gets a secret (256 random bits), shown in this reply only. A public client cannot have client_credentials.',
      body: CreateClient,
      response: { 201: ref(ClientView, 'the new client, with its secret when confidential'), ...adminBodyErrors }
    }
  }, async (request, reply) => {
    const b = request.body
    const { client, secret } = await createClient(storage, b.client_id, {
      isPublic: b.public ?? false,
      grantTypes: b.grant_types,
      scope: b.scope ?? null,
      redirectUris: b.redirect_uris ?? [],
      postLogoutRedirectUris: b.post_logout_redirect_uris ?? [],
      skipConsent: b.skip_consent ?? false,
      providers: b.providers,
      pkce: b.pkce,
      idTokenAlg: b.id_token_alg,
      userinfoAlg: b.userinfo_alg,
      backchannelLogoutUri: b.backchannel_logout_uri,
      requireMfa: b.require_mfa ?? false,
      dpopBoundAccessTokens: b.dpop_bound_access_tokens ?? false,
      passwordGrantSkipsMfa: b.password_grant_skips_mfa ?? false,
      requirePar: b.require_pushed_authorization_requests ?? false,
      exchangeSources: b.exchange_sources,
      exchangeTargets: b.exchange_targets,
      jwks: b.jwks,
      jwksUri: b.jwks_uri,
      tokenEndpointAuthMethod: b.token_endpoint_auth_method,
      clientName: b.client_name,
      logoUri: b.logo_uri
    }, { issuerOnLoopback: issuerOnLoopback(config.issuer) })
    request.adminTarget = client.id
    reply.code(201)
    return { ...toClientView(client), client_secret: secret }
  })

  fastify.get('/admin/clients/:client_id', {
    schema: {
      operationId: 'getClient',
      tags,
      security: adminSecurity,
      summary: 'Read a client',
      description: 'One client by id (never its secret).',
      params: ClientIdParam,
      response: { 200: ref(ClientView, 'the client'), ...adminErrors }
    }
  }, async (request) => toClientView(await findClient(storage, request.params.client_id)))

  fastify.patch('/admin/clients/:client_id', {
    schema: {
      operationId: 'updateClient',
      tags,
      security: adminSecurity,
      summary: 'Update a client',
      description: 'Changes the fields sent; `rotate_secret: true` issues a new secret (in this reply only) and the old one stops working.',
      params: ClientIdParam,
      body: UpdateClient,
      response: { 200: ref(ClientView, 'the client as updated'), ...adminBodyErrors }
    }
  }, async (request) => {
    const b = request.body
    const { client, secret } = await updateClient(deps, request.params.client_id, {
      grantTypes: b.grant_types,
      scope: b.scope,
      redirectUris: b.redirect_uris,
      postLogoutRedirectUris: b.post_logout_redirect_uris,
      skipConsent: b.skip_consent,
      providers: b.providers,
      pkce: b.pkce,
      idTokenAlg: b.id_token_alg,
      userinfoAlg: b.userinfo_alg,
      backchannelLogoutUri: b.backchannel_logout_uri,
      requireMfa: b.require_mfa,
      dpopBoundAccessTokens: b.dpop_bound_access_tokens,
      passwordGrantSkipsMfa: b.password_grant_skips_mfa,
      requirePar: b.require_pushed_authorization_requests,
      exchangeSources: b.exchange_sources,
      exchangeTargets: b.exchange_targets,
      jwks: b.jwks,
      jwksUri: b.jwks_uri,
      tokenEndpointAuthMethod: b.token_endpoint_auth_method,
      clientName: b.client_name,
      logoUri: b.logo_uri,
      rotateSecret: b.rotate_secret
    })
    // A new jwks_uri (or none) is fetched afresh at the next use.
    if (b.jwks_uri !== undefined || b.jwks !== undefined) fastify.clientKeys.forget(client.id)
    return { ...toClientView(client), client_secret: secret }
  })

  fastify.delete('/admin/clients/:client_id', {
    schema: adminDeletion(ClientIdParam, {
      operationId: 'deleteClient',
      summary: 'Delete a client',
      description: 'Deletes the client and revokes every token issued to it.',
      done: 'deleted'
    })
  }, async (request, reply) => {
    await deleteClient(deps, request.params.client_id)
    fastify.clientKeys.forget(request.params.client_id)
    return reply.code(204).send(null)
  })
}

export default adminClientRoutes

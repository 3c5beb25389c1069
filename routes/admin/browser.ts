import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { endSessions, listConsents, listSessions, revokeConsents } from '../../lib/admin/browser.js'
import { adminErrors, adminSecurity, adminDeletion, UsernameParam } from '../../schemas/admin.js'

const SessionView = Type.Object({
  auth_time: Type.Integer({ description: 'when the user entered their password (Unix seconds)' }),
  created_at: Type.Integer(),
  expires_at: Type.Integer()
}, { description: 'a browser session (its id is never shown)' })

const ConsentView = Type.Object({
  client_id: Type.String(),
  scope: Type.String({ description: 'the scopes the user allowed, space-separated' }),
  created_at: Type.Integer(),
  updated_at: Type.Integer()
}, { description: 'what a user allowed a client' })

/** /admin/users/{username}/sessions and …/consents: list and revoke (scope admin). */
const adminBrowserRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, clock } = fastify
  fastify.requireAdmin(fastify)
  const tags = ['admin']

  fastify.get('/admin/users/:username/sessions', {
    schema: {
      operationId: 'listUserSessions',
      tags,
      security: adminSecurity,
      summary: 'List a user\'s browser sessions',
      description: 'Live sessions of the login page, newest first.',
      params: UsernameParam,
      response: { 200: Type.Array(SessionView, { description: 'the sessions' }), ...adminErrors }
    }
  }, async (request) => listSessions({ storage, clock }, request.params.username))

  fastify.delete('/admin/users/:username/sessions', {
    schema: adminDeletion(UsernameParam, {
      operationId: 'endUserSessions',
      summary: 'Sign a user out of every browser',
      description: 'Ends every session of the user, on every instance at its next request. Tokens already issued are not revoked (disable the user for that).',
      done: 'ended'
    })
  }, async (request, reply) => {
    await endSessions(storage, request.params.username)
    return reply.code(204).send(null)
  })

  fastify.get('/admin/users/:username/consents', {
    schema: {
      operationId: 'listUserConsents',
      tags,
      security: adminSecurity,
      summary: 'List a user\'s consents',
      description: 'The clients the user allowed, with the scopes.',
      params: UsernameParam,
      response: { 200: Type.Array(ConsentView, { description: 'the consents' }), ...adminErrors }
    }
  }, async (request) => listConsents(storage, request.params.username))

  fastify.delete('/admin/users/:username/consents', {
    schema: adminDeletion(UsernameParam, {
      operationId: 'revokeUserConsents',
      summary: 'Revoke every consent of a user',
      description: 'The consent page is shown again for every client.',
      done: 'revoked'
    })
  }, async (request, reply) => {
    await revokeConsents(storage, request.params.username)
    return reply.code(204).send(null)
  })

  fastify.delete('/admin/users/:username/consents/:client_id', {
    schema: adminDeletion(Type.Object({ username: Type.String({ maxLength: 256 }), client_id: Type.String({ maxLength: 256 }) }), {
      operationId: 'revokeUserConsent',
      summary: 'Revoke a user\'s consent for one client',
      description: 'The consent page is shown again for that client (204 also when there was none).',
      done: 'revoked'
    })
  }, async (request, reply) => {
    await revokeConsents(storage, request.params.username, request.params.client_id)
    return reply.code(204).send(null)
  })
}

export default adminBrowserRoutes

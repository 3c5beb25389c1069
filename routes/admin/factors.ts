import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { adminActor } from '../../lib/admin/actor.js'
import { listFactors, removeFactor, resetFactors } from '../../lib/admin/factors.js'
import { adminDeletion, adminErrors, adminSecurity, UsernameParam } from '../../schemas/admin.js'
import { FactorParams, FactorsView } from '../../schemas/factors.js'

/**
 * /admin/users/{username}/factors (scope admin): a user's second factors and passkeys, and removing them, for a
 * user who lost theirs (docs/second-factors.md). The rules are lib/admin/factors.ts, shared with the CLI.
 */
const adminFactorRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, events } = fastify
  fastify.requireAdmin(fastify)
  const tags = ['admin']

  fastify.get('/admin/users/:username/factors', {
    schema: {
      operationId: 'listUserFactors',
      tags,
      security: adminSecurity,
      summary: 'List a user\'s second factors and passkeys',
      description: 'Authenticator apps (TOTP) and passkeys, oldest first, and how many recovery codes are left. Never a secret, a public key or a credential id.',
      params: UsernameParam,
      response: { 200: FactorsView, ...adminErrors }
    }
  }, async (request) => listFactors(storage, request.params.username))

  fastify.delete('/admin/users/:username/factors', {
    schema: adminDeletion(UsernameParam, {
      operationId: 'resetUserFactors',
      summary: 'Remove all of a user\'s second factors',
      description: 'Every authenticator app, passkey and recovery code of the user: they sign in with their password alone, and enrol again ' +
        'where a second factor is required. Their browser sessions are kept (DELETE …/sessions ends them). A `factors_reset` event.',
      done: 'removed (also when there were none)'
    })
  }, async (request, reply) => {
    await resetFactors({ storage, events, log: request.log }, request.params.username, adminActor(request.auth))
    return reply.code(204).send(null)
  })

  fastify.delete('/admin/users/:username/factors/:id', {
    schema: adminDeletion(FactorParams, {
      operationId: 'removeUserFactor',
      summary: 'Remove one of a user\'s second factors',
      description: 'One authenticator app or passkey by its id (from the list); the others and the recovery codes stay. A `factors_reset` event.',
      done: 'removed'
    })
  }, async (request, reply) => {
    await removeFactor({ storage, events, log: request.log }, request.params.username, request.params.id, adminActor(request.auth))
    return reply.code(204).send(null)
  })
}

export default adminFactorRoutes

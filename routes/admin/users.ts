import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { adminPasswordReset } from '../../lib/admin/password-reset.js'
import { createUser, deleteUser, findUser, toAdminUserView, updateUser } from '../../lib/admin/users.js'
import { adminBodyErrors, adminErrors, adminSecurity, adminDeletion, CreateUser, Paging, PasswordResetSent, UpdateUser, UsernameParam, UserView } from '../../schemas/admin.js'
import { ref } from '../../schemas/common.js'
import { checkedPage } from '../../lib/admin/page.js'

/** /admin/users: list, create, read, update, delete (scope admin). Deleting or disabling revokes the user's grants. */
const adminUserRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, passwords, clock, config, mail, events } = fastify
  const deps = { storage, passwords, clock, config }
  fastify.requireAdmin(fastify)
  const tags = ['admin']

  fastify.get('/admin/users', {
    schema: {
      operationId: 'listUsers',
      tags,
      security: adminSecurity,
      summary: 'List users',
      description: 'Users ordered by username, a page at a time (`limit` defaults to 100, `offset` to 0).',
      querystring: Paging,
      response: { 200: Type.Array(ref(UserView), { description: 'a page of users' }), ...adminErrors }
    }
  }, async (request) => (await storage.users.list(checkedPage(request.query))).map(toAdminUserView))

  fastify.post('/admin/users', {
    schema: {
      operationId: 'createUser',
      tags,
      security: adminSecurity,
      summary: 'Create a user',
      description: 'The password is hashed with argon2id; usernames are lowercase ASCII.',
      body: CreateUser,
      response: { 201: ref(UserView, 'the new user'), ...adminBodyErrors }
    }
  }, async (request, reply) => {
    const { username, password, full_name: fullName, email, scope, disabled, claims } = request.body
    const user = await createUser(storage, passwords, username, password, { fullName, email, scope, disabled, claims })
    request.adminTarget = user.username
    reply.code(201)
    return toAdminUserView(user)
  })

  fastify.get('/admin/users/:username', {
    schema: {
      operationId: 'getUser',
      tags,
      security: adminSecurity,
      summary: 'Read a user',
      description: 'One user by username.',
      params: UsernameParam,
      response: { 200: ref(UserView, 'the user'), ...adminErrors }
    }
  }, async (request) => toAdminUserView(await findUser(storage, request.params.username)))

  fastify.patch('/admin/users/:username', {
    schema: {
      operationId: 'updateUser',
      tags,
      security: adminSecurity,
      summary: 'Update a user',
      description: 'Changes the fields sent. A new password or disabling revokes every grant of the user.',
      params: UsernameParam,
      body: UpdateUser,
      response: { 200: ref(UserView, 'the user as updated'), ...adminBodyErrors }
    }
  }, async (request) => {
    const { password, full_name: fullName, email, scope, disabled, claims } = request.body
    return toAdminUserView(await updateUser(deps, request.params.username, { password, fullName, email, scope, disabled, claims }))
  })

  fastify.delete('/admin/users/:username', {
    schema: adminDeletion(UsernameParam, {
      operationId: 'deleteUser',
      summary: 'Delete a user',
      description: 'Deletes the user and revokes every token issued to them.',
      done: 'deleted'
    })
  }, async (request, reply) => {
    await deleteUser(deps, request.params.username)
    return reply.code(204).send(null)
  })

  fastify.post('/admin/users/:username/reset-password', {
    schema: {
      operationId: 'sendPasswordReset',
      tags,
      security: adminSecurity,
      summary: 'Send a user a password-reset link',
      description: 'Queues the message /forgot-password would send: a link to `<ISSUER>/reset-password?token=…` (single use, 30 minutes; ' +
        'it voids the user\'s older links), to the address the user holds. The password is unchanged until the user follows it. ' +
        'A user without an e-mail address, or disabled, is a conflict (409) and nothing is sent.',
      params: UsernameParam,
      response: { 200: { ...PasswordResetSent, description: 'the link was queued' }, ...adminBodyErrors }
    }
  }, async (request) => adminPasswordReset({ storage, send: mail.send, events }, request.params.username, { now: clock.now(), ip: request.ip }))
}

export default adminUserRoutes

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { createUser, deleteUser, findUser, updateUser } from '../../lib/services/user-admin.js'
import { adminBodyErrors, adminErrors, adminSecurity, checkedPage, CreateUser, Paging, UpdateUser, UsernameParam, UserView } from '../../schemas/admin.js'
import { toUserView } from '../../schemas/users.js'

/** /admin/users: list, create, read, update, delete (scope admin). Deleting or disabling revokes the user's grants. */
const adminUserRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, passwords, clock, config } = fastify
  const deps = { storage, passwords, clock, config }
  fastify.requireAdmin(fastify)
  const tags = ['admin']

  fastify.get('/admin/users', {
    schema: { tags, security: adminSecurity, summary: 'List users', querystring: Paging, response: { 200: Type.Array(UserView), ...adminErrors } }
  }, async (request) => (await storage.users.list(checkedPage(request.query))).map(toUserView))

  fastify.post('/admin/users', {
    schema: { tags, security: adminSecurity, summary: 'Create a user', body: CreateUser, response: { 201: UserView, ...adminBodyErrors } }
  }, async (request, reply) => {
    const { username, password, full_name: fullName, email, scope, disabled } = request.body
    const user = await createUser(storage, passwords, username, password, { fullName, email, scope, disabled })
    reply.code(201)
    return toUserView(user)
  })

  fastify.get('/admin/users/:username', {
    schema: { tags, security: adminSecurity, summary: 'Read a user', params: UsernameParam, response: { 200: UserView, ...adminErrors } }
  }, async (request) => toUserView(await findUser(storage, request.params.username)))

  fastify.patch('/admin/users/:username', {
    schema: { tags, security: adminSecurity, summary: 'Update a user (a new password or disabling revokes their tokens)', params: UsernameParam, body: UpdateUser, response: { 200: UserView, ...adminBodyErrors } }
  }, async (request) => {
    const { password, full_name: fullName, email, scope, disabled } = request.body
    return toUserView(await updateUser(deps, request.params.username, { password, fullName, email, scope, disabled }))
  })

  fastify.delete('/admin/users/:username', {
    schema: { tags, security: adminSecurity, summary: 'Delete a user and revoke their tokens', params: UsernameParam, response: { 204: Type.Null(), ...adminBodyErrors } }
  }, async (request, reply) => {
    await deleteUser(deps, request.params.username)
    return reply.code(204).send(null)
  })
}

export default adminUserRoutes

import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { endSessions, listConsents, listSessions } from '../../lib/admin/browser.js'
import { listFactors, resetFactors } from '../../lib/admin/factors.js'
import { adminPasswordReset } from '../../lib/admin/password-reset.js'
import { listIdentities } from '../../lib/admin/providers.js'
import { createUser, findUser, toAdminUserView, updateUser } from '../../lib/admin/users.js'
import { doneMessage } from '../../lib/console/done.js'
import { findUsers } from '../../lib/console/users.js'
import { GatehouseError } from '../../lib/errors.js'
import { consoleSchemas, type UserAction } from '../../schemas/console.js'
import { logChange } from './change.js'
import type { ConsoleDeps } from './deps.js'

/** A form field as text (absent: undefined); the lib/admin rules judge it. */
const text = (fields: Record<string, unknown>, name: string): string | undefined => typeof fields[name] === 'string' ? fields[name] : undefined
/** An optional field: empty means none (null). */
const optional = (fields: Record<string, unknown>, name: string): string | null | undefined => {
  const value = text(fields, name)
  return value === undefined ? undefined : value.trim() === '' ? null : value.trim()
}

/** What the user page says after each action (its `done` query). */
const DONE: Record<UserAction, string> = {
  update: 'Saved.',
  disable: 'Disabled: their sessions ended and their tokens stopped working.',
  enable: 'Enabled: they can sign in again (earlier sessions and tokens stay ended).',
  'reset-password': 'A password-reset link was sent to their e-mail address.',
  'reset-factors': 'Their second factors were removed: they sign in with their password and enrol again where one is required.',
  'end-sessions': 'Their browser sessions ended.'
}

/**
 * The console's users pages: the list (search, pages), the create form, one user (details, factors, sessions,
 * providers, consents) and its actions. Every rule is the admin API's (lib/admin/users.ts, browser.ts, factors.ts,
 * password-reset.ts): a refusal shows its message on the page; every change is an admin_change event (change.ts).
 */
const users: FastifyPluginAsync<ConsoleDeps> = async (fastify) => {
  const { storage, passwords, clock, config, mail, events } = fastify
  const deps = { storage, passwords, clock, config }

  fastify.get('/console/users', { schema: consoleSchemas.users, config: { browser: 'page' } }, async (request, reply) => {
    const query = request.query as { q?: string, limit?: string, offset?: string }
    const { users, page, search } = await findUsers(storage, query)
    return reply.consolePage('users', { users: users.map(toAdminUserView), page, search, more: search === undefined && users.length === page.limit })
  })

  fastify.get('/console/users/new', { schema: consoleSchemas.newUser, config: { browser: 'page' } }, async (_request, reply) =>
    reply.consolePage('user-new', { values: {} }))

  fastify.post('/console/users', { schema: consoleSchemas.createUser, config: { browser: 'form' } }, async (request, reply) => {
    const fields = request.formFields()
    const values = { username: text(fields, 'username')?.trim() ?? '', fullName: optional(fields, 'full_name'), email: optional(fields, 'email'), scope: text(fields, 'scope')?.trim() ?? '' }
    try {
      const user = await createUser(storage, passwords, values.username, text(fields, 'password') ?? '', { fullName: values.fullName, email: values.email, scope: values.scope })
      logChange(request, user.username)
      return reply.redirect(`/console/users/${encodeURIComponent(user.username)}?done=created`, 303)
    } catch (err) {
      return refusal(reply, err, 'user-new', { values })
    }
  })

  async function userPage (request: FastifyRequest, reply: FastifyReply, username: string, extra: Record<string, unknown> = {}, status = 200): Promise<FastifyReply> {
    const user = await findUser(storage, username)
    const [factors, sessions, identities, consents] = await Promise.all([
      listFactors(storage, username), listSessions({ storage, clock }, username), listIdentities(storage, username), listConsents(storage, username)
    ])
    const done = (request.query as { done?: string }).done
    const doneText = done === 'created' ? 'Created.' : doneMessage(DONE, done)
    return reply.consolePage('user', { user: toAdminUserView(user), factors, sessions, identities, consents, done: doneText, ...extra }, { status })
  }

  fastify.get('/console/users/:username', { schema: consoleSchemas.user, config: { browser: 'page' } }, async (request, reply) =>
    userPage(request, reply, (request.params as { username: string }).username))

  /** Each action through the admin API's own service. */
  async function act (request: FastifyRequest, username: string, action: UserAction): Promise<void> {
    const fields = request.formFields()
    const actor = request.consoleSession?.user.username ?? ''
    switch (action) {
      case 'update': await updateUser(deps, username, { fullName: optional(fields, 'full_name'), email: optional(fields, 'email'), scope: text(fields, 'scope')?.trim() ?? '' }); break
      case 'disable': await updateUser(deps, username, { disabled: true }); break
      case 'enable': await updateUser(deps, username, { disabled: false }); break
      case 'reset-password': await adminPasswordReset({ storage, send: mail.send, events }, username, { now: clock.now(), ip: request.ip }); break
      case 'reset-factors': await resetFactors({ storage, events, log: request.log }, username, actor); break
      case 'end-sessions': await endSessions(storage, username); break
    }
  }

  fastify.post('/console/users/:username/:action', { schema: consoleSchemas.userAction, config: { browser: 'form' } }, async (request, reply) => {
    const { username, action } = request.params as { username: string, action: UserAction }
    try {
      await act(request, username, action)
    } catch (err) {
      if (!(err instanceof GatehouseError) || err.statusCode === 404) throw err
      return refusal(reply, err, 'user', { problem: err.message }, () => userPage(request, reply, username, { problem: err.message }, err.statusCode))
    }
    logChange(request, username)
    // Disabling oneself, or losing admin, ends this console session: the next page starts a sign-in.
    return reply.redirect(`/console/users/${encodeURIComponent(username)}?done=${action}`, 303)
  })

  /** A refusal by a lib/admin rule (400, 409): the page again with its message; anything else is the error page. */
  function refusal (reply: FastifyReply, err: unknown, page: string, data: Record<string, unknown>, render?: () => Promise<FastifyReply>): Promise<FastifyReply> {
    if (!(err instanceof GatehouseError) || err.statusCode >= 500 || err.statusCode === 403) throw err
    if (render) return render()
    return reply.consolePage(page, { ...data, problem: err.message }, { status: err.statusCode })
  }
}

export default users

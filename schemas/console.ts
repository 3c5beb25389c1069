import { Type } from '@sinclair/typebox'
import { formErrors, html, htmlOrJson, redirect } from './browser.js'
import { AdminErrorSchemas } from './admin.js'
import { OAuthErrorSchema, ref } from './common.js'
import { noSecurity } from './security.js'

/**
 * The admin console's pages (routes/console/, docs/console.md): HTML and redirects for a browser signed in to the
 * console (its own cookie, after a sign-in through /authorize as the `gatehouse-console` client). Forms are read by
 * the routes and judged by the same lib/admin rules as the admin API: the schemas only bound their size.
 */
export const tags = ['console']

/** Query and form fields stay text, unnamed: the rules of lib/admin judge them (one home for each rule). */
export const Fields = Type.Object({}, { additionalProperties: Type.String({ maxLength: 4096 }) })

const consoleErrors = {
  303: redirect('no console session: to /authorize, to sign in (a page the console offers once signed in)'),
  403: html('not an administrator, or a form without this browser\'s CSRF field, or the console session ended'),
  404: html('no such user or client'),
  503: html('the server cannot serve the request now (the database is unreachable); Retry-After says when to try again')
}

/** What a page or form adds: its path parameters, and the answers they bring (`paramErrors`). */
type Extra = Record<string, unknown> & { paramErrors?: Record<number, unknown> }

export const page = (operationId: string, summary: string, description: string, { paramErrors = {}, ...extra }: Extra = {}) => ({
  operationId,
  tags,
  summary,
  description,
  security: noSecurity,
  querystring: Fields,
  response: { 200: html(summary), ...consoleErrors, ...paramErrors },
  ...extra
})

export const form = (operationId: string, summary: string, description: string, { paramErrors = {}, ...extra }: Extra = {}) => ({
  operationId,
  tags,
  summary,
  description: `${description} A form post: the \`csrf\` field must be this browser's (403 otherwise).`,
  security: noSecurity,
  body: Fields,
  response: { 200: html('the page again, with what went wrong'), ...consoleErrors, 303: redirect('done: to the page that shows it'), 400: html('the form was refused'), ...formErrors, ...paramErrors },
  ...extra
})

/**
 * The pages with a path parameter: a path that does not decode, or a parameter longer than any name, is refused
 * before the console looks at it, as JSON like any unknown path (400 invalid_request, 404 not_found), as the
 * provider pages' are (schemas/browser.ts).
 */
export const paramErrors = {
  400: htmlOrJson('the form was refused (a page), or JSON when the path does not decode or a parameter is too long', ref(OAuthErrorSchema)),
  404: htmlOrJson('no such user or client: a page; JSON for a path no page has', ref(AdminErrorSchemas.notFound))
}

const UsernameParam = Type.Object({ username: Type.String({ maxLength: 256 }) })

/** What the user page's forms do, each through the admin API's own service (routes/console/users.ts). */
export const USER_ACTIONS = ['update', 'disable', 'enable', 'reset-password', 'reset-factors', 'end-sessions'] as const
export type UserAction = typeof USER_ACTIONS[number]
const UserActionParams = Type.Object({ username: Type.String({ maxLength: 256 }), action: Type.Union(USER_ACTIONS.map((a) => Type.Literal(a))) })

const ClientIdParam = Type.Object({ clientId: Type.String({ maxLength: 256 }) })

/** What the client page's forms do, each through the admin API's own service (routes/console/clients.ts). */
export const CLIENT_ACTIONS = ['update', 'rotate-secret', 'delete'] as const
export type ClientAction = typeof CLIENT_ACTIONS[number]
const ClientActionParams = Type.Object({ clientId: Type.String({ maxLength: 256 }), action: Type.Union(CLIENT_ACTIONS.map((a) => Type.Literal(a))) })

export const consoleSchemas = {
  dashboard: page('consoleDashboard', 'The admin console', 'Counts (users, clients, active sessions) and links to the console\'s pages.'),
  callback: {
    operationId: 'consoleCallback',
    tags,
    summary: 'Where the console\'s sign-in comes back',
    description: 'Checks the sign-in this browser started (sealed cookie: state, nonce, PKCE; 10 minutes, single use), redeems the code in-process ' +
      'as /token does, verifies the ID token and admits a user holding `admin` (with two factors when they have one, or CONSOLE_REQUIRE_MFA=on).',
    security: noSecurity,
    querystring: Fields,
    response: { 303: redirect('signed in: to the console page asked for'), 400: html('the sign-in could not be completed (start again)'), 403: html('not an administrator, or no second factor used') }
  },
  logout: form('consoleLogout', 'Sign out of the console', 'Ends this browser\'s console session (on every instance).'),
  users: page('consoleUsers', 'Users', 'Users by username, a page at a time (`limit`, `offset`, as the admin API lists them); `q` finds one by exact username or e-mail.'),
  newUser: page('consoleNewUser', 'Create a user', 'The form that creates a user.'),
  createUser: form('consoleCreateUser', 'Create a user', 'Creates a user as POST /admin/users does.'),
  user: page('consoleUser', 'A user', 'A user\'s details, second factors, sessions, linked providers and consents.', { params: UsernameParam, paramErrors }),
  userAction: form('consoleUserAction', 'Change a user', 'One action on a user, as the admin API does it: `update` (name, e-mail, scope), ' +
    '`disable`, `enable`, `reset-password` (mails the link), `reset-factors`, `end-sessions`.', { params: UserActionParams, paramErrors }),
  clients: page('consoleClients', 'Clients', 'Clients by id, a page at a time (`limit`, `offset`, as the admin API lists them).'),
  newClient: page('consoleNewClient', 'Register a client', 'The form that registers a client.'),
  createClient: form('consoleCreateClient', 'Register a client', 'Registers a client as POST /admin/clients does; a confidential client\'s secret is shown once, on the page this answers.'),
  client: page('consoleClient', 'A client', 'A client\'s settings, with the forms that change it.', { params: ClientIdParam, paramErrors }),
  clientAction: form('consoleClientAction', 'Change a client', 'One action on a client, as the admin API does it: `update` (redirect URIs, grants, scope, ' +
    'consent, MFA, DPoP and PAR flags, jwks_uri), `rotate-secret` (the new secret shown once, on the page this answers), `delete` (with `confirm` ticked).', { params: ClientActionParams, paramErrors })
}

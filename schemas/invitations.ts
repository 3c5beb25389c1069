import { Type } from '@sinclair/typebox'
import { adminBodyErrors, adminDeletion, adminErrors, adminSecurity } from './admin.js'
import { browserErrors, formErrors, html, redirect } from './browser.js'
import { OAuthErrorSchema, ref, Scope } from './common.js'
import { noSecurity } from './security.js'

/** Invitations (CONTRACT.md, Accounts): the admin API and the page the mailed link opens (lib/accounts/invitations.ts). */

const tags = ['admin']

export const CreateInvitation = Type.Object({
  email: Type.String({ minLength: 3, maxLength: 254, description: 'the address the invitation is sent to' }),
  scope: Type.Optional(Scope)
}, { additionalProperties: false, examples: [{ email: 'bob@example.com', scope: 'items:read' }] })

export const InvitationView = Type.Object({
  id: Type.String({ description: 'names the invitation (to revoke it); not its link, whose token is only in the message' }),
  email: Type.String(),
  scope: Type.String({ description: 'the scopes the new user gets, space-separated (empty: none)' }),
  created_at: Type.Integer({ description: 'when it was sent (seconds since the epoch)' }),
  expires_at: Type.Integer({ description: 'when its link stops working (seconds since the epoch): 7 days after it was sent' })
}, { $id: 'Invitation', description: 'a pending invitation' })

export const InvitationIdParam = Type.Object({ id: Type.String({ maxLength: 64 }) })

export const createInvitationSchema = {
  operationId: 'createInvitation',
  tags,
  security: adminSecurity,
  summary: 'Invite an e-mail address',
  description: 'Sends the address a link (`<ISSUER>/invitation?token=…`, single use, 7 days) to choose a username and a password; the account it ' +
    'makes has this address, verified, and these scopes. Works with SIGNUP=off. A newer invitation to the same address replaces the pending one. ' +
    '409 when a user has this e-mail already; 429 when the address was sent too many messages in the last hour (5).',
  body: CreateInvitation,
  response: {
    201: ref(InvitationView, 'the invitation (the token is only in the message)'),
    ...adminBodyErrors,
    429: ref(OAuthErrorSchema, 'too_many_requests: the address had its messages for this hour; Retry-After says when to try again')
  }
}

export const listInvitationsSchema = {
  operationId: 'listInvitations',
  tags,
  security: adminSecurity,
  summary: 'List pending invitations',
  description: 'Invitations neither accepted, revoked nor expired, newest first (at most 1000).',
  response: { 200: Type.Array(ref(InvitationView), { description: 'the pending invitations' }), ...adminErrors }
}

export const revokeInvitationSchema = adminDeletion(InvitationIdParam, {
  operationId: 'revokeInvitation',
  summary: 'Revoke an invitation',
  description: 'Its link stops working at once. 404 when no pending invitation has this id (unknown, accepted, revoked or expired).',
  done: 'revoked'
})

export const invitationPageSchema = {
  operationId: 'showInvitation',
  tags: ['browser'],
  summary: 'Follow an invitation link',
  description: 'The link mailed to an invited address (`<ISSUER>/invitation?token=…`). A form to choose a username and a password (and, optionally, ' +
    'a full name), the invited address shown; an unknown, used, revoked or expired link shows an error page (400).',
  security: noSecurity,
  querystring: Type.Object({ token: Type.Optional(Type.String()), return_to: Type.Optional(Type.String()) }, { additionalProperties: true }),
  response: { 200: html('the invitation form'), ...browserErrors }
}

export const acceptInvitationSchema = {
  operationId: 'acceptInvitation',
  tags: ['browser'],
  summary: 'Accept an invitation (the invitation form)',
  description: 'Form fields `token`, `username`, `password`, optional `password_confirmation` and `full_name`, `csrf` and `return_to`. A taken ' +
    'username or a password the rules refuse shows the form again (the link still works). Success: the account (e-mail verified, the ' +
    'invitation\'s scopes), a new session, then 303 on to the pending authorization request or the signed-in page.',
  security: noSecurity,
  consumes: ['application/x-www-form-urlencoded'],
  response: {
    303: redirect('signed in: on to the client, the consent page, or the signed-in page'),
    ...browserErrors,
    400: html('the form again, saying what to change (a taken username, a password the rules refuse); or an error page for a link that does not work'),
    409: html('an error page: a user took the username or the address between the form and the account (the link is used up)'),
    ...formErrors
  }
}

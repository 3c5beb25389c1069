import { Type } from '@sinclair/typebox'
import { html } from './browser.js'
import { form, page, paramErrors } from './console.js'

/**
 * The console's invitations and signing-keys pages (routes/console/invitations.ts, keys.ts; docs/console.md), built
 * like the users and clients pages (schemas/console.ts): forms are read by the routes and judged by lib/admin.
 */

const InvitationRevokeParams = Type.Object({ id: Type.String({ maxLength: 64 }) })

export const consoleKeySchemas = {
  invitations: page('consoleInvitations', 'Invitations', 'The pending invitations (as GET /admin/invitations lists them: newest first, at most 1000), ' +
    'with the form that invites an address and a revoke button per invitation.'),
  invite: form('consoleInvite', 'Invite an e-mail address', 'Invites an address as POST /admin/invitations does (fields `email`, optional `scope`): ' +
    'the link is mailed; a refusal (a bad address or scope, a user has the address, the address had its messages for this hour) shows on the page.', {
    paramErrors: {
      409: html('the page again: a user has this e-mail already'),
      429: html('the page again: the address was sent too many messages in the last hour (5)')
    }
  }),
  revokeInvitation: form('consoleRevokeInvitation', 'Revoke an invitation', 'Revokes a pending invitation as DELETE /admin/invitations/{id} does: its link stops working at once.',
    { params: InvitationRevokeParams, paramErrors }),
  keys: page('consoleKeys', 'Signing keys', 'Every signing key in the store with its state (as GET /admin/keys): next, signing, retired (published until …) or dropped; ' +
    'and the button that rotates them.'),
  rotateKeys: form('consoleRotateKeys', 'Rotate the signing keys', 'Rotates the keys as POST /admin/keys/rotate does: a new key of each algorithm, ' +
    'published at once and signing after the agreed publish delay; the keys page then names the new key and when it starts signing.')
}

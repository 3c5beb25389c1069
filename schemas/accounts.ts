import { Type } from '@sinclair/typebox'
import { browserErrors, html } from './browser.js'
import { noSecurity } from './security.js'

/** The self-service account pages (CONTRACT.md, Accounts): HTML pages, documented as such. */

export const verifyEmailSchema = {
  operationId: 'verifyEmail',
  tags: ['browser'],
  summary: 'Follow an e-mail verification link',
  description: 'The link mailed to a user (`<ISSUER>/verify-email?token=…`, single use, 24 hours; a newer link voids older ones). ' +
    'Marks the address verified (`email_verified: true` in ID tokens and /userinfo from then on) and shows a page saying so; a ' +
    'link that is unknown, used, replaced, expired or for an address the user no longer has shows an error page (400) and changes nothing.',
  security: noSecurity,
  querystring: Type.Object({ token: Type.Optional(Type.String()) }, { additionalProperties: true }),
  response: { 200: html('the address is verified'), ...browserErrors }
}

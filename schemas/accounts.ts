import { Type } from '@sinclair/typebox'
import { browserErrors, formErrors, html } from './browser.js'
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

const returnTo = Type.Object({ return_to: Type.Optional(Type.String()) }, { additionalProperties: true })

export const forgotPasswordPageSchema = {
  operationId: 'showForgotPasswordPage',
  tags: ['browser'],
  summary: 'The "Forgot your password?" page',
  description: 'A form asking for an e-mail address (input `email`, and the CSRF field). `return_to` (a pending /authorize request) is ' +
    'kept: the page after the reset continues it through the login page.',
  security: noSecurity,
  querystring: returnTo,
  response: { 200: html('the form'), ...browserErrors }
}

export const forgotPasswordSchema = {
  operationId: 'submitForgotPassword',
  tags: ['browser'],
  summary: 'Ask for a password-reset link',
  description: 'Form fields `email`, `csrf` and optional `return_to`. The same page, status and work whether or not an account uses ' +
    'the address ("If an account uses this address, we sent it a link"); each enabled account with that address is then sent a link ' +
    'to `<ISSUER>/reset-password?token=…` (single use, 30 minutes; a newer link voids older ones). Counted per client address and per ' +
    'e-mail address: beyond either, 429 and nothing is sent.',
  security: noSecurity,
  consumes: ['application/x-www-form-urlencoded'],
  response: {
    200: html('"check your e-mail", whether or not an account uses the address'),
    400: html('the form again: not an e-mail address; or an error page (CSRF aside, see 403)'),
    429: html('the form again: too many requests from this address or for this e-mail; Retry-After says when to try again'),
    403: browserErrors[403],
    503: html('the server cannot take the request now (the database is unreachable, or too many requests wait); try again later'),
    ...formErrors
  }
}

export const resetPasswordPageSchema = {
  operationId: 'showResetPasswordPage',
  tags: ['browser'],
  summary: 'Follow a password-reset link',
  description: 'The link mailed to a user (`<ISSUER>/reset-password?token=…`): a form for the new password (inputs `password`, optional ' +
    '`password_confirmation`, the hidden `token` and the CSRF field). A link that is unknown, used, replaced, expired, for a disabled user ' +
    'or for an address the user no longer has shows an error page (400).',
  security: noSecurity,
  // Not held to a type here: a repeated or malformed token is the same "link does not work" page as an unknown one.
  querystring: Type.Object({ token: Type.Optional(Type.Unknown({ description: 'the token of the link (43 base64url characters)' })) }, { additionalProperties: true }),
  response: { 200: html('the form for the new password'), ...browserErrors }
}

export const resetPasswordSchema = {
  operationId: 'submitResetPassword',
  tags: ['browser'],
  summary: 'Set a new password through a reset link',
  description: 'Form fields `token`, `password`, optional `password_confirmation`, and `csrf`. A password the rules refuse (8 to 1,024 ' +
    'characters, not a common or breached one, not the username or e-mail) shows the form again and leaves the link working. Otherwise ' +
    'the link is used up, the password set, the e-mail marked verified, every browser session of the user ended and every refresh and ' +
    'access token issued before refused; the page says so and links to the login page (continuing a pending /authorize request).',
  security: noSecurity,
  consumes: ['application/x-www-form-urlencoded'],
  response: {
    ...browserErrors,
    200: html('"your password was changed", with a link to sign in'),
    400: html('the form again with what is wrong with the password; or the error page of a link that does not work'),
    ...formErrors
  }
}

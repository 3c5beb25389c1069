import { Type } from '@sinclair/typebox'
import { browserErrors, formErrors, html } from './browser.js'
import { noSecurity } from './security.js'

/** The self-service account pages (CONTRACT.md, Accounts): HTML pages, documented as such. */

export const verifyEmailSchema = {
  operationId: 'verifyEmail',
  tags: ['browser'],
  summary: 'Follow an e-mail verification link',
  description: 'The link mailed to a user (`<ISSUER>/verify-email?token=…`, single use, 24 hours; a newer link voids older ones). ' +
    'A sign-up\'s link shows a page with one button (POST /verify-email) and changes nothing. Any other link: ' +
    'marks the address verified (`email_verified: true` in ID tokens and /userinfo from then on) and shows a page saying so; a ' +
    'link that is unknown, used, replaced, expired or for an address the user no longer has shows an error page (400) and changes nothing.',
  security: noSecurity,
  querystring: Type.Object({ token: Type.Optional(Type.String()) }, { additionalProperties: true }),
  response: { 200: html('the address is verified; or, for a sign-up\'s link, the page that finishes it'), ...browserErrors }
}

const signupErrors = {
  404: html('sign-up is not open (SIGNUP=off): an error page'),
  429: html('over the sign-up limits (per client address, per e-mail address): an error page, Retry-After; nothing was sent'),
  503: html('too many sign-ups are waiting for their link, the outbox is full, or the database is unreachable; Retry-After')
}

export const signupPageSchema = {
  operationId: 'showSignupPage',
  tags: ['browser'],
  summary: 'The sign-up page (SIGNUP=open)',
  description: 'A form: `username`, `email`, `password`, optional `full_name`, the CSRF field and the `return_to` of the login page ' +
    '(only ever a path of this server\'s authorization endpoint), so the pending /authorize request continues after sign-up.',
  security: noSecurity,
  querystring: Type.Object({ return_to: Type.Optional(Type.String()) }, { additionalProperties: true }),
  response: { 200: html('the sign-up form'), ...browserErrors, ...signupErrors }
}

export const signupFormSchema = {
  operationId: 'submitSignup',
  tags: ['browser'],
  summary: 'Sign up (the sign-up form)',
  description: 'Form fields `username`, `email`, `password`, `full_name` (optional), `csrf`, `return_to`. A bad field or a taken ' +
    'username: the form again with a message (400). Otherwise "check your e-mail" (200) whether or not the e-mail has an account: ' +
    'a new address is mailed a link (`<ISSUER>/verify-email?token=…`, 24 hours, single use) that makes the account; an address ' +
    'with an account is mailed a note saying so. No account exists until the link is followed.',
  security: noSecurity,
  consumes: ['application/x-www-form-urlencoded'],
  response: { 200: html('"check your e-mail"'), ...browserErrors, 400: html('the form again, saying which field is wrong; or an error page'), ...signupErrors, ...formErrors }
}

export const signupConfirmSchema = {
  operationId: 'confirmSignup',
  tags: ['browser'],
  summary: 'Finish a sign-up (the button of the page a sign-up link opens)',
  description: 'Form fields `token` (the link\'s) and `csrf`. Uses the link once and makes the account it carries, its e-mail verified, ' +
    'then signs its owner in and continues the /authorize request the sign-up began (303), or shows the signed-in page. A link ' +
    'unknown, used or expired: an error page (400); a username or e-mail taken since: an error page (409), the link used up.',
  security: noSecurity,
  consumes: ['application/x-www-form-urlencoded'],
  response: {
    200: html('on to the client with form_post'),
    303: { description: 'signed in: on to the client, the consent page, or the signed-in page', type: 'null' },
    ...browserErrors,
    409: html('the username or the e-mail address was taken while the link waited'),
    ...formErrors
  }
}

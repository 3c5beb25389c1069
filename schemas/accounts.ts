import { Type } from '@sinclair/typebox'
import { browserErrors, formErrors, html, redirect } from './browser.js'
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
  response: { 200: html('the address is verified; for a change of address, now the account\'s; for a sign-up\'s link, the page that finishes it'), 409: html('a change of address whose address another account took meanwhile: nothing changed'), ...browserErrors }
}

const toLogin = redirect('not signed in: to `/login?return_to=/account`, which comes back here after the sign-in')
/** A form of the account page (POST, CSRF field, back to /account): the shape every account form's schema shares. */
export const formPage = (summary: string, description: string, operationId: string, extra: Record<string, unknown> = {}) => ({
  operationId,
  tags: ['browser'],
  summary,
  description: `${description} Form field \`csrf\` (missing or another browser's: 403 page, nothing changes). Not signed in: to the login page, then back to /account.`,
  security: noSecurity,
  consumes: ['application/x-www-form-urlencoded'],
  response: {
    303: redirect('done: back to `/account` with a notice (or, not signed in, to the login page)'),
    ...browserErrors,
    400: html('the account page again, with what is wrong with the form'),
    ...formErrors,
    ...extra
  }
})

export const accountPageSchema = {
  operationId: 'showAccount',
  tags: ['browser'],
  summary: 'The account page',
  description: 'For a signed-in browser: profile (`full_name`), e-mail (and a change waiting for its link), password, sessions (device, ' +
    'sign-in time, this one marked), the apps the user consented to, linked sign-in providers. Every form carries the CSRF field; every change is a security event.',
  security: noSecurity,
  querystring: Type.Object({ done: Type.Optional(Type.String({ description: 'which change was just made: the page says so' })) }, { additionalProperties: true }),
  response: { 200: html('the account page'), 303: toLogin, ...browserErrors }
}

export const profileFormSchema = formPage('Change the profile (the account page)', 'Form field `full_name` (at most 256 characters; empty clears it). Event `profile_changed`.', 'changeProfile')

export const emailFormSchema = formPage('Ask to change the e-mail address (the account page)',
  'Form field `email`. Sends a link (`<ISSUER>/verify-email?token=…`, 24 hours, single use) to the new address and a note to the old one; ' +
  'the address changes only when the link is followed (then verified, and the old address is told). Limited per client address and per ' +
  'e-mail address (429 page with Retry-After, nothing sent). Event `email_change_requested`.', 'changeEmail',
  { 429: html('too many requests from this address or to this e-mail address: try later (Retry-After); nothing was sent') })

export const passwordFormSchema = formPage('Change the password (the account page)',
  'Form fields `current_password`, `new_password` and optionally `new_password_confirmation`. The current password is checked as a sign-in ' +
  'checks it (a wrong one counts toward the brute-force limits); the new one must be 8 to 1,024 characters and not a common or breached ' +
  'password. Every other session ends and every token issued before is refused; this browser stays signed in (a new session). Event `password_changed`.',
  'changePassword',
  { 401: html('the account page again: the current password is wrong'), 429: html('too many wrong passwords for this account or address (Retry-After)') })

export const endOtherSessionsSchema = formPage('Sign out every other session (the account page)',
  'Ends every session of the user but this browser\'s (their clients are told through back-channel logout). Event `sessions_ended`.', 'endOtherSessions')

export const endSessionSchema = formPage('Sign out one session (the account page)',
  'Form field `sid`: the session\'s id as the page shows it (never its cookie). Event `sessions_ended`.', 'endSession')

export const revokeAppSchema = formPage('Revoke an app (the account page)',
  'Form field `client_id`: the user\'s consent for that client and every grant it holds for them are revoked (its refresh tokens and ' +
  'access tokens are refused from then on; the consent page shows again). Event `consent_revoked`.', 'revokeApp')

export const unlinkProviderSchema = formPage('Unlink a sign-in provider (the account page)',
  'Form field `provider`. Refused (the page says why) when it is the only way to sign in: no password and no other provider. Event `provider_unlinked`.', 'unlinkProvider')

export const linkProviderSchema = {
  ...formPage('Link another sign-in provider (the account page)',
    'Form field `provider`: starts the sign-in at that provider (as `GET /login/{name}`); when it comes back, that provider account is ' +
    'linked to the signed-in user, unless it is linked to another user (409 page). Event `provider_linked`.', 'linkProvider'),
  response: { 303: redirect('to the provider (or, not signed in, to the login page)'), ...browserErrors, ...formErrors, 404: html('no such provider'), 502: html('the provider cannot be reached') }
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

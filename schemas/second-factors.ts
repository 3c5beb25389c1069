import { Type } from '@sinclair/typebox'
import { browserErrors, formErrors, html, redirect } from './browser.js'
import { formPage } from './accounts.js'
import { noSecurity } from './security.js'

/** The second-factor pages (CONTRACT.md, Second factors and passkeys; docs/second-factors.md): HTML pages and redirects. */

const returnTo = Type.Object({ return_to: Type.Optional(Type.String({ description: 'the pending `/authorize` path, or `/account`' })) }, { additionalProperties: true })

export const loginFactorPageSchema = {
  operationId: 'showSecondFactorPage',
  tags: ['browser'],
  summary: 'The second-factor page',
  description: 'After a right password for a user with a second factor (POST /login left a 5-minute sealed "password step" cookie and no ' +
    'session), or for a step-up of an existing session (sent here by /authorize): a form with `code` (an authenticator app\'s code or ' +
    'a recovery code). Neither: to the login page. A step-up of a session that used two factors already goes straight on; a user ' +
    'with no second factor goes to `/login/enroll`.',
  security: noSecurity,
  querystring: returnTo,
  response: { 200: html('the second-factor form'), 303: redirect('nothing to finish here: the login page, the enrolment page, or on'), ...browserErrors }
}

export const loginFactorSchema = {
  operationId: 'submitSecondFactor',
  tags: ['browser'],
  summary: 'Finish a sign-in with a second factor (the second-factor form)',
  description: 'Form fields `code`, `csrf` and `return_to`. The code is a 6-digit TOTP code (RFC 6238, one step of drift; each code ' +
    'works once, and none older than the last one accepted) or a recovery code (single use). Wrong codes count toward the account\'s ' +
    'brute-force limit as wrong passwords do (429 beyond it; events `mfa_failed`, `login_throttled`). Right: a new session whose `amr` ' +
    'adds `otp` and `mfa` (`auth_time` now), then 303 on as after the login form.',
  security: noSecurity,
  consumes: ['application/x-www-form-urlencoded'],
  response: {
    303: redirect('signed in: on to the client, the consent page, or the page the sign-in was for; or, with no step to finish, to the login page'),
    ...browserErrors,
    400: html('the form again: no code entered (or an error page: the pending request is no longer valid)'),
    401: html('the form again: the code is wrong, used already, or too old'),
    429: html('the form again: too many wrong codes or passwords for this account (Retry-After)'),
    ...formErrors
  }
}

const enrolForm = (operationId: string, summary: string, description: string, extra: Record<string, unknown> = {}) => ({
  operationId,
  tags: ['browser'],
  summary,
  description: `${description} Form field \`csrf\`. Not signed in: to the login page; a user who has a second factor already: to \`/login/factor\`.`,
  security: noSecurity,
  consumes: ['application/x-www-form-urlencoded'],
  response: {
    200: html('the enrolment page: the app to add (QR code, key, `data-otpauth-uri`), or the recovery codes'),
    303: redirect('to the login page, the second-factor page, or on'),
    ...browserErrors,
    409: html('authenticator apps cannot be added: no SECRETS_KEY on this server, or the user has the most factors an account may hold'),
    ...formErrors,
    ...extra
  }
})

export const loginEnrollPageSchema = {
  operationId: 'showSecondFactorEnrolment',
  tags: ['browser'],
  summary: 'Add a second factor during a sign-in',
  description: 'For a signed-in user without a second factor whom a client or the server requires to have one (/authorize sends them ' +
    'here): a button that starts adding an authenticator app (or, without SECRETS_KEY, a page saying it cannot be). `return_to`: the ' +
    'pending `/authorize` path, or `/account`.',
  security: noSecurity,
  querystring: returnTo,
  response: { 200: html('the enrolment page'), 303: redirect('not signed in: to the login page; a user with a factor: to `/login/factor`'), ...browserErrors }
}

export const loginEnrollStartSchema = enrolForm('startSecondFactorEnrolment', 'Start adding an authenticator app during a sign-in',
  'Form field `return_to`. Makes a new secret (or shows the one still waiting for its first code) and shows it as a QR code, as text and as ' +
  'the `otpauth://` URI; it counts only once confirmed.')

export const loginEnrollConfirmSchema = enrolForm('confirmSecondFactorEnrolment', 'Confirm the authenticator app added during a sign-in',
  'Form fields `factor_id`, `code` and `return_to`. A right code turns the app on (event `mfa_enrolled`), replaces the session by one ' +
  'with two factors (`amr` adds `otp` and `mfa`) and shows the ten recovery codes once, with a link on to `return_to`.',
  { 400: html('the enrolment page again: the code is wrong, or the setup expired') })

/** An account-page form of the second-factor section: as every account form (accounts.ts formPage), and a 200 that shows what is seen once. */
const accountForm = (operationId: string, summary: string, description: string, extra: Record<string, unknown> = {}) =>
  formPage(summary, description, operationId, { 200: html('the account page, showing what must be seen once (the app to add, or recovery codes)'), ...extra })

export const startTotpSchema = accountForm('startAuthenticatorApp', 'Start adding an authenticator app (the account page)',
  'Form field `name` (optional, at most 64 characters). Shows the new secret as a QR code, as text and as the `otpauth://` URI ' +
  '(`data-otpauth-uri`); it counts only once confirmed with a code. At most 5 second factors per user; an enrolment not confirmed within an hour is deleted.',
  { 409: html('no SECRETS_KEY on this server (authenticator apps cannot be added), or the user has the most factors an account may hold') })

export const confirmTotpSchema = accountForm('confirmAuthenticatorApp', 'Confirm an authenticator app (the account page)',
  'Form fields `factor_id` and `code`. A right code turns the app on (event `mfa_enrolled`); with the user\'s first factor, ten recovery ' +
  'codes are shown once (each in an element with `data-recovery-code`).')

const proof = 'Form field `current_password` (or, for an account without a password, `code`: an app\'s code or a recovery code), checked ' +
  'as a sign-in checks it (wrong ones count toward the brute-force limits).'

export const regenerateRecoveryCodesSchema = accountForm('regenerateRecoveryCodes', 'Make new recovery codes (the account page)',
  `${proof.replace('(or, for an account without a password, `code`', '(or `code`')} Ten new codes are shown once; the old ones stop working. Event \`mfa_enrolled\` (factor \`recovery_codes\`).`,
  { 401: html('the account page again: the password or code is wrong'), 429: html('too many wrong passwords or codes for this account (Retry-After)') })

export const removeTotpSchema = accountForm('removeAuthenticatorApp', 'Remove an authenticator app (the account page)',
  `Form field \`factor_id\`. ${proof} With the last second factor gone, the recovery codes go too. Event \`mfa_removed\`.`,
  { 401: html('the account page again: the password or code is wrong'), 429: html('too many wrong passwords or codes for this account (Retry-After)') })

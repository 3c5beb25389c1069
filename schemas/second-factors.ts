import { Type } from '@sinclair/typebox'
import { browserErrors, formErrors, html, redirect } from './browser.js'
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

import { Type } from '@sinclair/typebox'
import { AdminErrorSchemas } from './admin.js'
import { browserErrors, formErrors, html, redirect } from './browser.js'
import { ref } from './common.js'
import { noSecurity } from './security.js'

/** Passkeys (WebAuthn): the options the pages' script asks for, the forms it submits, and the scripts themselves. */

export const assetSchema = {
  operationId: 'getAsset',
  tags: ['browser'],
  summary: 'A script or operator file the pages load',
  description: 'The passkey pages\' scripts (@simplewebauthn/browser\'s bundle and the page script), served locally; each name carries a ' +
    'digest of its content, so it is cached for a year. Then the operator\'s files from ASSETS_DIR (a stylesheet, images: docs/browser-sign-in.md), cached for an hour. Any other name: 404.',
  security: noSecurity,
  params: Type.Object({ file: Type.String({ maxLength: 128, description: 'the script\'s file name, as a page names it' }) }),
  response: {
    200: { description: 'the script (text/javascript), or the operator\'s file (text/css or an image type)', content: { 'text/javascript': { schema: Type.String() } } },
    // As every route: a malformed or over-long path parameter is refused before the handler (lib/http/framework-errors.ts).
    400: ref(AdminErrorSchemas.invalidRequest, 'a malformed name (or one past the router\'s length limit)'),
    404: ref(AdminErrorSchemas.notFound, 'no such script')
  }
}

const WebAuthnOptions = Type.Object({}, { additionalProperties: true, description: 'WebAuthn options in their JSON form (W3C WebAuthn Level 3 §5.1.7)' })

const optionsPage = (operationId: string, summary: string, description: string) => ({
  operationId,
  tags: ['browser'],
  summary,
  description: `${description} The challenge is good once, for 5 minutes, in this browser only. Form field \`csrf\` (missing or another ` +
    'browser\'s: 403 page). Ceremonies are limited per client address (429 page with Retry-After); a failed one counts twice.',
  security: noSecurity,
  consumes: ['application/x-www-form-urlencoded'],
  response: {
    200: { description: 'the options for navigator.credentials', content: { 'application/json': { schema: WebAuthnOptions } } },
    ...browserErrors,
    ...formErrors
  }
})

export const passkeySignInOptionsSchema = optionsPage('passkeySignInOptions', 'Start a sign-in with a passkey (the login page)',
  'Options for navigator.credentials.get(): any discoverable passkey of this site (no username), user verification required.')

export const passkeySignInSchema = {
  operationId: 'passkeySignIn',
  tags: ['browser'],
  summary: 'Sign in with a passkey (the login page\'s "Sign in with a passkey")',
  description: 'Form fields `csrf`, `response` (the credential\'s JSON, as @simplewebauthn/browser gives it) and `return_to` (the pending ' +
    '`/authorize` path). The assertion must answer a challenge this browser got from /login/passkey/options, once, within 5 minutes, from ' +
    'the issuer\'s origin and RP ID, with user verification, by a registered passkey of an enabled user, its signature counter moving ' +
    'forward. Then a session starts (`amr` `hwk` or `swk`, `user`, `mfa`) and the flow continues as after the login form. Events ' +
    '`passkey_signin`; a refusal: `mfa_failed` with its reason, and the login page again (401).',
  security: noSecurity,
  consumes: ['application/x-www-form-urlencoded'],
  response: {
    303: redirect('signed in: on to the client (a code, or the consent page), or to the signed-in page'),
    200: html('with response_mode=form_post, the page posting the answer to the client'),
    401: html('the login page again: the passkey was not accepted'),
    ...browserErrors,
    ...formErrors
  }
}

const toLogin = redirect('not signed in: to `/login?return_to=/account`')

export const passkeyRegisterOptionsSchema = {
  ...optionsPage('passkeyRegisterOptions', 'Start adding a passkey (the account page)',
    'Options for navigator.credentials.create(): a discoverable credential with user verification, none of the user\'s passkeys again.'),
  response: { ...optionsPage('', '', '').response, 303: toLogin }
}

export const passkeyRegisterSchema = {
  operationId: 'addPasskey',
  tags: ['browser'],
  summary: 'Add a passkey (the account page\'s "Add a passkey")',
  description: 'Form fields `csrf`, `name` (shown on the page; default "Passkey") and `response` (the new credential\'s JSON). The ' +
    'attestation must answer a challenge this browser got for this user from /account/passkeys/options, once, within 5 minutes, from the ' +
    'issuer\'s origin and RP ID, with user verification. At most 5 second factors per user. Event `passkey_registered`.',
  security: noSecurity,
  consumes: ['application/x-www-form-urlencoded'],
  response: {
    303: redirect('added: back to `/account` with a notice (or, not signed in, to the login page)'),
    ...browserErrors,
    400: html('the account page again: the passkey was not added, and why'),
    ...formErrors
  }
}

export const passkeyEnrolOptionsSchema = {
  ...optionsPage('passkeyEnrolOptions', 'Start adding a passkey during a sign-in (/login/enroll)',
    'Options for navigator.credentials.create() for the signed-in user who must add a second factor: as on the account page.'),
  response: { ...optionsPage('', '', '').response, 303: redirect('not signed in: to the login page; a user with a second factor already: to `/login/factor`') }
}

export const passkeyEnrolSchema = {
  operationId: 'enrolPasskey',
  tags: ['browser'],
  summary: 'Add a passkey during a sign-in (/login/enroll\'s "Add a passkey")',
  description: 'Form fields `csrf`, `name`, `response` (the new credential\'s JSON) and `return_to`, checked as on the account page. ' +
    'Added: the session is replaced by one with two factors (`amr` adds `hwk` or `swk`, and `mfa`) and the flow goes on to `return_to`. ' +
    'Event `passkey_registered`.',
  security: noSecurity,
  consumes: ['application/x-www-form-urlencoded'],
  response: {
    303: redirect('added: on to `return_to` (or, not signed in, to the login page)'),
    ...browserErrors,
    400: html('the enrolment page again: the passkey was not added, and why'),
    ...formErrors
  }
}

export const passkeyRemoveSchema = {
  operationId: 'removePasskey',
  tags: ['browser'],
  summary: 'Remove a passkey (the account page)',
  description: 'Form fields `csrf`, `id` (the passkey\'s id as the page shows it) and `current_password`, checked as a sign-in checks it ' +
    '(a wrong one counts toward the brute-force limits); a user without a password must have signed in within the last 5 minutes. ' +
    'Event `mfa_removed`.',
  security: noSecurity,
  consumes: ['application/x-www-form-urlencoded'],
  response: {
    303: redirect('removed: back to `/account` with a notice (or, not signed in, to the login page)'),
    ...browserErrors,
    400: html('the account page again: nothing was removed, and why'),
    401: html('the account page again: the current password is wrong'),
    429: html('too many wrong passwords for this account or address (Retry-After)'),
    ...formErrors
  }
}

export const passkeyFactorOptionsSchema = {
  ...optionsPage('passkeyFactorOptions', 'Start a passkey as the second factor (the second-factor page)',
    'Options for navigator.credentials.get(): one of the passkeys of the user whose password step is done (or whose session steps up).'),
  response: { ...optionsPage('', '', '').response, 303: redirect('no password step and no session: to the login page') }
}

export const passkeyFactorSchema = {
  operationId: 'passkeySecondFactor',
  tags: ['browser'],
  summary: 'A passkey as the second factor (the second-factor page\'s "Sign in with a passkey")',
  description: 'Form fields `csrf`, `response` (the assertion\'s JSON) and `return_to`. As POST /login/passkey, but the passkey must be ' +
    'one of the user\'s whose password step is done (or whose session steps up); then the session\'s `amr` adds `hwk` or `swk` and `mfa` ' +
    'to `pwd`, and the flow continues as after a right code. Events `passkey_signin` (`step` second-factor); a refusal: `mfa_failed`, and ' +
    'the second-factor page again (401).',
  security: noSecurity,
  consumes: ['application/x-www-form-urlencoded'],
  response: {
    303: redirect('on to the client (a code, or the consent page), or the page the sign-in was for; or, no password step, to the login page'),
    200: html('with response_mode=form_post, the page posting the answer to the client'),
    401: html('the second-factor page again: the passkey was not accepted'),
    ...browserErrors,
    ...formErrors
  }
}

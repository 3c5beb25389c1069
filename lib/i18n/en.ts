/**
 * The pages' English messages: the catalogue every other language must match key for key (lib/i18n/index.ts).
 * `{name}` is a value the page fills in (escaped, as all text); a message never holds HTML.
 */
export const en = {
  'layout.secured_by': 'Secured by {issuer}',

  'login.title': 'Sign in',
  'login.heading': 'Sign in',
  'login.continue_to': 'to continue to {client}',
  'login.username': 'Username',
  'login.password': 'Password',
  'login.submit': 'Sign in',
  'login.passkey': 'Sign in with a passkey',
  'login.forgot': 'Forgot your password?',
  'login.or': 'or',
  'login.continue_with': 'Continue with {provider}',
  'login.new_here': 'New here?',
  'login.create_account': 'Create an account',

  'consent.title': 'Allow access',
  'consent.heading': 'Allow {client} to access your account?',
  'consent.described_by': 'This app is described by a document on {host}.',
  'consent.not_verified': 'Not verified:',
  'consent.registered_itself': 'this app registered itself.',
  'consent.describes_itself': 'this app describes itself.',
  'consent.claims_name': 'Its name is its own claim, not checked by {issuer}.',
  'consent.claims_name_uri': 'Its name and address are its own claims, not checked by {issuer}.',
  'consent.client_id': 'Its client id is {id}.',
  'consent.says_it_is': 'It says it is {uri} (not a link: check it yourself).',
  'consent.signed_in_as': 'Signed in as {user}.',
  'consent.asks_for': '{client} asks for:',
  'consent.api': 'Access to {api}',
  'consent.device_code': 'Only allow this if your device shows the code {code}.',
  'consent.allow': 'Allow',
  'consent.deny': 'Deny',

  'error.title': 'Something went wrong',
  'error.heading': 'This request cannot continue',
  'error.code': 'Error: {error}. Go back to the application you came from and try again.',
  'error.reference': 'Reference: {id}. Give it to support if this keeps happening.',

  'factor.title': 'Second factor',
  'factor.heading': 'Confirm it is you',
  'factor.step_up': 'This needs a second factor on top of how you signed in, {user}.',
  'factor.password_ok': 'Your password was right, {user}. One more step.',
  'factor.code_label': 'Code from your authenticator app, or a recovery code',
  'factor.code_hint': 'Six digits from the app, or one of your recovery codes (each works once).',
  'factor.continue': 'Continue',
  'factor.someone_else': 'Sign in as someone else',

  'logout.title': 'Sign out',
  'logout.heading': 'Sign out?',
  'logout.signed_in_as': 'Signed in as {user}.',
  'logout.client_asks': '{client} asks to sign you out.',
  'logout.submit': 'Sign out',

  'signed_out.title': 'Signed out',
  'signed_out.heading': 'You are signed out',
  'signed_out.lead': 'You can close this window.'
} as const

/** A message's key. */
export type MessageKey = keyof typeof en
/** A language's catalogue: every key of the English one. */
export type Catalogue = Record<MessageKey, string>

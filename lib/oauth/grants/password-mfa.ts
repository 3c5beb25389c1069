import type { Config } from '../../config.js'
import type { Client } from '../../stores/types.js'

/**
 * The password grant and second factors (SECURITY-CASES Q2; docs/second-factors.md "Requiring a second factor"). The
 * grant carries a password and nothing else, so it cannot check a second factor: wherever one is wanted it refuses,
 * with invalid_grant and a description that says so, as the browser asks for the factor where this cannot. What
 * wants one: the user has one (whatever the server's setting), MFA=required (every user, as the browser enrols
 * those without one), a client added with --require-mfa. A client added with --password-grant-skips-mfa (the legacy
 * path, off by default) is served on the password alone. The caller asks only once the password is proven right
 * (lib/oauth/sign-in.ts), so the answer to a wrong password stays the one answer.
 *
 * Returns why the grant is refused, or undefined when it may be served.
 */
export function passwordGrantRefusal (input: { client: Pick<Client, 'requireMfa' | 'passwordGrantSkipsMfa'>, mfa: Config['mfa'], factors: number }): string | undefined {
  const { client, mfa, factors } = input
  if (client.passwordGrantSkipsMfa) return undefined
  const use = 'sign in through the browser (the authorization code flow)'
  if (factors > 0) return `a second factor is required for this user, which the password grant cannot check: ${use}`
  if (mfa === 'required') return `this server requires a second factor, which the password grant cannot check: ${use}`
  if (client.requireMfa) return `this client requires a second factor, which the password grant cannot check: ${use}`
  return undefined
}

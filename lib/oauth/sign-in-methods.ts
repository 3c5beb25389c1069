import type { Client } from '../stores/types.js'

/**
 * How a browser session was authenticated, and which ways a client accepts: the one home of that rule, used by
 * the login page (is the password form offered?), the upstream sign-in (is this provider offered?) and the
 * interaction policy (may an existing session serve this client? lib/oauth/interaction.ts).
 */

/** How a session was authenticated: through a provider (its name), or the password form (null); its RFC 8176 `amr`. */
export interface SignInMethod {
  provider: string | null
  amr: string[]
}

/** The password form (RFC 8176 `pwd`). */
export const PASSWORD_SIGN_IN: SignInMethod = { provider: null, amr: ['pwd'] }

/** At most this many `amr` values are kept from a provider, each a short token (anything else is dropped). */
const MAX_AMR = 8
const AMR_VALUE = /^[A-Za-z0-9_.:-]{1,32}$/

/** A sign-in through `provider`, with the `amr` values it reported (RFC 8176; a provider may report none). */
export function upstreamSignIn (provider: string, amr: unknown): SignInMethod {
  const values = Array.isArray(amr) ? amr.filter((v): v is string => typeof v === 'string' && AMR_VALUE.test(v)).slice(0, MAX_AMR) : []
  return { provider, amr: values }
}

/**
 * Whether `client` accepts a sign-in through `provider` (null: the password form). A client without a provider
 * list accepts every provider and the password form; one with a list (`clients … --providers`) accepts exactly
 * those providers and never the password form. No client (the bare /login): everything is offered.
 */
export function signInAccepted (client: Pick<Client, 'providers'> | undefined, provider: string | null): boolean {
  const only = client?.providers
  if (only === null || only === undefined) return true
  return provider !== null && only.includes(provider)
}

/** The password form is offered (and accepted) unless the client signs its users in through providers only. */
export function passwordFormAllowed (client: Pick<Client, 'providers'> | undefined): boolean {
  return signInAccepted(client, PASSWORD_SIGN_IN.provider)
}

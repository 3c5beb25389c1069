/**
 * How far the tables that grow with use may grow: the one home of these numbers. Without them one signed-in
 * browser could mint codes as fast as it can ask (each kept until the sweep), and one account could pile up
 * sessions as fast as it can sign in.
 */

/** Unredeemed codes one browser session may hold; issuing another ends the session's oldest unredeemed ones. */
export const CODES_PER_SESSION = 10

/**
 * Clients one browser session remembers having issued codes to (for Back-Channel Logout): past it, a further client
 * gets its codes but no logout token when the session ends. A real session signs into a handful of applications.
 */
export const CLIENTS_PER_SESSION = 50

/** Sessions one user may hold (browsers, devices); a new sign-in past it ends the user's oldest sessions. */
export const SESSIONS_PER_USER = 50

/**
 * How long a redeemed code is kept past its lifetime, so that a late replay is still recognised and revokes
 * what the first redemption issued (RFC 6749 §4.1.2). An unredeemed code is swept at its lifetime: it can no
 * longer be redeemed, so there is nothing left to recognise.
 */
export const REDEEMED_CODE_RETENTION_SECONDS = 24 * 3600

/** The default of SWEEP_INTERVAL_SECONDS: expired rows are deleted about this often (one instance sweeps each round). */
export const DEFAULT_SWEEP_INTERVAL_SECONDS = 60

/**
 * Sign-ups waiting for their link to be followed (account_links rows of purpose `signup`, 24 h each). Anyone may
 * ask for one, so the per-address and per-e-mail limits alone would let many addresses grow the table for a day;
 * past this bound a sign-up is told to try later (whether or not its e-mail is taken: the same answer).
 */
export const PENDING_SIGNUPS_MAX = 10_000

/**
 * Second factors one user may hold (authenticator apps and passkeys together, unconfirmed enrolments included:
 * UserFactorStore.create holds the bound), so a loop of started enrolments cannot grow the table. A person has a
 * phone, a laptop and a key or two.
 */
export const MAX_FACTORS_PER_USER = 5

/** How long an authenticator app may wait for its first code: older unconfirmed enrolments are swept. */
export const UNCONFIRMED_FACTOR_SECONDS = 3600

/**
 * An open dynamic registration (REGISTRATION=open, lib/oauth/registration.ts) that never got a token is deleted
 * this long after it was made (lib/ops/sweep.ts): with the per-address limit, what one address can keep is bounded.
 */
export const UNUSED_REGISTRATION_SECONDS = 24 * 3600

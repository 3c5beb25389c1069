/**
 * The administrator behind an admin API call, as events name them (admin_change, invitation_sent, factors_reset):
 * the token's user, else its subject (a client_credentials token names the client).
 */
export const adminActor = (auth: { user?: { username: string }, claims: { sub: string } } | null | undefined): string =>
  auth?.user?.username ?? auth?.claims.sub ?? ''

import { ConflictError, type Client, type ClientPatch, type NewClient, type Storage } from '../stores/types.js'

/**
 * The admin console signs its users in as an ordinary OpenID client of this server (docs/console.md): a stored client
 * row, not a virtual one like the password grant's DEFAULT_CLIENT, so /authorize, the code store, the token standing
 * and the admin API see it with no special case. Public with PKCE (RFC 9700 §2.1.1): the console redeems its codes
 * in-process, so a secret would protect nothing; its one redirect URI is the issuer's own callback; it skips the
 * consent page (a first-party client) and asks for `openid admin`, which a user without `admin` cannot be given.
 */
export const CONSOLE_CLIENT_ID = 'gatehouse-console'
export const CONSOLE_SCOPE = 'openid admin'

export const consoleRedirectUri = (issuer: string): string => `${issuer.replace(/\/+$/, '')}/console/callback`

/** The row as it must be for `issuer`: every field the console relies on. */
export function consoleClientFields (issuer: string): Required<Pick<NewClient, 'isPublic' | 'grantTypes' | 'scope' | 'redirectUris' | 'skipConsent' | 'pkce' | 'providers' | 'requirePar' | 'requireMfa' | 'dpopBoundAccessTokens'>> {
  return {
    isPublic: true,
    grantTypes: ['authorization_code'],
    scope: CONSOLE_SCOPE,
    redirectUris: [consoleRedirectUri(issuer)],
    skipConsent: true,
    pkce: 'required',
    providers: null,
    requirePar: false,
    requireMfa: false,
    dpopBoundAccessTokens: false
  }
}

/** What differs between the stored row and the one the console needs (empty when nothing does). */
export function consoleClientDrift (client: Client, issuer: string): ClientPatch {
  const wanted = consoleClientFields(issuer)
  const patch: ClientPatch = {}
  if (client.isPublic !== wanted.isPublic) throw new Error(`client ${CONSOLE_CLIENT_ID} exists as a confidential client: remove it (gatehouse clients remove ${CONSOLE_CLIENT_ID}) so the console can create its own`)
  if (client.grantTypes.join(' ') !== wanted.grantTypes.join(' ')) patch.grantTypes = wanted.grantTypes
  if (client.scope !== wanted.scope) patch.scope = wanted.scope
  if (client.redirectUris.join(' ') !== wanted.redirectUris.join(' ')) patch.redirectUris = wanted.redirectUris
  for (const key of ['skipConsent', 'pkce', 'providers', 'requirePar', 'requireMfa', 'dpopBoundAccessTokens'] as const) {
    if (client[key] !== wanted[key]) Object.assign(patch, { [key]: wanted[key] })
  }
  return patch
}

/**
 * Makes sure the console's client exists as it must, when a process first sends someone to sign in to the console: created when missing, put right when it
 * drifted (another ISSUER, an edit). Several instances starting at once: one create wins, the others find its row
 * (ConflictError), and every one of them writes the same values.
 */
export async function ensureConsoleClient (storage: Storage, issuer: string): Promise<Client> {
  let client = await storage.clients.find(CONSOLE_CLIENT_ID)
  if (!client) {
    try {
      return await storage.clients.create({ id: CONSOLE_CLIENT_ID, secretHash: null, postLogoutRedirectUris: [], ...consoleClientFields(issuer) })
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err
      client = await storage.clients.find(CONSOLE_CLIENT_ID)
      if (!client) throw err
    }
  }
  const patch = consoleClientDrift(client, issuer)
  if (Object.keys(patch).length === 0) return client
  return (await storage.clients.update(CONSOLE_CLIENT_ID, patch)) ?? client
}

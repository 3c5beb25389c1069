import { generateClientSecret, hashClientSecret } from '../oauth/client-secrets.js'
import { DEFAULT_CLIENT } from '../oauth/client-auth.js'
import { formatScope, isValidScopeList, parseScope } from '../oauth/scopes.js'
import type { Client, GrantType, RevokeOptions, Storage } from '../stores/types.js'
import { AdminError } from '../errors.js'

export const GRANT_TYPES: GrantType[] = ['password', 'client_credentials', 'refresh_token', 'authorization_code']
const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/

export interface ClientInput {
  isPublic: boolean
  grantTypes: string[]
  scope: string | null
  redirectUris: string[]
}

/** Client registration rules shared by the CLI and the admin API. */
export function checkClientInput (input: ClientInput): asserts input is ClientInput & { grantTypes: GrantType[] } {
  const unknown = input.grantTypes.filter((g) => !GRANT_TYPES.includes(g as GrantType))
  if (unknown.length) throw new AdminError(`unknown grant type: ${unknown.join(', ')} (known: ${GRANT_TYPES.join(', ')})`, 'invalid')
  if (input.grantTypes.length === 0) throw new AdminError('a client needs at least one grant type', 'invalid')
  // RFC 6749 §4.4: client_credentials is for confidential clients only.
  if (input.isPublic && input.grantTypes.includes('client_credentials')) throw new AdminError('a public client cannot have the client_credentials grant', 'invalid')
  if (input.scope !== null && !isValidScopeList(input.scope)) throw new AdminError('scope: not a space-separated list of scope tokens', 'invalid')
  for (const uri of input.redirectUris) checkRedirectUri(uri)
  if (input.grantTypes.includes('authorization_code') && input.redirectUris.length === 0) throw new AdminError('the authorization_code grant needs at least one redirect URI', 'invalid')
}

/** Absolute URIs without a fragment (RFC 6749 §3.1.2); plain http only for loopback (RFC 8252 §7.3, BCP §2.6). */
function checkRedirectUri (uri: string): void {
  // URL() would percent-encode these, but the URI is stored and compared as sent: refuse them (RFC 3986
  // has no raw whitespace or control characters; PostgreSQL text cannot hold U+0000 either).
  if (/[\s\u0000-\u001f\u007f]/.test(uri)) throw new AdminError(`redirect URI contains whitespace or a control character: ${JSON.stringify(uri).slice(0, 200)}`, 'invalid')
  let url: URL
  try { url = new URL(uri) } catch { throw new AdminError(`redirect URI is not an absolute URI: ${uri}`, 'invalid') }
  if (url.hash || uri.includes('#')) throw new AdminError(`redirect URI must not have a fragment: ${uri}`, 'invalid')
  const loopback = url.hostname === '127.0.0.1' || url.hostname === '[::1]' || url.hostname === 'localhost'
  if (url.protocol === 'http:' && !loopback) throw new AdminError(`plain http redirect URIs are only allowed for loopback: ${uri}`, 'invalid')
}

/** Registers a client; returns it with its secret (shown once; only a digest is stored). */
export async function createClient (storage: Storage, id: string, input: ClientInput): Promise<{ client: Client, secret: string | undefined }> {
  if (!CLIENT_ID.test(id)) throw new AdminError('client id: letters, digits and . _ : - (1-128)', 'invalid')
  if (id === DEFAULT_CLIENT.id) throw new AdminError('client id "default" is reserved for the built-in public client', 'invalid')
  checkClientInput(input)
  const secret = input.isPublic ? undefined : generateClientSecret()
  try {
    const client = await storage.clients.create({
      id,
      secretHash: secret === undefined ? null : hashClientSecret(secret),
      isPublic: input.isPublic,
      grantTypes: [...new Set(input.grantTypes)],
      scope: input.scope === null ? null : formatScope(parseScope(input.scope)),
      redirectUris: input.redirectUris
    })
    return { client, secret }
  } catch (err) {
    if ((err as Error).name === 'ConflictError') throw new AdminError(`client ${id} already exists`, 'conflict')
    throw err
  }
}

export async function deleteClient (storage: Storage, id: string, revoke: RevokeOptions): Promise<Client> {
  const client = await storage.clients.delete(id)
  if (!client) throw new AdminError(`no client ${id}`, 'not_found')
  await storage.grants.revokeForClient(id, revoke)
  return client
}

/** The client as the API and CLI show it: never the secret digest. */
export function toClientView (client: Client) {
  return {
    client_id: client.id,
    public: client.isPublic,
    grant_types: client.grantTypes,
    scope: client.scope,
    redirect_uris: client.redirectUris,
    created_at: client.createdAt
  }
}

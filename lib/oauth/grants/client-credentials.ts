import { invalidClient } from '../../errors.js'
import { requestedResource, scopesForResource } from '../resources.js'
import { grantScope, parseScope } from '../scopes.js'
import type { Grant } from './types.js'

/**
 * RFC 6749 §4.4: a confidential client acting for itself (`sub` = client id), no refresh token.
 * The hot path for service-to-service calls: one client lookup, one HMAC, one signature. With `resource` (RFC 8707)
 * the token is for that API: `aud` its URI, and only scopes it defines that the client may ask for.
 */
export const clientCredentialsGrant: Grant<never> = {
  grantType: 'client_credentials',
  allowsAnonymous: false,
  parameters: [],
  async handle ({ body, client, dpopJkt }, { issuer, storage }) {
    // §4.4: confidential clients only (a public client cannot be given this grant, but be sure).
    if (client.isPublic) throw invalidClient(false, 'public clients cannot use client_credentials')
    const resource = await requestedResource(body.resource, storage.resources)
    const allowed = parseScope(client.scope)
    const scope = grantScope(body.scope, resource === undefined ? allowed : scopesForResource(allowed, resource, client))
    return issuer.issue({ client, scope, resource, dpopJkt })
  }
}

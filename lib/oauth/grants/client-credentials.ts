import { invalidClient } from '../../errors.js'
import { grantScope, parseScope } from '../scopes.js'
import type { Grant } from './types.js'

/**
 * RFC 6749 §4.4: a confidential client acting for itself (`sub` = client id), no refresh token.
 * The hot path for service-to-service calls: one client lookup, one HMAC, one signature.
 */
export const clientCredentialsGrant: Grant<never> = {
  grantType: 'client_credentials',
  allowsAnonymous: false,
  parameters: [],
  async handle ({ body, client }, { issuer }) {
    // §4.4: confidential clients only (a public client cannot be given this grant, but be sure).
    if (client.isPublic) throw invalidClient(false, 'public clients cannot use client_credentials')
    const scope = grantScope(body.scope, parseScope(client.scope))
    return issuer.issue({ client, scope })
  }
}

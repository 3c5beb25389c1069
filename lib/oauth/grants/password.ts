import { invalidGrant } from '../../errors.js'
import { grantScope, intersect, parseScope } from '../scopes.js'
import { requestedResource, scopesForResource } from '../resources.js'
import { signIn } from '../sign-in.js'
import { passwordGrantRefusal } from './password-mfa.js'
import type { Grant } from './types.js'

/**
 * RFC 6749 §4.3: resource owner password credentials. A user the browser would ask for a second factor is refused
 * here once the password is proven (lib/oauth/grants/password-mfa.ts), unless the client may skip it.
 */
export const passwordGrant: Grant<'username' | 'password'> = {
  grantType: 'password',
  allowsAnonymous: true,
  parameters: ['username', 'password'],
  disabled: (config) => config.passwordGrant ? undefined : 'the password grant is disabled on this server',
  async handle ({ body, client, clientIp, addressKey, dpopJkt, log }, { storage, passwords, issuer, throttle, events, config }) {
    const { username, password } = body
    // Before the password is checked: an unknown resource costs no sign-in attempt (RFC 8707 §2.2).
    const resource = await requestedResource(body.resource, storage.resources)
    // A right password of a user with a factor clears none of the account's failures (lib/oauth/sign-in.ts), so a
    // known password cannot wipe the count that wrong codes add to, whatever this grant answers next.
    const user = await signIn({ storage, passwords, throttle, log, events }, { username, password, clientIp, addressKey, clientId: client.id })
    // Not read for a client that skips it: the legacy path costs no extra query.
    const factors = client.passwordGrantSkipsMfa ? 0 : await storage.factors.countConfirmed(user.id)
    const refusal = passwordGrantRefusal({ client, mfa: config.mfa, factors })
    if (refusal !== undefined) {
      log.info({ clientId: client.id, userId: user.id }, 'password grant refused: a second factor is wanted')
      throw invalidGrant(refusal)
    }

    const refresh = client.grantTypes.includes('refresh_token')
    if (resource !== undefined) {
      // A token for another API (RFC 8707): the scopes it defines, within the client's list; the family may name it alone.
      const scope = grantScope(body.scope, scopesForResource(parseScope(resource.scope), resource, client))
      return issuer.issue({ user, client, scope, refresh, resource, resources: [resource.uri], dpopJkt })
    }
    const userScopes = parseScope(user.scope)
    const allowed = client.scope === null ? userScopes : intersect(userScopes, parseScope(client.scope))
    const scope = grantScope(body.scope, allowed)
    return issuer.issue({ user, client, scope, refresh, dpopJkt })
  }
}

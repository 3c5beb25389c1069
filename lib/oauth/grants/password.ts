import { grantScope, intersect, parseScope } from '../scopes.js'
import { signIn } from '../sign-in.js'
import type { Grant } from './types.js'

/** RFC 6749 §4.3: resource owner password credentials. */
export const passwordGrant: Grant<'username' | 'password'> = {
  grantType: 'password',
  allowsAnonymous: true,
  parameters: ['username', 'password'],
  disabled: (config) => config.passwordGrant ? undefined : 'the password grant is disabled on this server',
  async handle ({ body, client, clientIp, addressKey, log }, { storage, passwords, issuer, throttle, events }) {
    const { username, password } = body
    const user = await signIn({ storage, passwords, throttle, log, events }, { username, password, clientIp, addressKey, clientId: client.id })

    const userScopes = parseScope(user.scope)
    const allowed = client.scope === null ? userScopes : intersect(userScopes, parseScope(client.scope))
    const scope = grantScope(body.scope, allowed)
    return issuer.issue({ user, client, scope, refresh: client.grantTypes.includes('refresh_token') })
  }
}

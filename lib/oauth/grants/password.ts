import { invalidRequest, unauthorizedClient } from '../../errors.js'
import { grantScope, intersect, parseScope } from '../scopes.js'
import { signIn } from '../sign-in.js'
import type { GrantHandler } from './types.js'

/** RFC 6749 §4.3: resource owner password credentials. */
export const passwordGrant: GrantHandler = {
  grantType: 'password',
  allowsAnonymous: true,
  async handle ({ body, client, storage, passwords, issuer, config, throttle, clientIp, log, events }) {
    if (!config.passwordGrant) throw unauthorizedClient('the password grant is disabled on this server')
    const { username, password } = body
    if (username === undefined) throw invalidRequest('missing parameter: username')
    if (password === undefined) throw invalidRequest('missing parameter: password')

    const user = await signIn({ storage, passwords, throttle, log, events }, { username, password, clientIp, clientId: client.id })

    const userScopes = parseScope(user.scope)
    const allowed = client.scope === null ? userScopes : intersect(userScopes, parseScope(client.scope))
    const scope = grantScope(body.scope, allowed)
    return issuer.issue({
      sub: user.id,
      clientId: client.id,
      scope,
      refreshFor: client.grantTypes.includes('refresh_token') ? { userId: user.id } : undefined
    })
  }
}

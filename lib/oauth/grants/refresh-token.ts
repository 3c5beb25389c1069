import { invalidGrant, invalidScope } from '../../errors.js'
import { pickResource, requestedResource, scopesForResource } from '../resources.js'
import { currentScope, formatScope, parseScope } from '../scopes.js'
import { checkRefreshBinding } from '../dpop-binding.js'
import type { Grant } from './types.js'

/**
 * RFC 6749 §6 with rotation (RFC 9700 §4.14.2): every use spends the token and returns the next one;
 * a spent token presented again revokes the whole family and the access tokens issued from it.
 */
export const refreshTokenGrant: Grant<'refresh_token'> = {
  grantType: 'refresh_token',
  allowsAnonymous: true,
  parameters: ['refresh_token'],
  async handle ({ body, client, dpopJkt, log }, { storage, issuer, events }) {
    const found = await issuer.refreshTokens.find(body.refresh_token)
    // Bound to the client it was issued to (§6, §10.4): another client's token is simply invalid.
    if (!found || found.grant.clientId !== client.id) throw invalidGrant()
    const { grant } = found
    // RFC 9449 §5: a public client's family is bound to its DPoP key; checked before the token is spent.
    checkRefreshBinding(grant, dpopJkt)
    // RFC 8707 §2.2: only a resource granted at authorization, never another (SECURITY-CASES D4); checked before the
    // token is spent, so a refused request leaves it usable.
    const target = pickResource(body.resource, grant.resources ?? [])
    const resource = await requestedResource(target, storage.resources)

    const user = await storage.users.findById(grant.userId)
    if (!user || user.disabled || user.credentialVersion !== grant.credentialVersion) throw invalidGrant()

    // May narrow the scope, never widen it beyond the original grant (§6). Scopes the user or the client has
    // lost since are dropped rather than renewed (lib/oauth/scopes.ts `currentScope`).
    const original = parseScope(grant.scope)
    let scope = original
    if (body.scope !== undefined) {
      const wanted = parseScope(body.scope)
      const extra = wanted.filter((s) => !original.includes(s))
      if (extra.length > 0) throw invalidScope(`scope not originally granted: ${extra.join(' ').slice(0, 200)}`)
      scope = wanted
    }
    // A resource's token: the scopes it still defines (the user allowed them on the consent page, held or not);
    // Gatehouse's own: those the user and the client still hold.
    scope = resource === undefined ? currentScope(scope, user, client) : scopesForResource(scope, resource, client)

    const result = await issuer.refreshTokens.rotate(found)
    if (result.outcome === 'reused') {
      events.emit({ type: 'refresh_reuse', grantId: grant.id, clientId: client.id }, log)
      throw invalidGrant()
    }
    if (result.outcome !== 'rotated' || result.next === undefined) throw invalidGrant()
    // What the `claims` parameter asked for at /userinfo stays with the family (lib/oauth/claims.ts).
    return issuer.issue({ user, client, scope: formatScope(scope), family: { grantId: grant.id, refreshToken: result.next }, claims: grant.claims, resource, dpopJkt })
  }
}

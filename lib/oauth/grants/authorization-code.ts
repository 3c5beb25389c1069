import { invalidGrant } from '../../errors.js'
import { digest } from '../../credentials/digest.js'
import { verifierMatches } from '../authorize.js'
import { idTokenUserClaims } from '../claims.js'
import { revokeIssued } from '../revocation.js'
import { pickResource, scopesAtRedemption, stillRegistered } from '../resources.js'
import { formatScope } from '../scopes.js'
import { checkCodeBinding } from '../dpop-binding.js'
import type { Grant } from './types.js'

/**
 * RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.6; RFC 9700 §4.8.2 against its downgrade) and OpenID Connect (Core
 * §3.1.3). The code is checked against its bindings (client, redirect URI, verifier, lifetime) before it is
 * redeemed, so a client that stole a code cannot burn it; then one atomic redemption decides the single winner.
 * A replay revokes what the first redemption issued (§4.1.2: SHOULD revoke): its ids are recorded with the
 * redemption, before issuing.
 */
export const authorizationCodeGrant: Grant<'code'> = {
  grantType: 'authorization_code',
  // Public clients authenticate with `client_id` alone (method none) and PKCE.
  allowsAnonymous: false,
  parameters: ['code'],
  async handle ({ body, client, dpopJkt, log }, { storage, issuer, clock, config, events }) {
    const hash = digest(body.code)
    const now = clock.now()
    const code = await storage.codes.find(hash)
    if (!code || code.clientId !== client.id) throw invalidGrant()
    if (code.redeemedAt === null) {
      if (body.redirect_uri !== code.redirectUri) throw invalidGrant('redirect_uri does not match the authorization request')
      if (!verifierMatches(body.code_verifier, code.codeChallenge)) {
        throw invalidGrant(code.codeChallenge === null ? 'a code_verifier was sent for a code issued without a code challenge' : 'code_verifier does not match the code challenge')
      }
      if (code.expiresAt <= now) throw invalidGrant('the authorization code has expired')
      checkCodeBinding(code, dpopJkt)
    }
    // RFC 8707 §2.2: the resource this token is for, among those the authorization named; checked before the code is spent.
    const granted = await stillRegistered(code.resources ?? [], storage.resources)
    const target = pickResource(body.resource, granted.map((r) => r.uri))
    const resource = granted.find((r) => r.uri === target)

    const plan = issuer.plan({ refresh: client.grantTypes.includes('refresh_token') })
    const result = await storage.codes.redeem(hash, now, plan)
    if (result.outcome === 'replayed') {
      const first = result.code.issued
      if (first) await revokeIssued(first, { storage, clock, accessTokenTtl: config.accessTokenTtl })
      events.emit({ type: 'code_reuse', clientId: client.id, grantId: first?.grantId }, log)
      throw invalidGrant()
    }
    if (result.outcome !== 'redeemed') throw invalidGrant()

    const user = await storage.users.findById(code.userId)
    // The code carries its session's credential version: a password change or a disable since it was issued (or
    // since the sign-in that made the session read the user) leaves it nothing to give.
    if (!user || user.disabled || user.credentialVersion !== code.credentialVersion) throw invalidGrant()
    // Scopes the user has lost since the consent are dropped (the OIDC ones name claims and always stay).
    const scopes = scopesAtRedemption(code.scope, user, client, granted, resource)
    // The family is created against the code's credential version, checked again in the transaction that creates
    // it: a change that lands meanwhile makes this invalid_grant (lib/oauth/token-issuer.ts); the access token
    // carries that version too, so without a family it is refused from then on.
    return issuer.issue({
      user: { id: user.id, credentialVersion: code.credentialVersion },
      client,
      scope: formatScope(scopes.token),
      grantedScope: formatScope(scopes.family),
      resource,
      resources: granted.map((r) => r.uri),
      plan,
      dpopJkt,
      claims: code.claims,
      idToken: { nonce: code.nonce, authTime: code.authTime, amr: code.amr ?? [], sid: code.sid ?? null, userClaims: idTokenUserClaims(user, code.claims ?? null) }
    })
  }
}

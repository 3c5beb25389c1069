import { randomUUID } from 'node:crypto'
import { invalidGrant, invalidRequest } from '../../errors.js'
import { hashCode } from '../authorization-codes.js'
import { isOidcScope, verifierMatches } from '../authorize.js'
import { idTokenClaims } from '../id-token.js'
import { revokeOptions } from '../../stores/deny-list.js'
import { revokeAccessToken } from '../revocation.js'
import { formatScope, parseScope } from '../scopes.js'
import type { GrantHandler } from './types.js'

/**
 * RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.6) and OpenID Connect (Core §3.1.3). The code is checked against
 * its bindings (client, redirect URI, verifier, lifetime) before it is redeemed, so a client that stole a
 * code cannot burn it; then one atomic redemption decides the single winner. A replay revokes what the
 * first redemption issued (§4.1.2: SHOULD revoke): its ids are recorded with the redemption, before issuing.
 */
export const authorizationCodeGrant: GrantHandler = {
  grantType: 'authorization_code',
  // Public clients authenticate with `client_id` alone (method none) and PKCE.
  allowsAnonymous: false,
  async handle ({ body, client, storage, issuer, config, log, events }) {
    if (body.code === undefined) throw invalidRequest('missing parameter: code')
    const hash = hashCode(body.code)
    const now = issuer.now()
    const code = await storage.codes.find(hash)
    if (!code || code.clientId !== client.id) throw invalidGrant()
    if (code.redeemedAt === null) {
      if (body.redirect_uri !== code.redirectUri) throw invalidGrant('redirect_uri does not match the authorization request')
      if (!verifierMatches(body.code_verifier, code.codeChallenge)) throw invalidGrant('code_verifier does not match the code challenge')
      if (code.expiresAt <= now) throw invalidGrant('the authorization code has expired')
    }

    const refresh = client.grantTypes.includes('refresh_token')
    const issued = { ...(refresh ? { grantId: randomUUID() } : {}), jti: randomUUID(), exp: now + issuer.ttl }
    const result = await storage.codes.redeem(hash, now, issued)
    if (result.outcome === 'replayed') {
      const first = result.code.issued
      if (first?.grantId) await storage.grants.revoke(first.grantId, revokeOptions(now, config.accessTokenTtl))
      if (first) await revokeAccessToken(storage.revocations, first)
      events.emit({ type: 'code_reuse', clientId: client.id, grantId: first?.grantId }, log)
      throw invalidGrant()
    }
    if (result.outcome !== 'redeemed') throw invalidGrant()

    const user = await storage.users.findById(code.userId)
    if (!user || user.disabled) throw invalidGrant()
    // Scopes the user has lost since the consent are dropped (the OIDC ones name claims and always stay).
    const userScopes = parseScope(user.scope)
    const scopes = parseScope(code.scope).filter((s) => isOidcScope(s) || userScopes.includes(s))
    const scope = formatScope(scopes)
    // The family is created against the credential version read just now: a password change or a disable that
    // lands meanwhile makes this invalid_grant (lib/oauth/token-issuer.ts).
    const reply = await issuer.issue({
      user,
      client,
      scope,
      jti: issued.jti,
      refresh: issued.grantId !== undefined,
      grantId: issued.grantId
    })
    if (scopes.includes('openid')) {
      reply.id_token = await issuer.signIdToken(idTokenClaims({
        issuer: config.issuer, user, clientId: client.id, now, ttl: issuer.ttl, authTime: code.authTime, nonce: code.nonce, accessToken: reply.access_token
      }))
    }
    return reply
  }
}

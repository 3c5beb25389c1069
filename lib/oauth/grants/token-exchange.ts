import { invalidRequest, invalidTarget, unauthorizedClient } from '../../errors.js'
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from '../../../schemas/vocabulary.js'
import { requestedResource } from '../resources.js'
import { actorClaim, checkSubjectIsUser, checkTokenTypes, exchangeScope, exchangeTarget, mayExchange, standingToken } from '../token-exchange.js'
import type { Grant } from './types.js'

/**
 * RFC 8693 token exchange (docs/token-exchange.md): a client trades a user's Gatehouse access token for one to
 * another registered resource, with `act` naming who acts for the user. Checked in order: the token types
 * (invalid_request), the target (invalid_target: one of the client's exchange targets, registered), the subject
 * token in full and whether it is the client's to exchange (invalid_request, RFC 8693 §2.2.2), the actor token likewise, the scopes
 * (invalid_scope). No refresh token (§2.2.1): the client exchanges again while the subject token lives.
 */
export const tokenExchangeGrant: Grant<'subject_token' | 'subject_token_type'> = {
  grantType: TOKEN_EXCHANGE_GRANT,
  allowsAnonymous: false,
  parameters: ['subject_token', 'subject_token_type'],
  async handle ({ body, client, clientIp, dpopJkt, log }, { storage, issuer, accessTokens, events, config }) {
    // A public client proves nothing about who it is: exchange is for confidential clients (a resource server, a
    // backend), as client_credentials is. Registration refuses the grant to public clients; be sure all the same.
    if (client.isPublic) throw unauthorizedClient('public clients cannot use token exchange')
    checkTokenTypes(body)
    const targetUri = exchangeTarget(body.resource, body.audience, client.exchangeTargets)
    const target = await requestedResource(targetUri, storage.resources)
    if (target === undefined) throw invalidTarget('no target')
    const deps = { accessTokens, storage, audience: config.audience }
    const subject = await standingToken(body.subject_token, 'subject_token', deps)
    checkSubjectIsUser(subject.claims)
    // The confused deputy (RFC 8693 §5): a token meant for another resource or client is not this client's to trade.
    if (!mayExchange(subject.claims, client)) throw invalidRequest('subject_token: the token was not issued to this client nor for a resource it acts for')
    let actor = client.id
    if (body.actor_token !== undefined) {
      const presented = await standingToken(body.actor_token, 'actor_token', deps)
      // Only the client's own tokens may name the actor: another client's token would let it claim to be that party.
      if (presented.claims.client_id !== client.id) throw invalidRequest('actor_token: the token was not issued to this client')
      actor = presented.claims.sub
    }
    const act = actorClaim(actor, subject.claims.act)
    const scope = exchangeScope(body.scope, subject.standing.scope, target, client)
    const user = { id: subject.claims.sub, credentialVersion: subject.claims.cred_ver ?? 0 }
    const reply = await issuer.issue({
      user,
      client,
      scope,
      resource: target,
      dpopJkt,
      exchange: { act, issuedTokenType: ACCESS_TOKEN_TYPE, grantId: subject.claims.grant_id }
    })
    events.emit({ type: 'token_exchanged', clientId: client.id, userId: user.id, subjectClientId: subject.claims.client_id, audience: target.uri, actor, ip: clientIp }, log)
    return reply
  }
}

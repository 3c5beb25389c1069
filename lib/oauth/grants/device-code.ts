import { accessDenied, authorizationPending, expiredToken, invalidGrant, slowDown } from '../../errors.js'
import { digest } from '../../credentials/digest.js'
import { DEVICE_CODE_GRANT } from '../../../schemas/vocabulary.js'
import { idTokenUserClaims } from '../claims.js'
import { pollAnswer, SLOW_DOWN_SECONDS } from '../device-codes.js'
import { formatScope } from '../scopes.js'
import { pickResource, scopesAtRedemption, stillRegistered } from '../resources.js'
import type { Grant } from './types.js'

/**
 * RFC 8628 §3.4, §3.5: the device polls with its device code. Each poll is recorded atomically (a poll sooner
 * than the interval grows it by 5 s and answers slow_down); then pending, denied or expired answer as §3.5 says,
 * and an approved request is redeemed (approved → used, one atomic update): exactly one poll gets the tokens,
 * every later one invalid_grant. Public clients authenticate with `client_id` alone (§3.4).
 */
export const deviceCodeGrant: Grant<'device_code'> = {
  grantType: DEVICE_CODE_GRANT,
  allowsAnonymous: false,
  parameters: ['device_code'],
  async handle ({ body, client, dpopJkt }, { storage, issuer, clock }) {
    const hash = digest(body.device_code)
    const now = clock.now()
    const polled = await storage.deviceCodes.poll(hash, now, SLOW_DOWN_SECONDS)
    const answer = pollAnswer(polled?.code, client.id, now, polled?.tooSoon ?? false)
    switch (answer.kind) {
      case 'invalid_grant': throw invalidGrant()
      case 'expired_token': throw expiredToken()
      case 'slow_down': throw slowDown(answer.interval)
      case 'access_denied': throw accessDenied('the user denied the request')
      case 'authorization_pending': throw authorizationPending()
    }
    // RFC 8707 §2.2: the resource this token is for, among those the request named; checked before the code is spent.
    const granted = await stillRegistered(answer.code.resources, storage.resources)
    const resource = granted.find((r) => r.uri === pickResource(body.resource, granted.map((g) => g.uri)))
    if (await storage.deviceCodes.redeem(hash, now) === undefined) throw invalidGrant()
    const { approval } = answer
    const user = await storage.users.findById(approval.userId)
    // As an authorization code: a password change or a disable since the approval leaves it nothing to give.
    if (!user || user.disabled || user.credentialVersion !== approval.credentialVersion) throw invalidGrant()
    // As for an authorization code: scopes the user lost since are dropped.
    const scopes = scopesAtRedemption(approval.scope, user, client, granted, resource)
    return issuer.issue({
      user: { id: user.id, credentialVersion: approval.credentialVersion },
      client,
      scope: formatScope(scopes.token),
      grantedScope: formatScope(scopes.family),
      resource,
      resources: granted.map((r) => r.uri),
      refresh: client.grantTypes.includes('refresh_token'),
      dpopJkt,
      idToken: { nonce: null, authTime: approval.authTime, amr: approval.amr, sid: approval.sid, userClaims: idTokenUserClaims(user, null) }
    })
  }
}

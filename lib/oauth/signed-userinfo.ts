import type { Clock } from '../clock.js'
import type { ClientStore } from '../stores/types.js'
import type { IdTokens } from './id-tokens.js'

/** A /userinfo reply for one client: the claims as JSON, or (OIDC Core §5.3.2) a JWT when the client asked for one. */
export type UserInfoReply = { claims: object } | { jwt: string }

/**
 * How /userinfo answers the client a token was issued to: a client registered with `userinfo_alg`
 * (`clients add|update --userinfo-alg`) gets the claims as a JWT signed with that algorithm (with `iss` and
 * `aud`: IdTokens.signUserInfo), served as `application/jwt`; any other, the claims as JSON. Which claims is
 * lib/oauth/id-token.ts's `userInfoClaims`; this only decides the form.
 */
export function userInfoReplies (deps: { clients: Pick<ClientStore, 'find'>, idTokens: Pick<IdTokens, 'signUserInfo'>, clock: Clock }) {
  return async (claims: object, clientId: string): Promise<UserInfoReply> => {
    const alg = (await deps.clients.find(clientId))?.userinfoAlg
    if (!alg) return { claims }
    return { jwt: await deps.idTokens.signUserInfo(claims, clientId, alg, deps.clock.now()) }
  }
}

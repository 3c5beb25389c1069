import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { invalidClient, tooManyRequests } from '../../lib/errors.js'
import { introspectionLimits } from '../../lib/oauth/brute-force.js'
import { requireClient } from '../../lib/oauth/client-auth.js'
import { lookUpToken } from '../../lib/oauth/token-lookup.js'
import { introspectSchema } from '../../schemas/token-management.js'

const INACTIVE = { active: false } as const

/**
 * POST /introspect (RFC 7662), for resource servers: any authenticated confidential client may
 * introspect any access token; a refresh token only by the client it was issued to. Anything not
 * active is `{"active":false}` and nothing else (§2.2).
 */
const introspectRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, accessTokens, checkTokenStanding, throttle } = fastify

  fastify.post('/introspect', { config: { oauth: true }, schema: introspectSchema }, async (request) => {
    const { body } = request
    const client = await requireClient(request.headers.authorization, body, storage.clients)
    if (client.isPublic) throw invalidClient(false, 'introspection is for confidential clients')
    // Token fishing (RFC 7662 §4): too many inactive answers to one caller, and it must wait.
    const limits = introspectionLimits(client.id)
    const wait = await throttle.check(limits)
    if (wait !== undefined) throw tooManyRequests(wait, 'too many introspections of inactive tokens; try again later')
    const result = await introspect(body.token, body.token_type_hint, client.id)
    if (!result.active) await throttle.fail(limits)
    return result
  })

  async function introspect (token: string, hint: string | undefined, callerId: string) {
    const found = await lookUpToken(token, hint, accessTokens, storage)
    const now = fastify.now()

    if (found?.kind === 'access_token') {
      const standing = await checkTokenStanding(found.claims)
      if (!standing) return INACTIVE
      const { iss, sub, aud, exp, iat, jti, client_id: clientId, scope } = found.claims
      return { active: true, scope, client_id: clientId, username: standing.user?.username, token_type: 'Bearer', exp, iat, sub, aud, iss, jti }
    }
    if (found?.kind === 'refresh_token') {
      const { token, grant } = found
      const live = token.consumedAt === null && grant.revokedAt === null && token.expiresAt > now && grant.expiresAt > now
      if (!live || grant.clientId !== callerId) return INACTIVE
      const user = await storage.users.findById(grant.userId)
      if (!user || user.disabled) return INACTIVE
      return { active: true, scope: grant.scope || undefined, client_id: grant.clientId, username: user.username, token_type: 'refresh_token', exp: token.expiresAt, iat: token.issuedAt, sub: user.id, iss: fastify.config.issuer }
    }
    return INACTIVE
  }
}

export default introspectRoutes

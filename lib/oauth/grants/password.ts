import { invalidGrant, invalidRequest, tooManyRequests, unauthorizedClient } from '../../errors.js'
import { signInLimits } from '../brute-force.js'
import { grantScope, intersect, parseScope } from '../scopes.js'
import type { GrantHandler } from './types.js'

/** The one reply for an unknown user, a wrong password and a disabled user (ASVS 6.3.8). */
export const BAD_CREDENTIALS = 'invalid username or password'

/** RFC 6749 §4.3: resource owner password credentials. */
export const passwordGrant: GrantHandler = {
  grantType: 'password',
  allowsAnonymous: true,
  async handle ({ body, client, storage, passwords, issuer, config, throttle, clientIp, log }) {
    if (!config.passwordGrant) throw unauthorizedClient('the password grant is disabled on this server')
    const { username, password } = body
    if (username === undefined) throw invalidRequest('missing parameter: username')
    if (password === undefined) throw invalidRequest('missing parameter: password')

    // Throttling is decided before any hash is computed, so an attacker cannot burn CPU.
    const limits = signInLimits(username, clientIp)
    const wait = await throttle.check(limits)
    if (wait !== undefined) throw tooManyRequests(wait)

    // A NUL can never be in a username (and PostgreSQL text cannot hold one): treat it as unknown.
    const user = username.includes('\u0000') ? undefined : await storage.users.findByUsername(username)
    // Always verify, against a dummy hash for unknown users, so every failure takes the same time.
    const { ok, needsRehash } = await passwords.verify(user?.passwordHash ?? null, password)
    if (!user || !ok || user.disabled) {
      await throttle.fail(limits)
      throw invalidGrant(BAD_CREDENTIALS)
    }
    await throttle.succeed(limits.slice(0, 1))

    if (needsRehash && user.passwordHash !== null) {
      // Compare-and-set: if the password was changed (or the user re-imported) while this hash was computed,
      // the new one stays. An imported bcrypt or PBKDF2 hash becomes argon2id here, at the first sign-in.
      const verified = user.passwordHash
      passwords.hash(password)
        .then((passwordHash) => storage.users.replacePasswordHash(user.username, verified, passwordHash))
        .catch((err) => log.warn({ err }, 'rehashing a password with new parameters failed'))
    }

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

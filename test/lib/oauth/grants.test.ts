import t, { type Test } from 'tap'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { pino } from 'pino'
import { createClient } from '../../../lib/admin/clients.js'
import { loadConfig } from '../../../lib/config.js'
import { digest } from '../../../lib/credentials/digest.js'
import { argon2Params, createPasswordHasher } from '../../../lib/credentials/passwords.js'
import { OAuthError } from '../../../lib/errors.js'
import { generateSigningKey, loadKey, type SignerKey } from '../../../lib/keys/signing-keys.js'
import { MemoryCounterStore, Throttle } from '../../../lib/limits/throttle.js'
import { AccessTokens } from '../../../lib/oauth/access-tokens.js'
import { issueCode } from '../../../lib/oauth/authorization-codes.js'
import { DEFAULT_CLIENT } from '../../../lib/oauth/client-auth.js'
import { atHash } from '../../../lib/oauth/id-token.js'
import { IdTokens } from '../../../lib/oauth/id-tokens.js'
import { createGrants } from '../../../lib/oauth/grants/index.js'
import { RefreshTokens } from '../../../lib/oauth/refresh-tokens.js'
import { TokenIssuer } from '../../../lib/oauth/token-issuer.js'
import type { SecurityEvent } from '../../../lib/ops/events.js'
import { denyEntry } from '../../../lib/stores/deny-list.js'
import { openStorage } from '../../../lib/stores/index.js'
import type { TokenRequestBody } from '../../../schemas/token.js'
import { FAST_HASH, ISSUER, manualClock, tempDatabaseUrl, testKeyMaterial } from '../../support/helper.js'

// The grants (lib/oauth/grants/) and the issuer they end in (lib/oauth/token-issuer.ts), built once as the grants
// plugin builds them, on a real SQLite store, real keys and a manual clock; POST /token's own tests run them
// through the app.

const log = pino({ level: 'silent' })

/** The ID tokens' RS256 key: one per file (RSA generation is slow). */
const RSA_KEY = testKeyMaterial().RS256

async function setup (t: Test, env: Record<string, string> = {}) {
  const clock = manualClock()
  const config = loadConfig({ ISSUER, ...FAST_HASH, ACCESS_TOKEN_TTL: '300', ...env })
  const storage = await openStorage(tempDatabaseUrl(t), clock)
  t.teardown(() => storage.close())
  const key = loadKey({ ...generateSigningKey('ES256', 0, 0), seq: 1 }) as SignerKey
  const rsa = loadKey({ ...generateSigningKey('RS256', 0, 0, RSA_KEY), seq: 2 })
  const keys = { active: key, published: [key, rsa] }
  const accessTokens = new AccessTokens({ issuer: ISSUER, audience: ISSUER, ttl: config.accessTokenTtl, clock })
  t.teardown(() => accessTokens.close())
  const idTokens = new IdTokens({ issuer: ISSUER, ttl: config.accessTokenTtl })
  accessTokens.useKeys(keys)
  idTokens.useKeys(keys)
  const issuer = new TokenIssuer({ accessTokens, idTokens, refreshTokens: new RefreshTokens({ storage, clock, config }), clock })
  const events: SecurityEvent[] = []
  const passwords = await createPasswordHasher(argon2Params(config), 1)
  const throttle = new Throttle(new MemoryCounterStore(clock))
  t.teardown(() => throttle.close())
  const grants = createGrants({ storage, passwords, issuer, accessTokens, throttle, events: { emit: (event) => { events.push(event) } }, clock, config })
  const user = await storage.users.create({ username: 'alice', passwordHash: await passwords.hash('pw'), scope: 'orders:read' })
  return { clock, storage, accessTokens, issuer, grants, events, user }
}

/** The OAuthError a token request ends in: its code and description. */
async function refused (reply: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof reply === 'function' ? reply() : reply)
  } catch (err) {
    if (err instanceof OAuthError) return `${err.error}: ${err.message}`
    throw err
  }
  throw new Error('expected a refusal')
}

t.test('select: by grant_type; missing is invalid_request, unknown unsupported_grant_type; username and password alone mean password', async (t) => {
  const { grants } = await setup(t)
  t.equal(grants.select({ grant_type: 'client_credentials' }).grantType, 'client_credentials')
  t.equal(grants.select({ username: 'a', password: 'b' }).grantType, 'password', 'the FastAPI tutorial\'s form')
  t.equal(await refused(() => grants.select({ password: 'b' })), 'invalid_request: missing parameter: grant_type')
  t.equal(await refused(() => grants.select({ grant_type: 'urn:x'.padEnd(100, 'x') })), `unsupported_grant_type: unsupported grant_type: ${'urn:x'.padEnd(64, 'x')}`)
  t.equal(grants.select({ grant_type: 'password' }), grants.select({ grant_type: 'password' }), 'built once: the same grant every time')
})

t.test('a grant\'s parameters are checked, in order, before it runs', async (t) => {
  const { grants } = await setup(t)
  const run = (body: TokenRequestBody) => grants.select(body).handle({ body, client: DEFAULT_CLIENT, clientIp: '192.0.2.1', addressKey: '192.0.2.1', log })
  t.equal(await refused(run({ grant_type: 'password' })), 'invalid_request: missing parameter: username')
  t.equal(await refused(run({ grant_type: 'password', username: 'alice' })), 'invalid_request: missing parameter: password')
  t.equal(await refused(run({ grant_type: 'refresh_token' })), 'invalid_request: missing parameter: refresh_token')
  t.equal(await refused(run({ grant_type: 'authorization_code' })), 'invalid_request: missing parameter: code')
})

t.test('PASSWORD_GRANT=off: the grant stays known and is refused for every client, before its parameters are read', async (t) => {
  const { grants } = await setup(t, { PASSWORD_GRANT: 'off' })
  const body = { grant_type: 'password' }
  t.equal(await refused(grants.select(body).handle({ body, client: DEFAULT_CLIENT, clientIp: '192.0.2.1', addressKey: '192.0.2.1', log })), 'unauthorized_client: the password grant is disabled on this server')
})

t.test('plan, then issue: the access token carries the planned jti and family; the ID token comes with openid', async (t) => {
  const { issuer, accessTokens, clock, user } = await setup(t)
  const client = { id: 'web', generation: 'g1' }
  const plan = issuer.plan({ refresh: true })
  t.equal(plan.exp, clock.now() + 300, 'exp: now + ACCESS_TOKEN_TTL')
  const reply = await issuer.issue({ user, client, scope: 'openid orders:read', plan, idToken: { nonce: 'n-1', authTime: clock.now() - 5 } })
  const claims = accessTokens.verify(reply.access_token)
  t.equal(claims.jti, plan.jti)
  t.equal(claims.grant_id, plan.grantId)
  t.type(reply.refresh_token, 'string', 'a family started under the planned grant id')
  t.equal(decodeProtectedHeader(reply.id_token!).typ, 'JWT', 'the ID token is typ JWT, never at+jwt')
  t.match(decodeJwt(reply.id_token!), { iss: ISSUER, sub: user.id, aud: 'web', nonce: 'n-1', auth_time: clock.now() - 5, iat: clock.now(), exp: clock.now() + 300, at_hash: atHash(reply.access_token) })

  const noOpenid = await issuer.issue({ user, client, scope: 'orders:read', plan: issuer.plan({ refresh: false }), idToken: { nonce: null, authTime: 0 } })
  t.equal(noOpenid.id_token, undefined, 'no openid, no ID token')
  t.equal(noOpenid.refresh_token, undefined, 'a plan without a grant id starts no family')
  t.equal(accessTokens.verify(noOpenid.access_token).grant_id, undefined)
  t.equal((await issuer.issue({ user, client, scope: 'openid' })).id_token, undefined, 'and none unless the grant asks for one')
})

t.test('the code grant: redeemed once; a replay is invalid_grant and revokes what the first redemption issued', async (t) => {
  const { grants, storage, accessTokens, clock, events, user } = await setup(t)
  const { client } = await createClient(storage, 'app', { isPublic: true, grantTypes: ['authorization_code', 'refresh_token'], scope: null, redirectUris: ['https://app.example/cb'] })
  const verifier = 'v'.repeat(43)
  const code = await issueCode(storage, {
    request: { client, redirectUri: 'https://app.example/cb', codeChallenge: digest(verifier), nonce: 'n', state: undefined, scopes: undefined, prompt: new Set(), maxAge: undefined, loginHint: undefined, responseMode: 'query', idTokenHint: undefined },
    user,
    scopes: ['openid', 'orders:read'],
    authTime: clock.now(),
    sessionHash: 'session-1',
    amr: ['pwd', 'otp', 'mfa'],
    credentialVersion: user.credentialVersion,
    now: clock.now()
  })
  const body = { grant_type: 'authorization_code', code, redirect_uri: 'https://app.example/cb', code_verifier: verifier }
  const exchange = () => grants.select(body).handle({ body, client, clientIp: '192.0.2.1', addressKey: '192.0.2.1', log })
  const first = await exchange()
  t.type(first.id_token, 'string', 'openid: an ID token')
  t.match(decodeJwt(first.id_token!), { amr: ['pwd', 'otp', 'mfa'], acr: 'urn:gatehouse:acr:mfa' }, 'the ID token says how the session that issued the code signed in')
  const claims = accessTokens.verify(first.access_token)
  t.notOk(await storage.revocations.anyRevoked([denyEntry.token(claims.jti), denyEntry.grant(claims.grant_id!)]), 'in good standing')

  t.equal(await refused(exchange()), 'invalid_grant: the grant is invalid, expired, revoked or was issued to another client')
  t.ok(await storage.revocations.anyRevoked([denyEntry.token(claims.jti)]), 'the first access token is deny-listed')
  t.ok(await storage.revocations.anyRevoked([denyEntry.grant(claims.grant_id!)]), 'and its family')
  t.match(events, [{ type: 'code_reuse', clientId: 'app', grantId: claims.grant_id }])
})

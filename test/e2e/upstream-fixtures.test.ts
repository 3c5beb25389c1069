import t, { type Test } from 'tap'
import * as client from 'openid-client'
import { startUpstreamOp, type UpstreamOp } from '../support/upstream/op.js'
import { startHostileOp, startUnreachableIssuer, type HostileMode } from '../support/upstream/hostile-op.js'
import { startPlainOAuth } from '../support/upstream/plain-oauth.js'
import { CookieJar } from '../support/upstream/jar.js'

// The upstream fixtures of test/support/upstream/ checked on their own, with openid-client v6 as the relying party
// (what Gatehouse's upstream side uses): the real OP signs in both accounts and requires PKCE, the hostile OP's
// bad ID tokens are refused by a real RP for the reason its mode names, the GitHub stand-in checks secret,
// redirect_uri, code and verifier. Nothing of Gatehouse runs here.

const CALLBACK = 'http://gatehouse.test/login/up/callback'
const insecure = { execute: [client.allowInsecureRequests] }

async function request (config: client.Configuration, scope = 'openid email profile', extra: Record<string, string> = {}) {
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK, scope, state, nonce, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra
  })
  return { url: url.href, verifier, state, nonce }
}

/** The messages of an error and its causes (openid-client puts the precise reason in `cause`), or 'no error'. */
async function failure (promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'no error'
  } catch (err) {
    const messages: string[] = []
    for (let e: unknown = err; e instanceof Error; e = e.cause) messages.push(e.message)
    const body = (err as { cause?: { error?: string } }).cause?.error
    return [...messages, body ?? ''].join(' / ')
  }
}

async function startOp (t: Test, opts: Partial<Parameters<typeof startUpstreamOp>[0]> = {}): Promise<UpstreamOp> {
  const op = await startUpstreamOp({ redirectUris: CALLBACK, ...opts })
  t.teardown(() => op.close())
  return op
}

t.test('op.ts: node-oidc-provider signs both accounts in; claims come from /userinfo', async (t) => {
  const op = await startOp(t)
  const discovery = await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json() as Record<string, unknown>
  t.equal(discovery.issuer, op.issuer)
  t.same(discovery.code_challenge_methods_supported, ['S256'])
  const config = await client.discovery(new URL(op.issuer), op.clientId, op.clientSecret, undefined, insecure)

  for (const key of ['verified', 'unverified'] as const) {
    const r = await request(config)
    const callback = await op.signInAt(r.url, key)
    t.ok(callback.startsWith(`${CALLBACK}?`), `${key}: back at the callback`)
    t.equal(new URL(callback).searchParams.get('iss'), op.issuer, 'RFC 9207 iss in the response')
    const tokens = await client.authorizationCodeGrant(config, new URL(callback), { pkceCodeVerifier: r.verifier, expectedState: r.state, expectedNonce: r.nonce })
    const claims = tokens.claims()
    t.equal(claims?.sub, op.accounts[key].sub)
    t.equal(claims?.email, undefined, 'the code-flow ID token carries no email: Gatehouse must ask /userinfo')
    const info = await client.fetchUserInfo(config, tokens.access_token, op.accounts[key].sub)
    t.equal(info.email, op.accounts[key].email)
    t.equal(info.email_verified, key === 'verified')
    t.equal(info.preferred_username, op.accounts[key].preferred_username)
    t.equal(info.name, op.accounts[key].name)
  }
  t.equal(op.authorizationRequests.length, 2)
})

t.test('op.ts: a second sign-in with the same jar skips the login page; accounts are live', async (t) => {
  const op = await startOp(t)
  const config = await client.discovery(new URL(op.issuer), op.clientId, op.clientSecret, undefined, insecure)
  const jar = new CookieJar()
  const first = await request(config)
  await client.authorizationCodeGrant(config, new URL(await op.signInAt(first.url, 'verified', jar)), { pkceCodeVerifier: first.verifier, expectedState: first.state, expectedNonce: first.nonce })
  op.accounts.verified.name = 'Vera Renamed'
  const second = await request(config)
  const tokens = await client.authorizationCodeGrant(config, new URL(await op.signInAt(second.url, 'unverified', jar)), { pkceCodeVerifier: second.verifier, expectedState: second.state, expectedNonce: second.nonce })
  t.equal(tokens.claims()?.sub, op.accounts.verified.sub, 'the OP session (not the account asked for) signs in')
  t.equal((await client.fetchUserInfo(config, tokens.access_token, op.accounts.verified.sub)).name, 'Vera Renamed')
})

t.test('op.ts: PKCE required, Cancel gives access_denied, ES256 and claims in the ID token on request', async (t) => {
  const op = await startOp(t, { idTokenAlg: 'ES256', claimsInIdToken: true, tokenEndpointAuthMethod: 'client_secret_basic' })
  const config = await client.discovery(new URL(op.issuer), op.clientId, op.clientSecret, client.ClientSecretBasic(op.clientSecret), insecure)

  const noPkce = new URL(client.buildAuthorizationUrl(config, { redirect_uri: CALLBACK, scope: 'openid', state: 's' }))
  const refused = new URL(await op.signInAt(noPkce.href, 'verified'))
  t.equal(refused.searchParams.get('error'), 'invalid_request', 'no code_challenge: refused')

  const cancelled = new URL(await op.cancelAt((await request(config)).url))
  t.equal(cancelled.searchParams.get('error'), 'access_denied')

  const r = await request(config)
  const tokens = await client.authorizationCodeGrant(config, new URL(await op.signInAt(r.url, 'verified')), { pkceCodeVerifier: r.verifier, expectedState: r.state, expectedNonce: r.nonce })
  const header = JSON.parse(Buffer.from(tokens.id_token?.split('.')[0] ?? '', 'base64url').toString()) as { alg: string }
  t.equal(header.alg, 'ES256')
  t.equal(tokens.claims()?.email, op.accounts.verified.email)
  t.equal(tokens.claims()?.email_verified, true)
})

t.test('hostile-op.ts: good tokens pass a real RP; each bad mode is refused', async (t) => {
  const op = await startHostileOp({ redirectUris: CALLBACK })
  t.teardown(() => op.close())
  const config = await client.discovery(new URL(op.issuer), op.clientId, op.clientSecret, undefined, insecure)

  const good = await request(config)
  const tokens = await client.authorizationCodeGrant(config, new URL(await op.signInAt(good.url)), { pkceCodeVerifier: good.verifier, expectedState: good.state, expectedNonce: good.nonce })
  t.equal(tokens.claims()?.sub, op.claims.sub)
  t.equal((await client.fetchUserInfo(config, tokens.access_token, op.claims.sub)).email, op.claims.email)
  t.equal(op.seen.authorize[0]?.get('code_challenge_method'), 'S256')

  // openid-client (oauth4webapi) checks the ID token's signature only with enableNonRepudiationChecks: without
  // it, an ID token from the token endpoint is trusted on the strength of TLS (OIDC Core §3.1.3.7 point 6), so a
  // bad signature passes. The Gatehouse contract wants the signature checked through the provider's JWKS.
  op.mode = 'bad-signature'
  const lax = await request(config)
  const trusted = await client.authorizationCodeGrant(config, new URL(await op.signInAt(lax.url)), { pkceCodeVerifier: lax.verifier, expectedState: lax.state, expectedNonce: lax.nonce })
  t.equal(trusted.claims()?.sub, op.claims.sub, 'without enableNonRepudiationChecks a bad signature passes (the trap)')
  client.enableNonRepudiationChecks(config)

  const refusals: Array<[HostileMode, RegExp]> = [
    ['wrong-iss', /unexpected JWT claim value/],
    ['wrong-aud', /unexpected JWT claim value/],
    ['alg-none', /unexpected JWT "alg"/],
    ['bad-signature', /JWT signature verification failed/],
    ['expired', /timestamp/],
    ['wrong-nonce', /unexpected JWT claim value/],
    ['no-nonce', /invalid response/],
    ['token-error', /invalid_grant/]
  ]
  for (const [mode, reason] of refusals) {
    op.mode = mode
    const r = await request(config)
    const callback = new URL(await op.signInAt(r.url))
    const why = await failure(client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: r.verifier, expectedState: r.state, expectedNonce: r.nonce }))
    t.match(why, reason, mode)
  }
  op.mode = 'good'
  const fine = await request(config)
  t.ok(await client.authorizationCodeGrant(config, new URL(await op.signInAt(fine.url)), { pkceCodeVerifier: fine.verifier, expectedState: fine.state, expectedNonce: fine.nonce }), 'good still passes with the signature checked')

  op.mode = 'deny'
  const denied = new URL(await op.signInAt((await request(config)).url))
  t.equal(denied.searchParams.get('error'), 'access_denied')
  t.equal(denied.searchParams.has('code'), false)

  op.mode = 'good'
  const replay = await request(config)
  const callback = new URL(await op.signInAt(replay.url))
  await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: replay.verifier, expectedState: replay.state, expectedNonce: replay.nonce })
  t.match(await failure(client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: replay.verifier, expectedState: replay.state, expectedNonce: replay.nonce })), /invalid_grant/, 'codes are single use')
})

t.test('hostile-op.ts: unreachable issuers (silent and closed) never answer discovery', async (t) => {
  for (const kind of ['silent', 'closed'] as const) {
    const dead = await startUnreachableIssuer(kind)
    t.teardown(() => dead.close())
    await t.rejects(fetch(`${dead.issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(500) }), kind)
  }
})

t.test('plain-oauth.ts: a GitHub-like provider through openid-client without an ID token', async (t) => {
  const gh = await startPlainOAuth({ redirectUris: CALLBACK })
  t.teardown(() => gh.close())
  const server: client.ServerMetadata = { issuer: gh.issuer, authorization_endpoint: gh.endpoints.authorization, token_endpoint: gh.endpoints.token }
  const config = new client.Configuration(server, gh.clientId, gh.clientSecret)
  client.allowInsecureRequests(config)

  const r = await request(config, 'read:user user:email')
  const callback = new URL(await gh.signInAt(r.url))
  t.equal(callback.searchParams.has('iss'), false, 'no RFC 9207 iss, no ID token: plain OAuth')
  const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: r.verifier, expectedState: r.state })
  t.equal(tokens.id_token, undefined)
  const user = await (await client.fetchProtectedResource(config, tokens.access_token, new URL(gh.endpoints.userinfo), 'GET')).json() as Record<string, unknown>
  t.same(user, { id: 12345, login: 'octocat', name: 'The Octocat', email: 'octocat@plain.test' })
  t.equal(typeof user.id, 'number', 'the subject is a number')

  const code = async () => {
    const r = await request(config, 'read:user')
    return { code: new URL(await gh.signInAt(r.url)).searchParams.get('code') ?? '', code_verifier: r.verifier }
  }
  const exchange = (fields: Record<string, string>) => fetch(gh.endpoints.token, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: new URLSearchParams({ grant_type: 'authorization_code', client_id: gh.clientId, redirect_uri: CALLBACK, ...fields }) })
  t.equal((await exchange({ ...await code(), client_secret: 'wrong' })).status, 401, 'wrong secret')
  t.equal((await exchange({ ...await code(), client_secret: gh.clientSecret, redirect_uri: 'http://gatehouse.test/other' })).status, 400, 'wrong redirect_uri')
  t.equal((await exchange({ code: 'made-up', client_secret: gh.clientSecret })).status, 400, 'unknown code')
  t.equal((await exchange({ ...await code(), code_verifier: client.randomPKCECodeVerifier(), client_secret: gh.clientSecret })).status, 400, 'wrong code_verifier')
  const once = await code()
  t.equal((await exchange({ ...once, client_secret: gh.clientSecret })).status, 200)
  t.equal((await exchange({ ...once, client_secret: gh.clientSecret })).status, 400, 'codes are single use')
  t.equal((await fetch(gh.endpoints.userinfo, { headers: { authorization: 'Bearer nope' } })).status, 401)

  gh.deny = true
  const denied = new URL(await gh.signInAt((await request(config, 'read:user')).url))
  t.equal(denied.searchParams.get('error'), 'access_denied')
})

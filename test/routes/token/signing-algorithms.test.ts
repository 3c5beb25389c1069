import t from 'tap'
import { decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose'
import { randomUUID } from 'node:crypto'
import { addClient, basic, build, form, FORM, ISSUER, post } from '../../support/helper.js'
import { InjectBrowser, authorizeThrough, browserFixtures, exchange, webRequest } from '../../support/browser.js'
import { bearer, localJwks } from '../../support/oauth.js'

// Which algorithm signs what (issue 23, OIDC Core §15.1): ID tokens RS256 by default or the client's
// id_token_alg, access tokens ES256 or ACCESS_TOKEN_ALG, /userinfo as a JWT for a client with userinfo_alg;
// every one verifies with the JWKS, each key with its own algorithm only. The key rules are test/lib/keys/.

async function codeFlow (env: Record<string, string> = {}, client: { idTokenAlg?: 'RS256' | 'ES256', userinfoAlg?: 'RS256' | 'ES256' } = {}) {
  const app = await build(t, env)
  const { alice, webAuth } = await browserFixtures(app)
  if (Object.keys(client).length > 0) await app.storage.clients.update('web', client)
  const request = webRequest()
  const res = await exchange(app, { code: await authorizeThrough(new InjectBrowser(app), request.url), code_verifier: request.verifier }, webAuth)
  if (res.statusCode !== 200) throw new Error(`token: ${res.statusCode} ${res.body}`)
  return { app, alice, tokens: res.json() as { access_token: string, id_token: string }, jwks: await localJwks(app) }
}

t.test('by default ID tokens are RS256 and access tokens ES256, both verified with the JWKS; /userinfo answers JSON', async (t) => {
  const { app, alice, tokens, jwks } = await codeFlow()
  t.equal(decodeProtectedHeader(tokens.id_token).alg, 'RS256', 'ID token: RS256 (OIDC Core §15.1)')
  const id = await jwtVerify(tokens.id_token, jwks, { issuer: ISSUER, audience: 'web', algorithms: ['RS256'] })
  t.equal(id.payload.sub, alice.id)
  t.equal(decodeProtectedHeader(tokens.access_token).alg, 'ES256', 'access token: ES256')
  await jwtVerify(tokens.access_token, jwks, { issuer: ISSUER, algorithms: ['ES256'], typ: 'at+jwt' })
  const info = await app.inject({ url: '/userinfo', headers: bearer(tokens.access_token) })
  t.match(info.headers['content-type'], /^application\/json/)
  t.equal(info.json().sub, alice.id)
})

t.test('a client with id_token_alg ES256 gets ES256 ID tokens; with userinfo_alg RS256 a signed /userinfo (application/jwt, iss, aud)', async (t) => {
  const { app, alice, tokens, jwks } = await codeFlow({}, { idTokenAlg: 'ES256', userinfoAlg: 'RS256' })
  t.equal(decodeProtectedHeader(tokens.id_token).alg, 'ES256')
  await jwtVerify(tokens.id_token, jwks, { issuer: ISSUER, audience: 'web', algorithms: ['ES256'] })
  for (const method of ['GET', 'POST'] as const) {
    const info = await app.inject({ method, url: '/userinfo', headers: { ...bearer(tokens.access_token), ...(method === 'POST' ? FORM : {}) }, payload: method === 'POST' ? form({}) : undefined })
    t.equal(info.statusCode, 200, `${method} /userinfo`)
    t.equal(info.headers['content-type'], 'application/jwt', `${method}: OIDC Core §5.3.2`)
    t.equal(decodeProtectedHeader(info.body).alg, 'RS256')
    const signed = await jwtVerify(info.body, jwks, { issuer: ISSUER, audience: 'web', algorithms: ['RS256'] })
    t.equal(signed.payload.sub, alice.id, 'the same claims, signed')
    t.equal(signed.payload.name, 'Alice Liddell')
  }
})

t.test('ACCESS_TOKEN_ALG=RS256: token → /users/me → introspection; an ES256 token (the other key) is refused everywhere', async (t) => {
  const { app, alice, tokens, jwks } = await codeFlow({ ACCESS_TOKEN_ALG: 'RS256' })
  const header = decodeProtectedHeader(tokens.access_token)
  t.equal(header.alg, 'RS256')
  t.equal(app.signingKeys.current().published.find((k) => k.kid === header.kid)?.alg, 'RS256', 'signed by the RS256 key')
  await jwtVerify(tokens.access_token, jwks, { issuer: ISSUER, algorithms: ['RS256'], typ: 'at+jwt' })
  t.equal((await app.inject({ url: '/users/me', headers: bearer(tokens.access_token) })).statusCode, 200, '/users/me')
  t.equal((await app.inject({ url: '/userinfo', headers: bearer(tokens.access_token) })).json().sub, alice.id, '/userinfo')
  const rs = basic('rs', (await addClient(app, 'rs', { grantTypes: ['client_credentials'] }))!)
  const introspect = (token: string) => post(app, '/introspect', { token }, { authorization: rs })
  t.equal((await introspect(tokens.access_token)).json().active, true, 'introspection: active')

  // A token with every right claim, signed by Gatehouse's own ES256 key: not an access token under ACCESS_TOKEN_ALG=RS256.
  // The issued token's claims (a fresh jti), signed again by Gatehouse's own key of `alg`.
  const withKey = (alg: 'RS256' | 'ES256') => {
    const key = app.signingKeys.current().published.find((k) => k.alg === alg)!
    return new SignJWT({ ...decodeJwt(tokens.access_token), jti: randomUUID() }).setProtectedHeader({ alg, typ: 'at+jwt', kid: key.kid }).sign(key.privateKey!)
  }
  t.equal((await app.inject({ url: '/users/me', headers: bearer(await withKey('RS256')) })).statusCode, 200, 'control: the same claims signed by the RS256 key pass')
  const other = await withKey('ES256')
  t.equal((await app.inject({ url: '/users/me', headers: bearer(other) })).statusCode, 401, '/users/me refuses it')
  t.equal((await introspect(other)).json().active, false, 'introspection: inactive')
})

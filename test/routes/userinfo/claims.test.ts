import t from 'tap'
import type { Test } from 'tap'
import { ISSUER, build, FORM } from '../../support/helper.js'
import { InjectBrowser, authorizeThrough, browserFixtures, callbackParams, exchange, webRequest } from '../../support/browser.js'
import { updateUser } from '../../../lib/admin/users.js'
import type { FastifyInstance } from 'fastify'

// /userinfo and the ID token through the browser flow: claims by scope (OIDC Core §5.4), the claims parameter
// (§5.5) for userinfo and id_token, and the token in a form body (RFC 6750 §2.2). The rules alone:
// test/lib/oauth/claims.test.ts, test/lib/admin/user-claims.test.ts.

const CLAIMS = {
  given_name: 'Alice',
  family_name: 'Liddell',
  picture: 'https://example.test/alice.png',
  locale: 'en-GB',
  zoneinfo: 'Europe/London',
  birthdate: '1852-05-04',
  phone_number: '+441865270000',
  address: { locality: 'Oxford', country: 'GB' }
}

async function setUp (t: Test) {
  const app = await build(t)
  const fixtures = await browserFixtures(app)
  await updateUser({ storage: app.storage, passwords: app.passwords, clock: app.clock, config: app.config }, 'alice', { claims: CLAIMS })
  return { app, ...fixtures, browser: new InjectBrowser(app) }
}

/** Signs in, consents, redeems the code: the token reply. */
async function tokens (app: FastifyInstance, browser: InjectBrowser, webAuth: string, over: Record<string, string | undefined>) {
  const req = webRequest(over)
  const code = await authorizeThrough(browser, req.url)
  const res = await exchange(app, { code, code_verifier: req.verifier }, webAuth)
  t.equal(res.statusCode, 200, 'tokens')
  const body = res.json() as { access_token: string, id_token: string, refresh_token: string }
  return { ...body, idClaims: JSON.parse(Buffer.from(body.id_token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown> }
}

const userinfo = async (app: FastifyInstance, token: string) => (await app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${token}` } })).json() as Record<string, unknown>

t.test('userinfo by scope: profile, email, address, phone; the ID token carries none of them (an access token is issued)', async (t) => {
  const { app, alice, browser, webAuth } = await setUp(t)
  const all = await tokens(app, browser, webAuth, { scope: 'openid profile email address phone' })
  const answer = await userinfo(app, all.access_token)
  t.match(answer, {
    sub: alice.id,
    name: 'Alice Liddell',
    preferred_username: 'alice',
    given_name: 'Alice',
    family_name: 'Liddell',
    picture: 'https://example.test/alice.png',
    locale: 'en-GB',
    zoneinfo: 'Europe/London',
    birthdate: '1852-05-04',
    updated_at: Number,
    email: 'alice@example.test',
    email_verified: false,
    address: { locality: 'Oxford', country: 'GB' },
    phone_number: '+441865270000',
    phone_number_verified: false
  })
  t.notOk('given_name' in all.idClaims || 'email' in all.idClaims, 'scope claims go to /userinfo only (OIDC Core §5.4)')

  const phone = await tokens(app, browser, webAuth, { scope: 'openid phone' })
  t.same(await userinfo(app, phone.access_token), { sub: alice.id, phone_number: '+441865270000', phone_number_verified: false })
  const address = await tokens(app, browser, webAuth, { scope: 'openid address' })
  t.same(await userinfo(app, address.access_token), { sub: alice.id, address: { locality: 'Oxford', country: 'GB' } })
  const email = await tokens(app, browser, webAuth, { scope: 'openid email' })
  t.same(await userinfo(app, email.access_token), { sub: alice.id, email: 'alice@example.test', email_verified: false })
})

t.test('the claims parameter: essential name at userinfo, given_name and email in the ID token; kept across a refresh; consented like their scopes', async (t) => {
  const { app, alice, browser, webAuth } = await setUp(t)
  const claims = JSON.stringify({
    userinfo: { name: { essential: true }, nickname: { essential: true }, unknown_claim: null },
    id_token: { given_name: null, email: { essential: true }, auth_time: { essential: true } }
  })
  const consentPage = await new InjectBrowser(app).get(webRequest({ scope: 'openid', claims }).url)
  t.ok(consentPage.statusCode === 200 || consentPage.statusCode === 303, 'the request is accepted')
  const reply = await tokens(app, browser, webAuth, { scope: 'openid', claims })
  t.same(await userinfo(app, reply.access_token), { sub: alice.id, name: 'Alice Liddell' }, 'name only: nickname is not held (absent, essential or not), unknown claims ignored')
  t.equal(reply.idClaims.given_name, 'Alice')
  t.equal(reply.idClaims.email, 'alice@example.test')
  t.equal(reply.idClaims.sub, alice.id)
  t.equal(reply.idClaims.iss, ISSUER, 'the ID token\'s own claims stay its own')
  const consent = await app.storage.consents.find(alice.id, 'web')
  t.match(consent?.scope, /profile/, 'the claims\' scopes are remembered with the consent')
  t.match(consent?.scope, /email/)

  const refreshed = await app.inject({ method: 'POST', url: '/token', headers: { ...FORM, authorization: webAuth }, payload: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: reply.refresh_token }).toString() })
  t.equal(refreshed.statusCode, 200)
  t.same(await userinfo(app, refreshed.json().access_token), { sub: alice.id, name: 'Alice Liddell' }, 'the grant keeps what the claims parameter asked for')
})

t.test('a malformed claims parameter goes back to the client as invalid_request, with state', async (t) => {
  const { browser } = await setUp(t)
  for (const [claims, description] of <Array<[string, string]>>[
    ['{not json', 'the claims parameter is not JSON'],
    ['[]', 'the claims parameter must be a JSON object'],
    ['{"userinfo":"name"}', 'claims.userinfo must be a JSON object'],
    ['{"id_token":{"name":true}}', 'claims.id_token.name must be null or an object'],
    [JSON.stringify({ userinfo: { name: { essential: true } }, pad: 'x'.repeat(5000) }), 'the claims parameter is longer than 4096 characters']
  ]) {
    const res = await browser.get(webRequest({ claims }).url)
    t.equal(res.statusCode, 303)
    t.same(Object.fromEntries(callbackParams(res)), { error: 'invalid_request', error_description: description, state: 'st-1', iss: ISSUER }, description)
  }
})

t.test('/userinfo: the token in a form body (RFC 6750 §2.2); both header and body 400; a query token is ignored (401)', async (t) => {
  const { app, alice, browser, webAuth } = await setUp(t)
  const { access_token: token } = await tokens(app, browser, webAuth, { scope: 'openid' })
  const body = await app.inject({ method: 'POST', url: '/userinfo', headers: FORM, payload: `access_token=${token}` })
  t.equal(body.statusCode, 200)
  t.same(body.json(), { sub: alice.id })
  const both = await app.inject({ method: 'POST', url: '/userinfo', headers: { ...FORM, authorization: `Bearer ${token}` }, payload: `access_token=${token}` })
  t.equal(both.statusCode, 400)
  t.equal(both.json().error, 'invalid_request')
  const twice = await app.inject({ method: 'POST', url: '/userinfo', headers: FORM, payload: `access_token=${token}&access_token=${token}` })
  t.equal(twice.statusCode, 400, 'a repeated access_token is invalid_request')
  const query = await app.inject({ url: `/userinfo?access_token=${token}` })
  t.equal(query.statusCode, 401)
  t.equal(query.headers['www-authenticate'], 'Bearer realm="gatehouse"', 'no token seen: a bare challenge')
  const json = await app.inject({ method: 'POST', url: '/userinfo', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ access_token: token }) })
  t.equal(json.statusCode === 401 || json.statusCode === 415, true, 'a JSON body is no form body: never a token')
  const me = await app.inject({ method: 'GET', url: '/users/me', headers: FORM, payload: `access_token=${token}` })
  t.equal(me.statusCode, 401, 'routes that do not opt in never read a body token')
})

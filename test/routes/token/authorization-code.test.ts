import t from 'tap'
import { decodeJwt } from 'jose'
import { addClient, basic, build, post } from '../../support/helper.js'
import { InjectBrowser, PASSWORD, REDIRECT, authorizeThrough, browserFixtures, callbackParams, exchange, webRequest } from '../../support/browser.js'
import { updateUser } from '../../../lib/admin/users.js'

// The authorization_code grant (RFC 6749 §4.1.3, with PKCE: RFC 7636 §4.6) at POST /token: a code from the
// pages, driven by app.inject (test/support/browser.ts), exchanged for tokens. The pages themselves, the ID
// token and /userinfo are in test/routes/browser/flow.test.ts; attacks on codes (SECURITY-CASES C1–C5) in
// test/security/a-authorization-endpoint.test.ts.

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' }

t.test('a confidential client redeems with client_secret_basic or client_secret_post; the reply is RFC 6749 §5.1', async (t) => {
  const app = await build(t)
  const { alice, secret, webAuth } = await browserFixtures(app)
  const browser = new InjectBrowser(app)

  const first = webRequest()
  const viaBasic = await exchange(app, { code: await authorizeThrough(browser, first.url), code_verifier: first.verifier }, webAuth)
  t.equal(viaBasic.statusCode, 200, viaBasic.body)
  t.match(viaBasic.headers, NO_STORE)
  const body = viaBasic.json()
  t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'id_token', 'refresh_token', 'scope', 'token_type'])
  t.equal(body.token_type, 'Bearer')
  t.equal(body.scope, 'openid profile', 'the scope of the request, as consented')
  const claims = decodeJwt(body.access_token)
  t.equal(claims.sub, alice.id, 'the access token is the user\'s')
  t.equal(claims.client_id, 'web')
  t.type(claims.grant_id, 'string', 'a family for the refresh token')

  const second = webRequest()
  const viaPost = await exchange(app, { code: await authorizeThrough(browser, second.url), code_verifier: second.verifier, client_id: 'web', client_secret: secret })
  t.equal(viaPost.statusCode, 200, viaPost.body)
  t.equal(decodeJwt(viaPost.json().access_token).sub, alice.id)
})

t.test('a confidential client that does not authenticate gets 401 invalid_client, and its code stays redeemable', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app)
  const request = webRequest()
  const code = await authorizeThrough(new InjectBrowser(app), request.url)
  const anonymous = await exchange(app, { code, code_verifier: request.verifier, client_id: 'web' })
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.json().error, 'invalid_client')
  t.match(anonymous.headers, NO_STORE)
  t.equal((await exchange(app, { code, code_verifier: request.verifier }, webAuth)).statusCode, 200, 'the client itself still can')
})

t.test('a refresh token only for a client with the refresh_token grant; it continues the code\'s family', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app)
  const codeOnly = basic('code-only', (await addClient(app, 'code-only', { grantTypes: ['authorization_code'], redirectUris: [REDIRECT] }))!)
  const browser = new InjectBrowser(app)

  const plain = webRequest({ client_id: 'code-only' })
  const noRefresh = await exchange(app, { code: await authorizeThrough(browser, plain.url), code_verifier: plain.verifier }, codeOnly)
  t.equal(noRefresh.statusCode, 200, noRefresh.body)
  t.notOk('refresh_token' in noRefresh.json(), 'no refresh token without the refresh_token grant')
  t.notOk(decodeJwt(noRefresh.json().access_token).grant_id, 'and no family')

  const request = webRequest()
  const tokens = (await exchange(app, { code: await authorizeThrough(browser, request.url), code_verifier: request.verifier }, webAuth)).json()
  const refreshed = await post(app, '/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, { authorization: webAuth })
  t.equal(refreshed.statusCode, 200, refreshed.body)
  t.equal(refreshed.json().scope, tokens.scope, 'the same scope')
  t.equal(decodeJwt(refreshed.json().access_token).grant_id, decodeJwt(tokens.access_token).grant_id, 'the same family')
})

t.test('22.1: a code issued before a password change or a disable is not redeemed after it (re-enabling revives nothing)', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app)
  const admin = { storage: app.storage, passwords: app.passwords, clock: app.clock, config: app.config }
  const changes: Array<[string, () => Promise<unknown>]> = [
    ['a password change', () => updateUser(admin, 'alice', { password: 'a new one' })],
    ['a disable, then re-enabling', async () => { await updateUser(admin, 'alice', { disabled: true }); await updateUser(admin, 'alice', { disabled: false }) }]
  ]
  for (const [what, change] of changes) {
    const request = webRequest()
    const code = await authorizeThrough(new InjectBrowser(app), request.url)
    await change()
    const res = await exchange(app, { code, code_verifier: request.verifier }, webAuth)
    t.equal(res.statusCode, 400, `${what}: refused`)
    t.equal(res.json().error, 'invalid_grant')
    t.notOk(res.json().access_token, `${what}: no token`)
    if (what === 'a password change') await updateUser(admin, 'alice', { password: PASSWORD })
  }
  const request = webRequest()
  const fresh = await exchange(app, { code: await authorizeThrough(new InjectBrowser(app), request.url), code_verifier: request.verifier }, webAuth)
  t.equal(fresh.statusCode, 200, 'a code from a new sign-in works')
})

t.test('PKCE per client: with pkce optional a confidential client may leave PKCE out and redeem without a verifier; required (the default) refuses that', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app)
  const browser = new InjectBrowser(app)
  const noPkce = { code_challenge: undefined, code_challenge_method: undefined }
  const refused = await browser.get(webRequest(noPkce).url)
  t.equal(callbackParams(refused).get('error'), 'invalid_request', 'pkce required (the default): refused')

  await app.storage.clients.update('web', { pkce: 'optional' })
  const code = await authorizeThrough(browser, webRequest(noPkce).url)
  const tokens = await exchange(app, { code }, webAuth)
  t.equal(tokens.statusCode, 200, tokens.body)
  t.ok(tokens.json().id_token, 'the OpenID nonce protects this flow: an ID token carries it')

  const withPkce = webRequest()
  const bound = await authorizeThrough(browser, withPkce.url)
  t.equal((await exchange(app, { code: bound }, webAuth)).json().error, 'invalid_grant', 'a challenge sent is still enforced at /token')
  t.equal((await exchange(app, { code: bound, code_verifier: withPkce.verifier }, webAuth)).statusCode, 200)
})

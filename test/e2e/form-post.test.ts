import t from 'tap'
import * as oidc from 'openid-client'
import { launchChromium, openBrowser, recordingCallback, withoutChromium } from '../support/chromium.js'
import { addClient, addUser, buildListening } from '../support/helper.js'

// response_mode=form_post (OAuth 2.0 Form Post Response Mode) in Debian's Chromium: the page's one script posts the
// answer to the client, whose openid-client v6 reads it from the POST; a hostile state travels escaped and never
// runs; with scripts off the button does the same. The page's HTML alone: test/routes/browser/form-post.test.ts.

const PASSWORD = 'correct horse battery staple'

t.test('openid-client with response_mode=form_post: Chromium signs in, the form posts the code, the client redeems it', { skip: withoutChromium }, async (t) => {
  const { app, url: issuer } = await buildListening(t)
  const alice = await addUser(app, 'alice', PASSWORD, { scope: 'items:read' })
  const callback = await recordingCallback(t)
  const secret = await addClient(app, 'rp', { grantTypes: ['authorization_code'], redirectUris: [callback.url] }) as string
  const { page, problems } = await openBrowser(t)

  const config = await oidc.discovery(new URL(issuer), 'rp', secret, undefined, { execute: [oidc.allowInsecureRequests] })
  t.same(config.serverMetadata().response_modes_supported, ['query', 'form_post'])
  const verifier = oidc.randomPKCECodeVerifier()
  const state = oidc.randomState()
  const nonce = oidc.randomNonce()
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: callback.url,
    scope: 'openid',
    state,
    nonce,
    response_mode: 'form_post',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256'
  })
  await page.goto(url.href)
  await page.getByLabel('Username').fill('alice')
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.getByRole('button', { name: 'Allow' }).click()
  const posted = await callback.next()
  t.equal(posted.method, 'POST', 'the answer comes as a POST')
  t.equal(posted.contentType, 'application/x-www-form-urlencoded')
  t.same([...new URLSearchParams(posted.body).keys()], ['code', 'state', 'iss'])

  const request = new Request(callback.url, { method: 'POST', headers: { 'content-type': posted.contentType ?? '' }, body: posted.body })
  const tokens = await oidc.authorizationCodeGrant(config, request, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true })
  t.equal(tokens.claims()?.sub, alice.id, 'openid-client checked state, iss, the ID token and its nonce')
  t.same(problems, [], 'no CSP refusal, no script error on any page')
})

t.test('a hostile state comes back byte-exact through the form and never runs; with scripts off the button posts it', { skip: withoutChromium }, async (t) => {
  const { app, url: issuer } = await buildListening(t)
  const callback = await recordingCallback(t)
  await addClient(app, 'rp', { grantTypes: ['authorization_code'], redirectUris: [callback.url] })
  const state = '"><script>alert(1)</script><img src=x onerror="alert(2)">\'&amp;</form><form action="https://evil.test">'
  const authorize = `${issuer}/authorize?${new URLSearchParams({
    client_id: 'rp',
response_type: 'code',
redirect_uri: callback.url,
scope: 'openid',
state,
prompt: 'none',
response_mode: 'form_post',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
code_challenge_method: 'S256'
  })}`

  const { page, problems } = await openBrowser(t)
  const dialogs: string[] = []
  page.on('dialog', (dialog) => { dialogs.push(dialog.message()); dialog.dismiss().catch(() => {}) })
  await page.goto(authorize)
  const posted = await callback.next()
  t.equal(posted.method, 'POST')
  const params = new URLSearchParams(posted.body)
  t.equal(params.get('error'), 'login_required')
  t.equal(params.get('state'), state, 'the state, byte-exact')
  t.same(dialogs, [], 'no dialog opened: no injected script or handler ran')
  t.same(problems, [], 'and none was even refused by the CSP (Chromium logs each refusal): the markup never had one')

  const browser = await launchChromium(t)
  const noScripts = await (await browser.newContext({ javaScriptEnabled: false })).newPage()
  await noScripts.goto(authorize)
  await noScripts.getByRole('button', { name: 'Continue' }).click()
  const byHand = await callback.next()
  t.equal(new URLSearchParams(byHand.body).get('state'), state, 'the noscript button posts the same')
})

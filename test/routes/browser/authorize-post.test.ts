import t from 'tap'
import { FORM, ISSUER, build } from '../../support/helper.js'
import {
  InjectBrowser, REDIRECT, authorizeThrough, browserFixtures, callbackParams, defined, exchange, field, formPostParams, webRequest
} from '../../support/browser.js'

// POST /authorize (OIDC Core §3.1.2.1: the authorization endpoint MUST support GET and POST): the same parameters as
// a form the client's page submits, the same answers as GET. The conformance module: oidcc-ensure-post-request-succeeds.

t.test('a form posted to /authorize: the login page without any CSRF token, then consent and a code, as with GET', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app)
  const browser = new InjectBrowser(app)
  const { params, verifier } = webRequest()
  const login = await browser.post('/authorize', defined(params), { origin: 'https://app.test', 'sec-fetch-site': 'cross-site' })
  t.equal(login.statusCode, 200, 'the client\'s own form, from its own site: no CSRF check')
  t.match(login.body, /name="password"/, 'the login page')
  t.match(field(login.body, 'return_to'), /^\/authorize\?response_type=code&client_id=web&/, 'the login form comes back to GET /authorize with the same request')
  t.match(login.headers['content-security-policy'], /form-action 'self' https:\/\/app\.test/)

  const signedIn = await browser.post('/login', { username: 'alice', password: 'correct horse battery staple', csrf: field(login.body, 'csrf'), return_to: field(login.body, 'return_to') })
  const consent = await browser.get(signedIn.headers.location as string)
  const allowed = await browser.post('/consent', { decision: 'allow', csrf: field(consent.body, 'csrf'), return_to: field(consent.body, 'return_to') })
  const back = callbackParams(allowed)
  t.equal(back.get('state'), 'st-1')
  t.equal(back.get('iss'), ISSUER)
  t.equal((await exchange(app, { code: back.get('code') as string, code_verifier: verifier }, webAuth)).statusCode, 200)

  const silent = webRequest({ prompt: 'none' })
  const code = await browser.post('/authorize', defined(silent.params))
  t.equal(code.statusCode, 303, 'signed in and consented: straight back with a code')
  t.match(code.headers.location, /^https:\/\/app\.test\/cb\?code=/)
  t.equal((await exchange(app, { code: callbackParams(code).get('code') as string, code_verifier: silent.verifier }, webAuth)).statusCode, 200)

  const formPost = await browser.post('/authorize', defined(webRequest({ response_mode: 'form_post' }).params))
  t.equal(formPostParams(formPost).action, REDIRECT, 'POST with response_mode=form_post: the form page')
  t.ok(await authorizeThrough(new InjectBrowser(app), webRequest().url), 'GET still works')
})

t.test('POST /authorize refuses as GET does; a body that is not a form, or an empty one, carries no request', async (t) => {
  const app = await build(t)
  await browserFixtures(app)
  const browser = new InjectBrowser(app)
  const { params } = webRequest()
  const pageOf = async (res: { statusCode: number, headers: Record<string, unknown>, body: string }, status: number, label: string) => {
    t.equal(res.statusCode, status, `${label}: ${status}`)
    t.notOk(res.headers.location, `${label}: not sent back`)
    t.match(res.headers['content-type'], /^text\/html/, `${label}: an error page`)
  }
  await pageOf(await browser.post('/authorize', defined({ ...params, client_id: 'nobody' })), 400, 'unknown client')
  await pageOf(await browser.post('/authorize', defined({ ...params, redirect_uri: 'https://evil.test/cb' })), 400, 'unregistered redirect_uri')
  const type = await browser.post('/authorize', defined({ ...params, response_type: 'token' }))
  t.equal(type.statusCode, 303)
  t.equal(callbackParams(type).get('error'), 'unsupported_response_type', 'a refusal once the client is known goes back to it')

  const get = await browser.get(`${webRequest().url}&scope=openid`)
  const post = await app.inject({ method: 'POST', url: '/authorize', headers: FORM, payload: `${new URLSearchParams(defined(params))}&scope=openid` })
  t.equal(post.statusCode, get.statusCode, 'a repeated parameter: refused as GET refuses it')
  t.equal(post.statusCode, 400)
  t.equal(post.body.match(/role="alert">([^<]*)/)?.[1], get.body.match(/role="alert">([^<]*)/)?.[1], 'with the same words')

  await pageOf(await app.inject({ method: 'POST', url: '/authorize', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(defined(params)) }), 400, 'JSON')
  await pageOf(await app.inject({ method: 'POST', url: '/authorize', headers: FORM, payload: '' }), 400, 'an empty form')
  await pageOf(await app.inject({ method: 'POST', url: '/authorize', headers: { 'content-type': 'text/plain' }, payload: 'client_id=web' }), 400, 'text/plain')
  const big = `${new URLSearchParams(defined(params))}&pad=${'x'.repeat(1024 * 1024)}`
  const tooBig = await app.inject({ method: 'POST', url: '/authorize', headers: FORM, payload: big })
  const loginTooBig = await app.inject({ method: 'POST', url: '/login', headers: FORM, payload: big })
  await pageOf(tooBig, 413, 'over the body limit')
  t.equal(tooBig.statusCode, loginTooBig.statusCode, 'the limit of the other forms (POST /login)')
  t.equal((await app.inject({ method: 'PUT', url: '/authorize', headers: FORM, payload: 'a=b' })).headers.allow, 'GET, POST', '405 names both methods')
})

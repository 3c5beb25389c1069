import t from 'tap'
import { build, manualClock, post } from '../support/helper.js'
import { authorizeThrough, browserFixtures, callbackParams, field, InjectBrowser, pkce, REDIRECT, webRequest } from '../support/browser.js'

// K2: pushed authorization requests (RFC 9126 §2.2, §4, §5). Each case's exact answers; never a 5xx.

function pushFields (over: Record<string, string> = {}) {
  const { challenge } = pkce()
  return { response_type: 'code', redirect_uri: REDIRECT, scope: 'openid profile', state: 'st-1', code_challenge: challenge, code_challenge_method: 'S256', ...over }
}
const at = (clientId: string, urn: string) => `/authorize?client_id=${clientId}&request_uri=${encodeURIComponent(urn)}`
const isErrorPage = (res: { statusCode: number, headers: Record<string, unknown> }) => res.statusCode === 400 && /^text\/html/.test(String(res.headers['content-type'])) && res.headers.location === undefined

t.test('K2: a request_uri used twice after its sign-in completed: the second use is an error page, no second answer', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app)
  const urn = (await post(app, '/par', pushFields(), { authorization: webAuth })).json().request_uri
  const browser = new InjectBrowser(app)
  t.ok(await authorizeThrough(browser, at('web', urn)), 'the first use ends in a code')
  const again = await browser.get(at('web', urn))
  t.ok(isErrorPage(again), 'the same browser, signed in and consented: an error page, not a second code')
  t.ok(isErrorPage(await new InjectBrowser(app).get(at('web', urn))), 'another browser: the same')
})

t.test('K2: an error back to the client spends the request_uri too (access_denied, then nothing more)', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app)
  const urn = (await post(app, '/par', pushFields(), { authorization: webAuth })).json().request_uri
  const browser = new InjectBrowser(app)
  let res = await browser.get(at('web', urn))
  res = await browser.post('/login', { username: 'alice', password: 'correct horse battery staple', csrf: field(res.body, 'csrf'), return_to: field(res.body, 'return_to') })
  const consent = await browser.get(res.headers.location as string)
  const fields = { csrf: field(consent.body, 'csrf'), return_to: field(consent.body, 'return_to') }
  const denied = await browser.post('/consent', { decision: 'deny', ...fields })
  t.equal(callbackParams(denied).get('error'), 'access_denied')
  t.equal(callbackParams(denied).get('state'), 'st-1', 'the pushed state')
  t.ok(isErrorPage(await browser.post('/consent', { decision: 'allow', ...fields })), 'the consent form posted again: an error page, no code')
})

t.test('K2: two answers racing for one request_uri: exactly one goes back', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app, { skipConsent: true })
  const browser = new InjectBrowser(app)
  await authorizeThrough(browser, webRequest().url)
  const urn = (await post(app, '/par', pushFields(), { authorization: webAuth })).json().request_uri
  const answers = await Promise.all(Array.from({ length: 5 }, async () => browser.get(at('web', urn))))
  t.equal(answers.filter((r) => r.statusCode === 303 && callbackParams(r).get('code')).length, 1, 'one code')
  t.equal(answers.filter(isErrorPage).length, 4, 'four error pages')
})

t.test('K2: a request_uri first presented after 60 s is an error page; once started it lasts the sign-in', async (t) => {
  const clock = manualClock()
  const app = await build(t, {}, { clock })
  const { webAuth } = await browserFixtures(app)
  const late = (await post(app, '/par', pushFields(), { authorization: webAuth })).json().request_uri
  const onTime = (await post(app, '/par', pushFields(), { authorization: webAuth })).json().request_uri
  clock.advance(59)
  const browser = new InjectBrowser(app)
  t.equal((await browser.get(at('web', onTime))).statusCode, 200, 'presented at 59 s: the login page')
  clock.advance(1)
  t.ok(isErrorPage(await browser.get(at('web', late))), 'presented at 60 s: an error page')
  clock.advance(300)
  t.ok(await authorizeThrough(browser, at('web', onTime)), 'started in time: the sign-in may take minutes')
})

t.test('K2: another client presenting the request_uri: an error page, and the urn stays its pusher\'s', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app)
  const urn = (await post(app, '/par', pushFields(), { authorization: webAuth })).json().request_uri
  const browser = new InjectBrowser(app)
  t.ok(isErrorPage(await browser.get(at('spa', urn))), 'client_id=spa with web\'s urn')
  t.ok(isErrorPage(await browser.get(at('nobody', urn))), 'an unknown client_id')
  t.ok(await authorizeThrough(browser, at('web', urn)), 'its own client still can')
})

t.test('K2: a client added with --require-par sending a plain /authorize is refused back to it; pushed, it works', async (t) => {
  const app = await build(t)
  const { webAuth } = await browserFixtures(app)
  await app.storage.clients.update('web', { requirePar: true })
  const browser = new InjectBrowser(app)
  const plain = await browser.get(webRequest().url)
  t.equal(plain.statusCode, 303)
  const back = callbackParams(plain)
  t.equal(back.get('error'), 'invalid_request')
  t.equal(back.get('error_description'), 'pushed authorization requests are required')
  t.equal(back.get('state'), 'st-1')
  t.equal((await browser.get(webRequest({ client_id: 'spa', redirect_uri: 'https://spa.test/cb' }).url)).statusCode, 200, 'another client is not concerned')
  const urn = (await post(app, '/par', pushFields(), { authorization: webAuth })).json().request_uri
  t.ok(await authorizeThrough(browser, at('web', urn)))
})

t.test('K2: REQUIRE_PAR=on: every plain /authorize is refused, and the metadata says so', async (t) => {
  const app = await build(t, { REQUIRE_PAR: 'on' })
  const { webAuth } = await browserFixtures(app)
  const browser = new InjectBrowser(app)
  for (const request of [webRequest(), webRequest({ client_id: 'spa', redirect_uri: 'https://spa.test/cb' })]) {
    const res = await browser.get(request.url)
    t.equal(callbackParams(res).get('error'), 'invalid_request', `${request.params.client_id}: refused`)
  }
  const metadata = (await app.inject('/.well-known/openid-configuration')).json()
  t.equal(metadata.require_pushed_authorization_requests, true)
  t.equal(metadata.pushed_authorization_request_endpoint, 'http://gatehouse.test/par')
  const urn = (await post(app, '/par', pushFields(), { authorization: webAuth })).json().request_uri
  t.ok(await authorizeThrough(browser, at('web', urn)), 'pushed: a code')
})

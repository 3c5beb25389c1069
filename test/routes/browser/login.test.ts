import t from 'tap'
import { InjectBrowser, browserFixtures, signInAt, webRequest } from '../../support/browser.js'
import { build } from '../../support/helper.js'
import { MAX_PASSWORD_LENGTH, MAX_USERNAME_INPUT_LENGTH } from '../../../schemas/common.js'

// The login form and the sign-in paths beside it (routes/browser/login.ts, upstream.ts). The flow through them:
// test/routes/browser/flow.test.ts and upstream.test.ts; series A: test/security/browser.test.ts.

t.test('an over-long username or password is a bad credential (signIn\'s limits, as the password grant\'s), never hashed', async (t) => {
  const app = await build(t)
  await browserFixtures(app)
  let hashed = 0
  const verify = app.passwords.verify.bind(app.passwords)
  app.passwords.verify = async (...args) => { hashed++; return verify(...args) }
  for (const [username, password] of [['a'.repeat(MAX_USERNAME_INPUT_LENGTH + 1), 'x'], ['alice', 'x'.repeat(MAX_PASSWORD_LENGTH + 1)]] as Array<[string, string]>) {
    const res = await signInAt(new InjectBrowser(app), webRequest().url, username, password)
    t.equal(res.statusCode, 401, `${username.length} + ${password.length} characters: 401`)
    t.match(res.body, /Invalid username or password\./)
  }
  t.equal(hashed, 0, 'no hash computed for either')
  t.equal((await signInAt(new InjectBrowser(app), webRequest().url, 'alice', 'x'.repeat(MAX_PASSWORD_LENGTH))).statusCode, 401, 'at the limit: checked (and wrong)')
  t.equal(hashed, 1)
})

t.test('/login/{name} with a name no provider can have: the JSON 404 of any unknown path, with the browser headers', async (t) => {
  const app = await build(t)
  const unknown = await app.inject('/no/such/path')
  for (const url of ['/login/..%2Fadmin', '/login/Not-A-Name', '/login/-x/callback?state=s&code=c', `/login/${'a'.repeat(33)}`]) {
    const res = await app.inject(url)
    t.equal(res.statusCode, 404, url)
    t.equal(res.headers['content-type'], unknown.headers['content-type'], `${url}: JSON`)
    t.equal(res.body, unknown.body, `${url}: the body of any unknown path`)
    t.equal(res.headers['cache-control'], 'no-store', `${url}: a browser reply, not cached`)
  }
  t.same(unknown.json(), { error: 'not_found', error_description: 'no such endpoint' })
  const page = await app.inject('/login/nope')
  t.equal(page.statusCode, 404, 'a well-formed name of no provider: the 404 page')
  t.match(page.headers['content-type'], /^text\/html/)
})

import t from 'tap'
import { InjectBrowser, browserFixtures, field, webRequest, PASSWORD } from '../../support/browser.js'
import { manualClock } from '../../support/helper.js'
import { buildLogged } from '../../support/security.js'

// GET /authorize and the interaction policy (lib/oauth/interaction.ts) through the app: why a page is shown, or
// why a request went back refused, reaches the log at debug, named as the policy names it. The flow itself:
// test/routes/browser/flow.test.ts; the policy's every check: test/lib/oauth/interaction.test.ts.

t.test('why a page is shown reaches the log (debug): the prompt and the reason', async (t) => {
  const clock = manualClock()
  const { app, lines } = await buildLogged(t, {}, { clock })
  await browserFixtures(app)
  const browser = new InjectBrowser(app)
  const decisions = () => lines().map((line) => JSON.parse(line)).filter((e) => /^authorization request (needs a page|refused)$/.test(e.msg))
    .map(({ msg, prompt, reason, error, clientId, level }) => ({ msg, prompt, reason, error, clientId, level }))

  const login = await browser.get(webRequest().url)
  const signedIn = await browser.post('/login', { username: 'alice', password: PASSWORD, csrf: field(login.body, 'csrf'), return_to: field(login.body, 'return_to') })
  await browser.get(signedIn.headers.location as string)
  clock.advance(30)
  await browser.get(webRequest({ max_age: '10' }).url)
  await new InjectBrowser(app).get(webRequest({ prompt: 'none' }).url)
  t.match(decisions(), [
    { msg: 'authorization request needs a page', prompt: 'login', reason: 'no_session', clientId: 'web', level: 20 },
    { msg: 'authorization request needs a page', prompt: 'consent', reason: 'no_consent', clientId: 'web' }, // after the login form
    { msg: 'authorization request needs a page', prompt: 'consent', reason: 'no_consent', clientId: 'web' }, // the consent page it leads to
    { msg: 'authorization request needs a page', prompt: 'login', reason: 'max_age' },
    { msg: 'authorization request refused', reason: 'no_session', error: 'login_required', level: 20 }
  ])
  t.equal(decisions().length, 5)
})

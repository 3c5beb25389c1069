import t from 'tap'
import { InjectBrowser, browserFixtures, field, signInAt, webRequest } from '../../support/browser.js'
import { addUser, build, post } from '../../support/helper.js'

// Issue 29: the login and consent pages name the client an administrator made and show its logo (lib/oauth/client-display.ts,
// routes/browser/pages.ts), with a CSP that allows that one image; error pages give the request id.

const LOGO = 'https://cdn.example/brand/logo.png?v=2'

async function setup (t: Parameters<typeof build>[0]) {
  const app = await build(t)
  await browserFixtures(app)
  await addUser(app, 'root', 'pw', { scope: 'admin' })
  const token = (await post(app, '/token', { grant_type: 'password', username: 'root', password: 'pw' })).json().access_token as string
  const admin = (method: 'POST' | 'PATCH', url: string, payload: object) => app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, payload })
  return { app, admin }
}

const imgSrc = (csp: unknown): string => /img-src ([^;]*)/.exec(String(csp))?.[1] ?? ''

t.test('client_name and logo_uri through the admin API: checked, stored, shown, removed with null', async (t) => {
  const { admin } = await setup(t)
  const made = await admin('POST', '/admin/clients', { client_id: 'shop', grant_types: ['authorization_code'], redirect_uris: ['https://shop.test/cb'], client_name: ' Shop ', logo_uri: 'http://127.0.0.1:9000/l.png' })
  t.equal(made.statusCode, 201, made.body)
  t.match(made.json(), { client_name: 'Shop', logo_uri: 'http://127.0.0.1:9000/l.png' }, 'trimmed; http on loopback is allowed')
  for (const [body, why] of [[{ logo_uri: 'http://cdn.example/l.png' }, 'plain http off loopback'], [{ logo_uri: 'javascript:alert(1)' }, 'a script URL'],
    [{ logo_uri: "https://cdn.example/l.png'; img-src *" }, 'a CSP injection'], [{ client_name: 'a\u202eb' }, 'a direction override'], [{ client_name: 'x'.repeat(101) }, 'too long']] as const) {
    const res = await admin('PATCH', '/admin/clients/shop', body)
    t.equal(res.statusCode, 400, why)
  }
  t.match((await admin('PATCH', '/admin/clients/web', { client_name: 'Acme Web', logo_uri: LOGO })).json(), { client_name: 'Acme Web', logo_uri: LOGO })
  t.match((await admin('PATCH', '/admin/clients/shop', { client_name: null, logo_uri: null })).json(), { client_name: null, logo_uri: null })
})

t.test('the login and consent pages show the name (as text) and the logo; the CSP allows that image and no other', async (t) => {
  const { app, admin } = await setup(t)
  const before = await new InjectBrowser(app).get(webRequest().url)
  t.match(before.body, /to continue to <span class="client">web<\/span>/, 'without a name: the id')
  t.equal(imgSrc(before.headers['content-security-policy']), "'self' data:", 'no logo: no image from elsewhere')

  await admin('PATCH', '/admin/clients/web', { client_name: 'Acme <b>Web</b>', logo_uri: LOGO })
  const browser = new InjectBrowser(app)
  const { url } = webRequest()
  const login = await browser.get(url)
  t.match(login.body, /to continue to <span class="client">Acme &lt;b&gt;Web&lt;\/b&gt;<\/span>/, 'the name, escaped')
  t.match(login.body, `<img class="logo" src="${LOGO}"`)
  t.equal(imgSrc(login.headers['content-security-policy']), "'self' data: https://cdn.example/brand/logo.png", 'exactly the logo (origin and path)')

  const signedIn = await browser.post('/login', { username: 'alice', password: 'correct horse battery staple', csrf: field(login.body, 'csrf'), return_to: field(login.body, 'return_to') })
  const consent = await browser.get(String(signedIn.headers.location))
  t.equal(consent.statusCode, 200)
  t.match(consent.body, /Allow <span class="client">Acme &lt;b&gt;Web&lt;\/b&gt;<\/span> to access your account\?/)
  t.notMatch(consent.body, /Not verified/, 'an administrator\'s client is not marked as unverified')
  t.equal(imgSrc(consent.headers['content-security-policy']), "'self' data: https://cdn.example/brand/logo.png")
})

t.test('a self-registered client\'s name and logo never reach the login page', async (t) => {
  const { app } = await setup(t)
  await app.storage.clients.update('web', { clientName: 'Your Bank', logoUri: 'https://evil.example/bank.png' })
  await app.storage.clients.create({ ...(await app.storage.clients.find('web'))!, id: 'reg', registration: 'open', clientName: 'Your Bank', logoUri: 'https://evil.example/bank.png' })
  const page = await new InjectBrowser(app).get(webRequest({ client_id: 'reg' }).url)
  t.equal(page.statusCode, 200)
  t.notMatch(page.body, /Your Bank|evil\.example/)
  t.equal(imgSrc(page.headers['content-security-policy']), "'self' data:")
})

t.test('an error page gives the request id, the one in X-Request-Id and the log', async (t) => {
  const { app } = await setup(t)
  const res = await new InjectBrowser(app).get(webRequest({ client_id: 'nobody' }).url)
  t.equal(res.statusCode, 400)
  const id = res.headers['x-request-id']
  t.type(id, 'string')
  t.match(res.body, `Reference: <code>${String(id)}</code>`)
})

t.test('login with signInAt still works for a named client', async (t) => {
  const { app, admin } = await setup(t)
  await admin('PATCH', '/admin/clients/web', { client_name: 'Acme' })
  t.equal((await signInAt(new InjectBrowser(app), webRequest().url)).statusCode, 303)
})

t.test('the pages\' language: ui_locales (kept through the sign-in), then Accept-Language, else English', async (t) => {
  const { app } = await setup(t)
  const english = await new InjectBrowser(app).get(webRequest().url)
  t.match(english.body, /<html lang="en">/)
  t.match(english.body, /<label for="username">Username<\/label>/)
  t.equal(english.headers['content-language'], 'en')

  const byHeader = await new InjectBrowser(app).get(webRequest().url, { 'accept-language': 'de-DE, fr;q=0.8' })
  t.match(byHeader.body, /<html lang="fr">/, 'Accept-Language')
  t.match(byHeader.body, /Nom d’utilisateur/)

  // ui_locales wins over the header, and the consent page after the sign-in keeps it (return_to carries it).
  const browser = new InjectBrowser(app)
  const { url } = webRequest({ ui_locales: 'fr-CA en' })
  const login = await browser.get(url, { 'accept-language': 'en' })
  t.match(login.body, /<html lang="fr">/, 'ui_locales')
  t.match(login.body, /<button type="submit">Se connecter<\/button>/)
  const wrong = await browser.post('/login', { username: 'alice', password: 'wrong', csrf: field(login.body, 'csrf'), return_to: field(login.body, 'return_to') }, { 'accept-language': 'en' })
  t.match(wrong.body, /<html lang="fr">/, 'the login page again, after a wrong password')
  const signedIn = await browser.post('/login', { username: 'alice', password: 'correct horse battery staple', csrf: field(wrong.body, 'csrf'), return_to: field(wrong.body, 'return_to') })
  const consent = await browser.get(String(signedIn.headers.location), { 'accept-language': 'en' })
  t.match(consent.body, /<html lang="fr">/, 'the consent page')
  t.match(consent.body, /Autoriser <span class="client">web<\/span> à accéder à votre compte/)

  const error = await new InjectBrowser(app).get(webRequest({ client_id: 'nobody' }).url, { 'accept-language': 'fr' })
  t.match(error.body, /Cette demande ne peut pas aboutir/, 'the error page')
  t.match(error.body, `Référence : <code>${String(error.headers['x-request-id'])}</code>`)
})

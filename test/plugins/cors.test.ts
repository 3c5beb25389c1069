import t, { type Test } from 'tap'
import { addClient, build, FORM, form, manualClock } from '../support/helper.js'

const SPA = 'https://spa.test'

async function setup (t: Test) {
  const clock = manualClock()
  const app = await build(t, { CORS_ORIGINS: 'https://extra.test' }, { clock })
  await addClient(app, 'spa', { isPublic: true, grantTypes: ['authorization_code', 'refresh_token'], redirectUris: [`${SPA}/cb`] })
  await addClient(app, 'web', { grantTypes: ['authorization_code'], redirectUris: ['https://web.test/cb'] })
  return { app, clock }
}

const preflight = (origin: string, method = 'POST', url = '/token') => ({
  method: 'OPTIONS' as const, url, headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'content-type' }
})

t.test('preflights: allowed for public clients\' origins and CORS_ORIGINS, on the browser endpoints only', async (t) => {
  const { app } = await setup(t)
  const ok = await app.inject(preflight(SPA))
  t.equal(ok.statusCode, 204, 'OPTIONS /token answers 204 (it was 405)')
  t.equal(ok.headers['access-control-allow-origin'], SPA, 'the public client\'s origin is allowed')
  t.equal(ok.headers['access-control-allow-methods'], 'POST')
  t.match(ok.headers['access-control-allow-headers'], /Authorization/)
  t.match(ok.headers['access-control-allow-headers'], /Content-Type/)
  t.equal(ok.headers['access-control-max-age'], '600')
  t.equal(ok.headers.vary, 'Origin')
  t.equal((await app.inject(preflight('https://extra.test'))).headers['access-control-allow-origin'], 'https://extra.test', 'CORS_ORIGINS')
  for (const origin of ['https://evil.test', 'https://web.test', 'https://spa.test.evil.test', 'http://spa.test', 'null']) {
    const res = await app.inject(preflight(origin))
    t.equal(res.statusCode, 204, `${origin}: 204`)
    t.equal(res.headers['access-control-allow-origin'], undefined, `${origin}: no Access-Control-Allow-Origin (a confidential client's origin is not a browser app's)`)
  }
  t.equal((await app.inject(preflight(SPA, 'DELETE'))).headers['access-control-allow-origin'], undefined, 'a method the route lacks is refused')
  for (const [url, method] of [['/revoke', 'POST'], ['/.well-known/jwks.json', 'GET'], ['/.well-known/openid-configuration', 'GET'], ['/.well-known/oauth-authorization-server', 'GET']] as const) {
    t.equal((await app.inject(preflight(SPA, method, url))).headers['access-control-allow-origin'], SPA, `${url}: allowed`)
  }
  for (const [url, method] of [['/admin/users', 'GET'], ['/users/me', 'GET'], ['/introspect', 'POST'], ['/docs', 'GET'], ['/health', 'GET']] as const) {
    const res = await app.inject(preflight(SPA, method, url))
    t.equal(res.headers['access-control-allow-origin'], undefined, `${url}: never CORS`)
    t.not(res.statusCode, 204, `${url}: no preflight route`)
  }
})

t.test('actual requests: the allowed origin is echoed, a foreign one gets nothing, and the request itself is unchanged', async (t) => {
  const { app } = await setup(t)
  const token = (origin: string) => app.inject({ method: 'POST', url: '/token', headers: { ...FORM, origin }, payload: form({ grant_type: 'client_credentials', client_id: 'spa' }) })
  const allowed = await token(SPA)
  t.equal(allowed.headers['access-control-allow-origin'], SPA)
  t.match(allowed.headers['access-control-expose-headers'], /WWW-Authenticate/)
  t.equal(allowed.json().error, 'unauthorized_client', 'the reply is the ordinary OAuth answer (an error here), readable by the app')
  const foreign = await token('https://evil.test')
  t.equal(foreign.headers['access-control-allow-origin'], undefined)
  t.equal(foreign.headers.vary, 'Origin', 'Vary: Origin on every reply of a CORS endpoint')
  const jwks = await app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { origin: SPA } })
  t.equal(jwks.headers['access-control-allow-origin'], SPA)
  const plain = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  t.equal(plain.headers['access-control-allow-origin'], undefined, 'no Origin, no CORS header')
  const admin = await app.inject({ method: 'GET', url: '/admin/users', headers: { origin: SPA } })
  t.equal(admin.headers['access-control-allow-origin'], undefined, '/admin never')
})

t.test('a public client registered later is allowed within the refresh interval', async (t) => {
  const { app, clock } = await setup(t)
  const late = 'https://late.test'
  t.equal((await app.inject(preflight(late))).headers['access-control-allow-origin'], undefined, 'not registered yet')
  await addClient(app, 'late', { isPublic: true, grantTypes: ['authorization_code'], redirectUris: [`${late}/cb`] })
  clock.advance(5)
  t.equal((await app.inject(preflight(late))).headers['access-control-allow-origin'], late, 'allowed after the 5 s refresh')
})

t.test('CORS_ORIGINS must be a list of origins', async (t) => {
  const { loadConfig } = await import('../../lib/config.js')
  t.same(loadConfig({ CORS_ORIGINS: 'https://a.test, http://localhost:5173' }).corsOrigins, ['https://a.test', 'http://localhost:5173'])
  for (const bad of ['https://a.test/', 'https://a.test/path', '*', 'a.test', 'ftp://a.test']) {
    t.throws(() => loadConfig({ CORS_ORIGINS: bad }), /CORS_ORIGINS/, `${bad} is refused`)
  }
})

t.test('CORS never allows Origin: null, also when a public client has a private-use-scheme redirect URI (RFC 8252 §7.1)', async (t) => {
  const { app, clock } = await setup(t)
  // A native app's redirect URI: its URL origin is the opaque origin, serialised "null", as a sandboxed iframe's,
  // a file:// page's or a data: URL's Origin header is.
  await addClient(app, 'native', { isPublic: true, grantTypes: ['authorization_code', 'refresh_token'], redirectUris: ['com.example.app:/oauth2redirect', 'com.example.app://callback/path'] })
  clock.advance(6) // past the policy's refresh interval: the new client's redirect URIs are read
  t.equal((await app.inject(preflight(SPA))).headers['access-control-allow-origin'], SPA, 'the list was read again (the SPA still allowed)')
  const pre = await app.inject(preflight('null'))
  t.equal(pre.statusCode, 204)
  t.equal(pre.headers['access-control-allow-origin'], undefined, 'preflight with Origin: null: no Access-Control-Allow-Origin')
  t.equal(pre.headers['access-control-allow-methods'], undefined)
  const post = await app.inject({ method: 'POST', url: '/token', headers: { ...FORM, origin: 'null' }, payload: form({ grant_type: 'authorization_code', client_id: 'native', code: 'x', redirect_uri: 'com.example.app:/oauth2redirect', code_verifier: 'v'.repeat(43) }) })
  t.equal(post.statusCode, 400, 'the request itself is answered as without CORS')
  t.equal(post.headers['access-control-allow-origin'], undefined, 'POST /token with Origin: null: no Access-Control-Allow-Origin')
  t.equal(post.headers['access-control-expose-headers'], undefined)
  for (const origin of ['com.example.app://callback', 'com.example.app:', 'com.example.app']) {
    t.equal((await app.inject(preflight(origin))).headers['access-control-allow-origin'], undefined, `${origin}: not an origin a browser sends; never allowed`)
  }
})

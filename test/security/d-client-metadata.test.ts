import t, { type Test } from 'tap'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { addUser, build, form, FORM, freePort } from '../support/helper.js'
import { startServer, stopServer } from '../support/server-process.js'
import { selfSignedCertificate } from '../support/tls.js'
import { authorizeUrl, callbackParams, field, InjectBrowser, PASSWORD, pkce } from '../support/browser.js'

// SECURITY-CASES D3: Client ID Metadata Documents (docs/client-metadata-documents.md): a client_id URL that
// redirects, resolves to a private or loopback address, answers 5 MB or slowly, or whose document names another
// client_id or redirect URI is refused with the error page, within UPSTREAM_TIMEOUT_MS, and nothing is fetched from
// a private address. Then the happy path: a full authorization code flow with PKCE for a document client.

const REDIRECT = 'https://app.test/cb'
const TIMEOUT_MS = 1000

interface DocumentServer { origin: string, connections: () => number, hits: (path: string) => number }

/** The client's side: an HTTPS server serving good and hostile documents, counting connections and requests. */
async function documentServer (t: Test, tls: { key: string, cert: string }): Promise<DocumentServer> {
  let connections = 0
  const hits = new Map<string, number>()
  const stalled: Array<() => void> = []
  const server: Server = createServer(tls, (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    hits.set(path, (hits.get(path) ?? 0) + 1)
    const self = `${origin}${path}`
    const json = (body: unknown, headers: Record<string, string> = {}) => { res.writeHead(200, { 'content-type': 'application/json', ...headers }); res.end(JSON.stringify(body)) }
    switch (path) {
      case '/good': return json({ client_id: self, client_name: 'Notes Agent', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] }, { 'cache-control': 'max-age=600' })
      case '/redirect': res.writeHead(302, { location: `${origin}/good` }); return res.end()
      case '/stall': stalled.push(() => res.destroy()); return
      case '/big': {
        res.writeHead(200, { 'content-type': 'application/json' })
        const chunk = Buffer.alloc(64 * 1024, 0x20)
        let sent = 0
        const more = () => { while (sent < 5 * 1024 * 1024 && !res.destroyed) { sent += chunk.length; if (!res.write(chunk)) return res.once('drain', more) } res.end() }
        return more()
      }
      case '/other-id': return json({ client_id: `${origin}/good`, redirect_uris: [REDIRECT] })
      case '/other-redirect': return json({ client_id: self, redirect_uris: ['https://elsewhere.test/cb'] })
      case '/bad-uri': return json({ client_id: self, redirect_uris: ['javascript:alert(1)'] })
      case '/secret': return json({ client_id: self, redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic' })
      default: res.writeHead(404); return res.end()
    }
  })
  server.on('secureConnection', () => { connections++ })
  server.on('connection', () => {})
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  t.teardown(() => new Promise<void>((resolve) => { for (const end of stalled) end(); server.closeAllConnections(); server.close(() => resolve()) }))
  return { origin, connections: () => connections, hits: (path) => hits.get(path) ?? 0 }
}

const request = (clientId: string, over: Record<string, string> = {}) => {
  const { verifier, challenge } = pkce()
  return { url: authorizeUrl({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, scope: 'openid profile', state: 's1', code_challenge: challenge, code_challenge_method: 'S256', ...over }), verifier }
}

/** The refusal every case must get: the HTML error page, no redirect to the client (its redirect URI is not verified). */
function assertErrorPage (t: Test, res: LightMyRequestResponse, reason: RegExp, label: string): void {
  t.equal(res.statusCode, 400, `${label}: 400`)
  t.match(String(res.headers['content-type']), /^text\/html/, `${label}: the error page`)
  t.equal(res.headers.location, undefined, `${label}: never a redirect`)
  t.match(res.body, reason, `${label}: the page says why`)
}

t.test('D3: redirects, 5 MB, a stall, another client_id or redirect URI, a secret: refused with the error page within UPSTREAM_TIMEOUT_MS', async (t) => {
  const tls = selfSignedCertificate(t)
  const docs = await documentServer(t, tls)
  // The issuer is on loopback (as in development), so the test's own server on 127.0.0.1 may be fetched.
  const app = await build(t, { ISSUER: 'http://127.0.0.1:3000', CLIENT_ID_METADATA_DOCUMENTS: 'on', UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS) }, { documentFetchCa: tls.cert })
  const cases: Array<[string, RegExp]> = [
    ['/redirect', /redirect \(HTTP 302\), which is not followed/],
    ['/big', /larger than 5120 bytes/],
    ['/other-id', /its client_id is not its own URL/],
    ['/secret', /token_endpoint_auth_method is not none/],
    ['/bad-uri', /redirect URI scheme must be https/],
    ['/missing', /HTTP 404/]
  ]
  for (const [path, reason] of cases) assertErrorPage(t, await app.inject(request(`${docs.origin}${path}`).url), reason, path)
  t.equal(docs.hits('/good'), 0, 'the redirect was not followed')

  const started = Date.now()
  assertErrorPage(t, await app.inject(request(`${docs.origin}/stall`).url), /no complete answer within 1000 ms/, '/stall')
  const took = Date.now() - started
  t.ok(took >= TIMEOUT_MS - 50 && took < TIMEOUT_MS + 1500, `the stall answered after ${took} ms (UPSTREAM_TIMEOUT_MS ${TIMEOUT_MS})`)

  // A valid document, but the request's redirect_uri is not among its redirect_uris.
  assertErrorPage(t, await app.inject(request(`${docs.origin}/other-redirect`).url), /redirect_uri is not registered/, '/other-redirect')
  assertErrorPage(t, await app.inject(request(`${docs.origin}/good`, { redirect_uri: 'https://evil.test/cb' }).url), /redirect_uri is not registered/, 'an unlisted redirect_uri')

  // A refusal is remembered briefly: asking again does not fetch again.
  const before = docs.hits('/other-id')
  assertErrorPage(t, await app.inject(request(`${docs.origin}/other-id`).url), /client_id is not its own URL/, '/other-id again')
  t.equal(docs.hits('/other-id'), before, 'the refused document was not fetched again')
  const stored = await app.storage.clients.list({ limit: 100, offset: 0 })
  t.same(stored.map((c) => c.id).sort(), [`${docs.origin}/good`, `${docs.origin}/other-redirect`], 'only the valid documents made client rows')
})

t.test('D3: a client_id on a private, link-local or loopback address (the issuer not on loopback): refused, nothing fetched', async (t) => {
  const tls = selfSignedCertificate(t)
  const docs = await documentServer(t, tls)
  const app = await build(t, { ISSUER: 'https://gatehouse.test', CLIENT_ID_METADATA_DOCUMENTS: 'on', UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS) }, { documentFetchCa: tls.cert })
  assertErrorPage(t, await app.inject(request(`${docs.origin}/good`).url), /resolves to a loopback address/, '127.0.0.1')
  assertErrorPage(t, await app.inject(request('https://10.0.0.1/client.json').url), /a private, link-local or reserved address/, '10.0.0.1')
  assertErrorPage(t, await app.inject(request('https://169.254.169.254/latest/meta-data').url), /a private, link-local or reserved address/, 'the cloud metadata address')
  assertErrorPage(t, await app.inject(request('https://[::ffff:a9fe:a9fe]/x').url), /a private, link-local or reserved address/, '169.254.169.254 as IPv4-mapped IPv6')
  assertErrorPage(t, await app.inject(request('https://[::1]/x').url), /resolves to a loopback address/, '[::1]')
  t.equal(docs.connections(), 0, 'no connection was made to the loopback server')
  t.same(await app.storage.clients.list({ limit: 10, offset: 0 }), [], 'no client stored')
  const metadata = (await app.inject('/.well-known/oauth-authorization-server')).json()
  t.equal(metadata.client_id_metadata_document_supported, true, 'metadata: client_id_metadata_document_supported')
})

t.test('D3: with CLIENT_ID_METADATA_DOCUMENTS off, a URL client_id is an unknown client and nothing is fetched', async (t) => {
  const tls = selfSignedCertificate(t)
  const docs = await documentServer(t, tls)
  const app = await build(t, { ISSUER: 'http://127.0.0.1:3000' }, { documentFetchCa: tls.cert })
  assertErrorPage(t, await app.inject(request(`${docs.origin}/good`).url), /unknown client/, 'off')
  t.equal(docs.connections(), 0, 'nothing fetched')
  t.equal((await app.inject('/.well-known/oauth-authorization-server')).json().client_id_metadata_document_supported, undefined, 'not in the metadata')
})

t.test('D3 happy path: a document client signs a user in (PKCE, consent with its name and host), gets and refreshes tokens', async (t) => {
  const tls = selfSignedCertificate(t)
  const docs = await documentServer(t, tls)
  const app: FastifyInstance = await build(t, { ISSUER: 'http://127.0.0.1:3000', CLIENT_ID_METADATA_DOCUMENTS: 'on', UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS) }, { documentFetchCa: tls.cert })
  await addUser(app, 'alice', PASSWORD, { scope: 'items:read' })
  const clientId = `${docs.origin}/good`
  const browser = new InjectBrowser(app)
  const { url, verifier } = request(clientId)
  // Without PKCE: refused back to the (now verified) redirect URI, as for any public client.
  const noPkce = await app.inject(authorizeUrl({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, state: 's1' }))
  t.equal(callbackParams(noPkce).get('error'), 'invalid_request', 'PKCE is required')

  let res = await browser.get(url)
  t.equal(res.statusCode, 200, 'the login page')
  res = await browser.post('/login', { username: 'alice', password: PASSWORD, csrf: field(res.body, 'csrf'), return_to: field(res.body, 'return_to') })
  if (res.statusCode === 303 && res.headers.location?.startsWith('/authorize')) res = await browser.get(res.headers.location)
  t.equal(res.statusCode, 200, 'the consent page')
  t.match(res.body, /Notes Agent/, 'consent names the client by its client_name')
  t.match(res.body, new RegExp(`class="client-host">127\\.0\\.0\\.1:${new URL(docs.origin).port}<`), 'and the host of its document')
  t.match(res.body, /Not verified/, 'marked not verified')
  res = await browser.post('/consent', { decision: 'allow', csrf: field(res.body, 'csrf'), return_to: field(res.body, 'return_to') })
  const code = callbackParams(res).get('code')
  t.ok(code, 'a code')

  const token = await app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'authorization_code', code: code ?? '', redirect_uri: REDIRECT, client_id: clientId, code_verifier: verifier }) })
  t.equal(token.statusCode, 200, token.body)
  const tokens = token.json()
  t.ok(tokens.access_token && tokens.refresh_token && tokens.id_token, 'access, refresh and ID tokens')
  const me = await app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${tokens.access_token}` } })
  t.equal(me.statusCode, 200, 'the access token works (the bearer check finds the client row)')

  const refreshed = await app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientId }) })
  t.equal(refreshed.statusCode, 200, refreshed.body)
  t.equal(docs.hits('/good'), 1, 'the document was fetched once: cached for its max-age')

  const row = await app.storage.clients.find(clientId)
  t.equal(row?.registration, 'cimd', 'a client row marked cimd')
  t.equal(row?.isPublic, true, 'a public client')
  t.notOk(row?.skipConsent, 'never skipConsent')
  t.ok(row?.firstUsedAt, 'used: the sweep keeps it')

  // A client secret at /token is refused (a public client), and a bad document URL there is invalid_client.
  const wrong = await app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'refresh_token', refresh_token: refreshed.json().refresh_token, client_id: `${docs.origin}/other-id` }) })
  t.equal(wrong.statusCode, 401, 'a refused document at /token')
  t.equal(wrong.json().error, 'invalid_client')
})

t.test('D3 as deployed: a server process trusts the document host\'s certificate through NODE_EXTRA_CA_CERTS (and not without it); a redirecting document is still refused', { skip: process.env.GATEHOUSE_TEST_BACKEND === 'postgres' ? 'server processes on their own SQLite file: once is enough' : false }, async (t) => {
  const tls = selfSignedCertificate(t)
  const documents = await documentServer(t, tls)
  const dir = t.testdir({ 'ca.pem': tls.cert })
  const port = await freePort()
  const issuer = `http://127.0.0.1:${port}`
  const env = { ISSUER: issuer, DATABASE_URL: `sqlite:${join(dir, 'trusting.db')}`, CLIENT_ID_METADATA_DOCUMENTS: 'on', UPSTREAM_TIMEOUT_MS: '3000' }
  const trusting = await startServer({ ...env, NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') }, port)
  t.teardown(() => stopServer(trusting))
  const authorize = (server: string, path: string) => fetch(`${server}${request(`${documents.origin}${path}`).url}`, { redirect: 'manual' })

  const good = await authorize(issuer, '/good')
  t.equal(good.status, 200, 'the document is fetched over TLS the process trusts: the login page')
  t.match(await good.text(), /name="password"/)
  const redirected = await authorize(issuer, '/redirect')
  t.equal(redirected.status, 400, 'a document that redirects: the error page')
  t.notOk(redirected.headers.get('location'), 'never a redirect to the client')
  t.equal(documents.hits('/good'), 1, 'the redirect was not followed (the good document was fetched once, by the first request)')

  const otherPort = await freePort()
  const untrusting = await startServer({ ...env, ISSUER: `http://127.0.0.1:${otherPort}`, DATABASE_URL: `sqlite:${join(dir, 'untrusting.db')}` }, otherPort)
  t.teardown(() => stopServer(untrusting))
  const refused = await authorize(`http://127.0.0.1:${otherPort}`, '/good')
  t.equal(refused.status, 400, 'without NODE_EXTRA_CA_CERTS the same certificate is not trusted: the error page')
})

import t, { type Test } from 'tap'
import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose'
import { BACKCHANNEL_LOGOUT_EVENT } from '../../lib/oauth/backchannel-logout.js'
import { OUTBOX_MAX_PENDING } from '../../lib/ops/outbox.js'
import { BACKCHANNEL_LOGOUT_KIND } from '../../lib/stores/types.js'
import { authorizeThrough, browserFixtures, exchange, InjectBrowser, webRequest } from '../support/browser.js'
import { addUser, build, freePort, manualClock, sharedDatabaseUrl, testBackend, type ManualClock } from '../support/helper.js'
import { bearer, passwordGrant } from '../support/oauth.js'

/**
 * OpenID Connect Back-Channel Logout 1.0 over real sockets: Gatehouse listens, a node:http server plays the
 * client's back-channel logout endpoint, and every logout token it receives is verified against the JWKS with jose.
 */

interface Receiver { url: string, tokens: string[], requests: number, received: (n: number) => Promise<void> }

/** The RP's endpoint: records each logout_token; `answer(n)` (n from 1) is the status, or 'hang' to never answer. */
async function receiver (t: Test, answer: (n: number) => number | 'hang' = () => 200): Promise<Receiver> {
  const state: Receiver = { url: '', tokens: [], requests: 0, received: async () => {} }
  const waiters: Array<{ n: number, resolve: () => void }> = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString() })
    req.on('end', () => {
      const n = ++state.requests
      state.tokens.push(new URLSearchParams(body).get('logout_token') ?? '')
      for (const w of waiters.filter((w) => state.requests >= w.n)) w.resolve()
      const status = answer(n)
      if (status !== 'hang') res.writeHead(status).end()
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/backchannel`
  state.received = (n) => state.requests >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))
  return state
}

/** Gatehouse listening, with `web` (skip consent) registered for back-channel logout at `rp`, and an admin token. */
async function gatehouse (t: Test, rp: Receiver, env: Record<string, string> = {}, clock?: ManualClock) {
  const port = await freePort()
  const issuer = `http://127.0.0.1:${port}`
  const app = await build(t, { ISSUER: issuer, ...env }, clock ? { clock } : {})
  await app.listen({ port, host: '127.0.0.1' })
  const { alice, secret, webAuth } = await browserFixtures(app, { skipConsent: true })
  await app.storage.clients.update('web', { backchannelLogoutUri: rp.url, postLogoutRedirectUris: ['https://app.test/bye'] })
  await addUser(app, 'root', 'root-pw', { scope: 'admin' })
  const admin = bearer((await passwordGrant(t, app, 'root', 'root-pw', { scope: 'admin' })).access_token)
  return { app, issuer, alice, secret, webAuth, admin }
}

/** Signs alice in through the browser flow; returns the browser and the ID token `web` got. */
async function signIn (app: FastifyInstance, webAuth: string) {
  const browser = new InjectBrowser(app)
  const { url, verifier } = webRequest()
  const code = await authorizeThrough(browser, url)
  const token = await exchange(app, { code, code_verifier: verifier }, webAuth)
  const idToken = (token.json() as { id_token: string }).id_token
  return { browser, idToken, sid: decodeJwt(idToken).sid as string }
}

/** A logout token, verified as an RP would (Back-Channel Logout 1.0 §2.6) against Gatehouse's JWKS. */
async function verifyLogoutToken (t: Test, app: FastifyInstance, issuer: string, token: string, expect: { sub: string, sid: string }) {
  const jwks = createLocalJWKSet((await app.inject('/.well-known/jwks.json')).json())
  const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer, audience: 'web', typ: 'logout+jwt' })
  t.match(payload, { iss: issuer, aud: 'web', sub: expect.sub, sid: expect.sid, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } }, 'a logout token for that session')
  t.equal(typeof payload.jti, 'string', 'jti')
  t.equal((payload.exp ?? 0) - (payload.iat ?? 0), 120, 'two minutes')
  t.notOk('nonce' in payload, 'no nonce (§2.4)')
  t.equal(protectedHeader.typ, 'logout+jwt')
}

t.test('every way a session ends tells the client: a verified logout token with the ID token\'s sid', async (t) => {
  const ends: Array<[string, (s: Awaited<ReturnType<typeof gatehouse>>, browser: InjectBrowser, idToken: string) => Promise<unknown>]> = [
    ['RP-initiated sign-out', async (_s, browser, idToken) => {
      const res = await browser.get(`/logout?${new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: 'https://app.test/bye', state: 'x' })}`)
      t.equal(res.statusCode, 303)
    }],
    ['an admin ending the user\'s sessions', ({ app, admin }) => app.inject({ method: 'DELETE', url: '/admin/users/alice/sessions', headers: admin })],
    ['a password change', ({ app, admin }) => app.inject({ method: 'PATCH', url: '/admin/users/alice', headers: admin, payload: { password: 'a brand new passphrase' } })],
    ['disabling the user', ({ app, admin }) => app.inject({ method: 'PATCH', url: '/admin/users/alice', headers: admin, payload: { disabled: true } })],
    ['deleting the user', ({ app, admin }) => app.inject({ method: 'DELETE', url: '/admin/users/alice', headers: admin })]
  ]
  for (const [name, end] of ends) {
    await t.test(name, async (t) => {
      const rp = await receiver(t)
      const s = await gatehouse(t, rp)
      const { browser, idToken, sid } = await signIn(s.app, s.webAuth)
      t.match(sid, /^[A-Za-z0-9_-]{43}$/, 'the ID token carries a sid')
      t.notOk([...browser.cookies.values()].includes(sid), 'the sid is not the session cookie')
      await end(s, browser, idToken)
      await s.app.backchannelLogout.run()
      await rp.received(1)
      t.equal(rp.tokens.length, 1, 'one logout token')
      await verifyLogoutToken(t, s.app, s.issuer, rp.tokens[0] ?? '', { sub: s.alice.id, sid })
      t.equal(await s.app.storage.outbox.pending(BACKCHANNEL_LOGOUT_KIND), 0, 'delivered: gone from the outbox')
    })
  }
})

t.test('a client answering 500 gets the token again after the backoff, and 200 ends it', async (t) => {
  const rp = await receiver(t, (n) => n === 1 ? 500 : 200)
  const clock = manualClock()
  const s = await gatehouse(t, rp, {}, clock)
  const { browser, idToken, sid } = await signIn(s.app, s.webAuth)
  await browser.get(`/logout?${new URLSearchParams({ id_token_hint: idToken })}`)
  await s.app.backchannelLogout.run()
  t.equal(rp.requests, 1, 'the first try failed')
  await s.app.backchannelLogout.run()
  t.equal(rp.requests, 1, 'not tried again before the backoff')
  clock.advance(1)
  await s.app.backchannelLogout.run()
  t.equal(rp.requests, 2, 'tried again after 1 s')
  await verifyLogoutToken(t, s.app, s.issuer, rp.tokens[1] ?? '', { sub: s.alice.id, sid })
  t.not(decodeJwt(rp.tokens[1] ?? '').jti, decodeJwt(rp.tokens[0] ?? '').jti, 'a fresh token for the retry')
  t.equal(await s.app.storage.outbox.pending(BACKCHANNEL_LOGOUT_KIND), 0)
  const metrics = (await s.app.inject('/metrics')).body
  t.match(metrics, /gatehouse_backchannel_logouts_total\{result="retried"\} 1\n/)
  t.match(metrics, /gatehouse_backchannel_logouts_total\{result="delivered"\} 1\n/)
})

t.test('a client that never answers never holds up a sign-out', async (t) => {
  const rp = await receiver(t, () => 'hang')
  const s = await gatehouse(t, rp, { BACKCHANNEL_LOGOUT_TIMEOUT_MS: '1000' })
  const first = await signIn(s.app, s.webAuth)
  await first.browser.get(`/logout?${new URLSearchParams({ id_token_hint: first.idToken })}`)
  // The sender is now stuck on a client that does not answer…
  let roundOver = false
  const round = s.app.backchannelLogout.run().finally(() => { roundOver = true })
  await rp.received(1)
  // …while another user-facing sign-out completes at once.
  const second = await signIn(s.app, s.webAuth)
  const res = await second.browser.get(`/logout?${new URLSearchParams({ id_token_hint: second.idToken, post_logout_redirect_uri: 'https://app.test/bye', state: 's' })}`)
  t.equal(res.statusCode, 303, 'the logout answered')
  t.equal(res.headers.location, 'https://app.test/bye?state=s')
  t.equal(rp.requests, 1, 'while the client had not answered the first post')
  t.notOk(roundOver, 'and the delivery round was still waiting for it')
  await round
  t.equal(await s.app.storage.outbox.pending(BACKCHANNEL_LOGOUT_KIND), 2, 'the timed-out message waits for its retry, the new one for its first try')
})

t.test('two instances on one database deliver each message once', async (t) => {
  const rp = await receiver(t)
  const databaseUrl = await sharedDatabaseUrl(t)
  const a = await gatehouse(t, rp, { DATABASE_URL: databaseUrl })
  const b = await build(t, { DATABASE_URL: databaseUrl, ISSUER: a.issuer })
  const sids: string[] = []
  for (let i = 0; i < 12; i++) sids.push((await signIn(a.app, a.webAuth)).sid)
  const ended = await a.app.inject({ method: 'DELETE', url: '/admin/users/alice/sessions', headers: a.admin })
  t.equal(ended.statusCode, 204)
  // Both instances' schedules run too; these rounds race them and each other.
  await Promise.all([a.app.backchannelLogout.run(), b.backchannelLogout.run(), a.app.backchannelLogout.run(), b.backchannelLogout.run()])
  while (await a.app.storage.outbox.pending(BACKCHANNEL_LOGOUT_KIND) > 0) await Promise.all([a.app.backchannelLogout.run(), b.backchannelLogout.run()])
  await rp.received(12)
  const received = rp.tokens.map((token) => decodeJwt(token).sid as string)
  t.same([...received].sort(), [...sids].sort(), 'each session\'s token exactly once')
})

// Filling the outbox past its bound row by row takes ~30 s on PostgreSQL; the trim itself is in the store suite on both.
t.test('a flood of ended sessions: the outbox stays within its bound, the oldest dropped and counted', { skip: testBackend === 'postgres' ? 'SQLite only: the store suite covers dropOldest() on PostgreSQL' : false }, async (t) => {
  const rp = await receiver(t)
  const s = await gatehouse(t, rp)
  // Queued straight through the store (the sign-in path is tested above): 3 clients × many sessions.
  const sessions = Math.ceil(OUTBOX_MAX_PENDING / 3) + 50
  const now = s.app.clock.now()
  for (const id of ['rp2', 'rp3']) await s.app.storage.clients.create({ id, secretHash: 'x', isPublic: false, grantTypes: ['authorization_code'], scope: null, redirectUris: ['https://app.test/cb'], backchannelLogoutUri: 'http://127.0.0.1:1/never' })
  for (let i = 0; i < sessions; i++) {
    const idHash = `flood-${i}`
    await s.app.storage.sessions.create({ idHash, userId: s.alice.id, authTime: now, createdAt: now, expiresAt: now + 600, credentialVersion: s.alice.credentialVersion, provider: null, amr: ['pwd'], sid: `sid-${i}` })
    for (const client of ['web', 'rp2', 'rp3']) await s.app.storage.sessions.addClient(idHash, client, 50)
  }
  await s.app.storage.sessions.deleteForUser(s.alice.id)
  t.equal(await s.app.storage.outbox.pending(BACKCHANNEL_LOGOUT_KIND), sessions * 3)
  t.type(await s.app.storage.outbox.enqueue({ kind: 'other', payload: {}, now, maxPending: OUTBOX_MAX_PENDING }), 'string', 'the bound is per kind: other messages are still queued')
  await s.app.backchannelLogout.run()
  t.ok(await s.app.storage.outbox.pending(BACKCHANNEL_LOGOUT_KIND) <= OUTBOX_MAX_PENDING, 'within the bound after a round')
  const metrics = (await s.app.inject('/metrics')).body
  t.match(metrics, new RegExp(`gatehouse_backchannel_logouts_total\\{result="dropped"\\} ${sessions * 3 - OUTBOX_MAX_PENDING}`), 'the dropped ones counted')
})

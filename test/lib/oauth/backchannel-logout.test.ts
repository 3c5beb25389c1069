import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { BACKCHANNEL_LOGOUT_EVENT, logoutSchedule, logoutTokenClaims, postLogoutToken, RETRY_DELAYS_SECONDS, sendLogouts, type LogoutResult } from '../../../lib/oauth/backchannel-logout.js'
import { nextAttemptAt } from '../../../lib/ops/outbox.js'
import { BACKCHANNEL_LOGOUT_KIND } from '../../../lib/stores/types.js'
import { openSqlite } from '../../../lib/stores/sqlite/index.js'
import { manualClock } from '../../support/helper.js'

t.test('logout token claims (Back-Channel Logout 1.0 §2.4): iss, aud, iat, exp 2 min, jti, sub, sid, the event; no nonce', async (t) => {
  const claims = logoutTokenClaims({ issuer: 'https://id.test', clientId: 'web', sub: 'u1', sid: 's1', now: 1000 })
  t.match(claims, { iss: 'https://id.test', aud: 'web', iat: 1000, exp: 1120, sub: 'u1', sid: 's1', events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } })
  t.match(claims.jti, /^[0-9a-f-]{36}$/)
  t.not(logoutTokenClaims({ issuer: 'i', clientId: 'c', sub: 's', sid: 'x', now: 1 }).jti, claims.jti, 'a new jti each time')
  t.notOk('nonce' in claims)
})

t.test('retries after 1 s, 5 s, 30 s, 2 min, 10 min, then gives up', async (t) => {
  t.same(RETRY_DELAYS_SECONDS, [1, 5, 30, 120, 600])
  const { backoffSeconds } = logoutSchedule(1000)
  t.same([1, 2, 3, 4, 5].map((attempts) => nextAttemptAt(attempts, 100, backoffSeconds)), [101, 105, 130, 220, 700], 'after the n-th failed attempt')
  t.equal(nextAttemptAt(6, 100, backoffSeconds), undefined, 'six attempts in all')
})

t.test('the POST: a form with logout_token; 2xx is success; a redirect is never followed; a timeout gives up', async (t) => {
  const seen: string[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString() })
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${req.headers['content-type']} ${body}`)
      if (req.url === '/ok') res.writeHead(204).end()
      else if (req.url === '/redirect') res.writeHead(302, { location: '/ok' }).end()
      else if (req.url === '/hang') { /* never answers */ } else res.writeHead(500).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  t.equal(await postLogoutToken(`${base}/ok`, 'a.b.c', 2000), undefined)
  t.same(seen, ['POST /ok application/x-www-form-urlencoded logout_token=a.b.c'])
  t.equal(await postLogoutToken(`${base}/redirect`, 'a.b.c', 2000), 'HTTP 302')
  t.equal(seen.length, 2, 'the redirect was not followed')
  t.equal(await postLogoutToken(`${base}/fail`, 'a.b.c', 2000), 'HTTP 500')
  t.equal(await postLogoutToken(`${base}/hang`, 'a.b.c', 200), 'timeout')
  t.equal(await postLogoutToken('http://127.0.0.1:1/nothing', 'a.b.c', 2000), 'unreachable')
})

t.test('a round: delivered, retried on its schedule, given up after the last retry; a gone client; the outbox trimmed', async (t) => {
  const storage = openSqlite('sqlite::memory:')
  t.teardown(() => storage.close())
  const clock = manualClock(1_800_000_000)
  await storage.clients.create({ id: 'rp', secretHash: 'x', isPublic: false, grantTypes: ['authorization_code'], scope: null, redirectUris: ['https://rp.test/cb'], backchannelLogoutUri: 'https://rp.test/bc' })
  const user = await storage.users.create({ username: 'u1', passwordHash: null })
  const endSession = async (hash: string) => {
    await storage.sessions.create({ idHash: hash, userId: user.id, authTime: clock.now(), createdAt: clock.now(), expiresAt: clock.now() + 100, credentialVersion: 0, provider: null, amr: [], sid: `sid-${hash}` })
    await storage.sessions.addClient(hash, 'rp', 50)
    await storage.sessions.delete(hash)
  }
  const reports: string[] = []
  let answer: string | undefined = 'HTTP 500'
  const posted: string[] = []
  const deps = {
    storage,
    clock,
    issuer: 'https://id.test',
    timeoutMs: 1000,
    owner: 'me',
    sign: async (claims: object) => JSON.stringify(claims),
    report: (result: LogoutResult, d: { reason?: string, count?: number }) => { reports.push(`${result}${d.reason ? ` ${d.reason}` : ''}${d.count ? ` ${d.count}` : ''}`) },
    post: async (uri: string, token: string) => { posted.push(`${uri} ${(JSON.parse(token) as { sid: string }).sid}`); return answer },
    outboxMax: 3
  }
  await endSession('a')
  t.equal(await sendLogouts(deps), 1)
  t.same(posted, ['https://rp.test/bc sid-a'])
  for (const delay of RETRY_DELAYS_SECONDS) {
    t.equal(await sendLogouts(deps), 0, 'nothing before the next attempt')
    clock.advance(delay)
    t.equal(await sendLogouts(deps), 1, `tried again after ${delay} s`)
  }
  t.same(reports, [...RETRY_DELAYS_SECONDS.map(() => 'retried HTTP 500'), 'failed HTTP 500'], 'given up after five retries')
  t.equal(await storage.outbox.pending(BACKCHANNEL_LOGOUT_KIND), 0)

  reports.length = 0
  answer = undefined
  await endSession('b')
  await sendLogouts(deps)
  t.same(reports, ['delivered'])

  reports.length = 0
  for (const hash of ['c', 'd', 'e', 'f', 'g']) await endSession(hash)
  await sendLogouts(deps)
  t.same(reports, ['dropped 2', 'delivered', 'delivered', 'delivered'], 'past the bound the oldest are dropped')
  t.same(posted.slice(-3), ['https://rp.test/bc sid-e', 'https://rp.test/bc sid-f', 'https://rp.test/bc sid-g'])

  reports.length = 0
  await endSession('h')
  await storage.clients.delete('rp')
  await sendLogouts(deps)
  t.same(reports, ['client_gone client gone'])
  t.equal(await storage.outbox.pending(BACKCHANNEL_LOGOUT_KIND), 0, 'given up at once')
})

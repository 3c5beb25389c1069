import t from 'tap'
import { build, manualClock } from '../support/helper.js'
import { InjectBrowser, authorizeThrough, browserFixtures, webRequest } from '../support/browser.js'
import { parseExposition, sampleValue } from '../support/prometheus.js'

// plugins/sweep.ts: expired rows deleted on a schedule, and gatehouse_table_rows on /metrics (the rule itself:
// test/lib/ops/sweep.test.ts; the store methods on both backends: test/stores/). On SQLite here; test/postgres/
// runs it again on PostgreSQL.

async function tableRows (app: Awaited<ReturnType<typeof build>>): Promise<Record<string, number | undefined>> {
  const e = parseExposition((await app.inject({ url: '/metrics' })).body)
  return Object.fromEntries(['sessions', 'authorization_codes', 'upstream_transactions', 'consents', 'grants', 'refresh_tokens', 'revocations']
    .map((table) => [table, sampleValue(e, 'gatehouse_table_rows', { table })]))
}

t.test('22.7: the sweep deletes expired sessions, unredeemed codes and pending sign-ins (manual clock); gatehouse_table_rows shows the counts', async (t) => {
  const clock = manualClock()
  const app = await build(t, { SESSION_TTL: '3600' }, { clock })
  const { alice } = await browserFixtures(app)
  const browser = new InjectBrowser(app)
  await authorizeThrough(browser, webRequest().url)
  await authorizeThrough(browser, webRequest().url)
  const now = clock.now()
  await app.storage.upstreamTransactions.create({ idHash: 'pending', bindingHash: 'b', provider: 'corp', nonce: 'n', codeVerifier: 'v', returnTo: null, createdAt: now, expiresAt: now + 600 })

  t.match(await app.sweep.run(), { swept: { sessions: 0, codes: 0, upstreamTransactions: 0 } }, 'nothing has expired yet')
  t.match(await tableRows(app), { sessions: 1, authorization_codes: 2, upstream_transactions: 1, consents: 1, grants: 0, refresh_tokens: 0, revocations: 0 })

  clock.advance(60)
  t.match(await app.sweep.run(), { swept: { codes: 2 } }, 'unredeemed codes go at their lifetime (60 s)')
  t.match(await tableRows(app), { authorization_codes: 0, sessions: 1, upstream_transactions: 1 })
  clock.advance(600)
  t.match(await app.sweep.run(), { swept: { upstreamTransactions: 1, sessions: 0 } })
  clock.advance(3600)
  t.match(await app.sweep.run(), { swept: { sessions: 1 } })
  t.same(await app.storage.sessions.listForUser(alice.id, 0), [], 'the session row is gone, not only expired')
  t.match(await tableRows(app), { sessions: 0, authorization_codes: 0, upstream_transactions: 0, consents: 1 }, 'consents do not expire')
  const e = parseExposition((await app.inject({ url: '/metrics' })).body)
  t.same(e.problems, [])
  t.equal(e.types.get('gatehouse_table_rows'), 'gauge')
})

t.test('22.7: the sweep runs on its own every SWEEP_INTERVAL_SECONDS', async (t) => {
  const clock = manualClock()
  const app = await build(t, { SWEEP_INTERVAL_SECONDS: '1' }, { clock })
  const now = clock.now()
  const user = await app.storage.users.create({ username: 'u1', passwordHash: null })
  t.equal(await app.storage.sessions.create({ idHash: 'expired', userId: user.id, authTime: now - 10, createdAt: now - 10, expiresAt: now, credentialVersion: user.credentialVersion, provider: null, amr: ['pwd'] }), true)
  // The schedule's rounds run on real time; wait for one (bounded), moving the manual clock so each may claim.
  const deadline = Date.now() + 10_000
  let rows: Record<string, number | undefined> = {}
  while (Date.now() < deadline) {
    clock.advance(1)
    rows = await tableRows(app)
    if (rows.sessions === 0) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.equal(rows.sessions, 0, 'a scheduled round deleted the expired session and counted')
})

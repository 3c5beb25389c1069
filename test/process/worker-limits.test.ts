import t, { type Test } from 'tap'
import http from 'node:http'
import { ACCOUNT_FAILURES, ADDRESS_ACCOUNTS, UPSTREAM_STARTS } from '../../lib/oauth/brute-force.js'
import { createTestSchema } from '../support/pg-schema.js'
import { tempDatabaseUrl } from '../support/helper.js'
import { runCli, startServer, stopServer } from '../support/server-process.js'
import { startUpstreamOp } from '../support/upstream/op.js'
import { callbackUrl } from '../support/upstream/flow.js'

/**
 * Issue 22, defect 3: limits hold per machine with WORKERS, not per process. Real processes (a primary and its
 * workers on one port), real connections, each request on a connection of its own (so the primary hands them to
 * every worker in turn) and from a loopback address of its own per scenario (127.0.0.x: the per-address limit of
 * one scenario does not meet another's). Without Redis the workers share the primary's counters
 * (lib/limits/cluster-counters.ts); with Redis, Redis's.
 */

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

interface Reply { status: number, body: string, retryAfter: string | undefined }

/** One request on a fresh connection from `localAddress`. */
function send (url: string, localAddress: string, form?: Record<string, string>): Promise<Reply> {
  const body = form === undefined ? undefined : new URLSearchParams(form).toString()
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: body === undefined ? 'GET' : 'POST',
      agent: false,
      localAddress,
      timeout: 30_000,
      headers: body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) }
    }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { text += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, retryAfter: res.headers['retry-after'] }))
    })
    req.on('timeout', () => req.destroy(new Error('no answer in 30 s')))
    req.on('error', reject)
    req.end(body)
  })
}

const tally = (replies: Reply[]) => {
  const out: Record<number, number> = {}
  for (const r of replies) out[r.status] = (out[r.status] ?? 0) + 1
  return out
}

async function until (what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

async function limitsHold (t: Test, workers: number, env: Record<string, string>): Promise<void> {
  const op = await startUpstreamOp({ redirectUris: callbackUrl('corp') })
  t.teardown(() => op.close())
  await runCli(['users', 'add', 'victim', '--password-stdin'], env, 'victim-pw')
  await runCli(['providers', 'add', 'corp', '--issuer', op.issuer, '--client-id', op.clientId, '--client-secret-stdin'], env, op.clientSecret)
  // Four workers each load the whole app: on a busy two-core machine that takes longer than one server does.
  // PASSWORD_QUEUE_SECONDS at its most: on a loaded machine each worker's hash queue (its share per address is a
  // tenth of it) would otherwise shed some of a burst from one address with 503s, which is its own test's subject.
  const server = await startServer({ ...env, WORKERS: String(workers), LOG_LEVEL: 'info', PASSWORD_QUEUE_SECONDS: '60' }, undefined, 60_000)
  t.teardown(() => stopServer(server))
  await until(`${workers} workers to listen`, () => server.output().includes(`listening with ${workers} worker processes`), 60_000)
  const token = `${server.url}/token`
  if (env.TRUST_PROXY === 'true') {
    const warnings = server.output().split('\n').filter((l) => l.includes('TRUST_PROXY=true trusts every X-Forwarded-For hop'))
    t.equal(warnings.length, 1, `TRUST_PROXY=true: one warning line at start, from the primary, not one per worker (${workers})`)
    t.match(warnings[0], /"level":40/, 'at warn')
  }

  // 60 wrong guesses for one account at once, the right password among them (sent 36th).
  const guesses = await Promise.all(Array.from({ length: 61 }, (_, i) =>
    send(token, '127.0.0.11', { grant_type: 'password', username: 'victim', password: i === 35 ? 'victim-pw' : `guess-${i}` })))
  const counts = tally(guesses)
  const wrong = counts[400] ?? 0
  const right = guesses[35]!.status
  t.same(Object.keys(counts).filter((s) => !['200', '400', '429'].includes(s)), [], `every reply is 400, 429 or 200 (${JSON.stringify(counts)})`)
  if (right === 200) {
    // Within the limit, the right password wins and gives back its own attempt (never another's): at most 10 wrong ones.
    t.ok(wrong <= ACCOUNT_FAILURES.max, `${wrong} wrong passwords verified, and the right one within the limit`)
  } else {
    t.equal(right, 429, 'the right password beyond the limit gets no token')
    t.equal(wrong, ACCOUNT_FAILURES.max, `exactly ${ACCOUNT_FAILURES.max} passwords verified of 61 sent at once to ${workers} workers`)
  }
  t.ok(guesses.filter((r) => r.status === 429).every((r) => Number(r.retryAfter) >= 1), 'each 429 has Retry-After')
  for (let i = 0; i < workers; i++) {
    t.equal((await send(token, '127.0.0.12', { grant_type: 'password', username: 'victim', password: 'victim-pw' })).status, 429, `afterwards the account is locked, whichever worker answers (${i + 1})`)
  }

  // 60 accounts from one address at once: 50 verified, then 429.
  const sprayed = await Promise.all(Array.from({ length: 60 }, (_, i) =>
    send(token, '127.0.0.13', { grant_type: 'password', username: `sprayed-${i}`, password: 'Winter2026!' })))
  const spray = tally(sprayed)
  if (spray[503]) t.comment(sprayed.filter((r) => r.status === 503).map((r) => r.body).join(' '))
  t.same(spray, { 400: ADDRESS_ACCOUNTS.max, 429: 60 - ADDRESS_ACCOUNTS.max }, `60 accounts from one address: ${ADDRESS_ACCOUNTS.max} failures, then 429`)
  t.equal((await send(token, '127.0.0.13', { grant_type: 'password', username: 'sprayed-new', password: 'x' })).status, 429, 'and the next one too')

  // 80 upstream sign-in starts from one address at once: 60 sent to the provider, then 429.
  const starts = tally(await Promise.all(Array.from({ length: 80 }, () => send(`${server.url}/login/corp`, '127.0.0.14'))))
  t.same(starts, { 303: UPSTREAM_STARTS.max, 429: 80 - UPSTREAM_STARTS.max }, `80 starts at once: ${UPSTREAM_STARTS.max} started, the rest 429`)

  // Every worker took part (so the limits above were not simply one process's).
  const scrape = await (await fetch(`${server.url}/metrics`)).text()
  const served = new Set([...scrape.matchAll(/^gatehouse_http_requests_total\{method="POST",route="\/token",status="\d+",worker="(\d+)"\}/gm)].map((m) => m[1]))
  t.equal(served.size, workers, `all ${workers} workers answered /token`)
}

t.test('22.3: WORKERS=4 without Redis on SQLite: exactly 10 guesses verified, 50 accounts per address, 60 starts a minute', async (t) => {
  await limitsHold(t, 4, { DATABASE_URL: tempDatabaseUrl(t) })
})

t.test('22.3: WORKERS=4 without Redis on PostgreSQL', async (t) => {
  const { url, drop } = await createTestSchema()
  t.teardown(drop)
  await limitsHold(t, 4, { DATABASE_URL: url })
})

t.test('22.3: WORKERS=2 with Redis on PostgreSQL: the same limits, held in Redis (and TRUST_PROXY=true said once)', async (t) => {
  const { url, drop } = await createTestSchema()
  t.teardown(drop)
  // REDIS_TIMEOUT_MS: a loaded test machine's event loops would otherwise trip the circuit breaker (the fallback
  // is the primary's counters, which would hold the limits too, but this test is about Redis).
  // TRUST_PROXY=true changes nothing here (no X-Forwarded-For is sent) but the warning at start.
  await limitsHold(t, 2, { DATABASE_URL: url, REDIS_URL: redisUrl, REDIS_PREFIX: `wl-${process.pid}-${Date.now()}:`, REDIS_TIMEOUT_MS: '1000', TRUST_PROXY: 'true' })
})

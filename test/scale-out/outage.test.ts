import t from 'tap'
import { createProxiedTestSchema } from '../support/pg-schema.js'
import { formPost, runCli, startServer, stopServer } from '../support/server-process.js'

/**
 * PostgreSQL goes away under traffic (CONTRACT.md "Several instances", SECURITY-CASES reliability):
 * database-bound requests answer 503 temporarily_unavailable with Retry-After within 2 s, JWKS and
 * metadata keep answering, /ready says 503, nothing crashes, and service comes back on its own.
 */
t.test('a database outage mid-traffic: 503s within 2 s, then recovery, no crash', async (t) => {
  const { url, directUrl, proxy, drop } = await createProxiedTestSchema()
  const env = { DATABASE_URL: url }

  await runCli(['users', 'add', 'alice', '--password-stdin'], { DATABASE_URL: directUrl }, 'alice-pw')
  const rs = JSON.parse(await runCli(['clients', 'add', 'rs'], { DATABASE_URL: directUrl })) as { client_secret: string }
  const server = await startServer(env)
  t.teardown(async () => {
    await stopServer(server)
    await drop()
  })
  const basic = `Basic ${Buffer.from(`rs:${rs.client_secret}`).toString('base64')}`
  const { access_token: token } = await (await formPost(`${server.url}/token`, { username: 'alice', password: 'alice-pw' })).json() as { access_token: string }

  type Probe = { name: string, call: () => Promise<Response> }
  const dbBound: Probe[] = [
    { name: '/users/me', call: () => fetch(`${server.url}/users/me`, { headers: { authorization: `Bearer ${token}` } }) },
    { name: 'password grant', call: () => formPost(`${server.url}/token`, { grant_type: 'password', username: 'alice', password: 'alice-pw' }) },
    { name: 'introspection', call: () => formPost(`${server.url}/introspect`, { token }, { authorization: basic }) }
  ]
  for (const probe of dbBound) t.equal((await probe.call()).status, 200, `${probe.name} before the outage`)

  // Traffic keeps flowing while the database disappears.
  let stop = false
  const statuses = new Map<number, number>()
  const traffic = (async () => {
    // eslint-disable-next-line no-unmodified-loop-condition -- set by the test body, between awaits
    while (!stop) {
      const res = await dbBound[0]!.call()
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
    }
  })()
  await new Promise((resolve) => setTimeout(resolve, 200))
  await proxy.stop()

  // Answers already cached (a user, a client: 1 s) may still be served briefly; after that every
  // database-bound request is a 503, and no single request ever takes 2 s.
  for (const probe of dbBound) {
    const cutAt = Date.now()
    let res: Response
    for (;;) {
      const started = Date.now()
      res = await probe.call()
      const took = Date.now() - started
      t.ok(took < 2000, `${probe.name} answered in ${took} ms`)
      if (res.status !== 200 || Date.now() - cutAt > 3000) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    t.equal(res.status, 503, `${probe.name} during the outage (after ${Date.now() - cutAt} ms)`)
    t.equal(res.headers.get('retry-after'), '2')
    t.equal(res.headers.get('cache-control'), 'no-store')
    const body = await res.json() as { error: string }
    t.equal(body.error, 'temporarily_unavailable')
    t.notMatch(JSON.stringify(body), /ECONN|postgres|SELECT|stack/i, 'no internals in the body')
  }
  t.equal((await fetch(`${server.url}/ready`)).status, 503, '/ready says 503')
  t.equal((await fetch(`${server.url}/health`)).status, 200, '/health: the process is alive')
  t.equal((await fetch(`${server.url}/.well-known/jwks.json`)).status, 200, 'JWKS keeps answering')
  t.equal((await fetch(`${server.url}/.well-known/oauth-authorization-server`)).status, 200, 'metadata keeps answering')

  await proxy.start()
  const back = Date.now()
  let recovered = false
  while (Date.now() - back < 5000) {
    if ((await dbBound[0]!.call()).status === 200) { recovered = true; break }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.ok(recovered, `service resumed on its own within ${Date.now() - back} ms`)
  stop = true
  await traffic
  for (const probe of dbBound) t.equal((await probe.call()).status, 200, `${probe.name} after the outage`)
  t.equal((await fetch(`${server.url}/ready`)).status, 200)

  // A network that stops answering (no reset, no reply): only timeouts can tell, and they are short.
  proxy.mode = 'blackhole'
  const silencedAt = Date.now()
  let silent: Response
  for (;;) {
    const started = Date.now()
    silent = await dbBound[0]!.call()
    t.ok(Date.now() - started < 2100, `answered in ${Date.now() - started} ms`)
    if (silent.status !== 200 || Date.now() - silencedAt > 5000) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.equal(silent.status, 503, 'a silent database is a 503 too')
  proxy.mode = 'forward'
  await proxy.stop() // drop the poisoned connections
  await proxy.start()
  let again = false
  for (let i = 0; i < 50 && !again; i++) {
    again = (await dbBound[0]!.call()).status === 200
    if (!again) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.ok(again, 'and it recovers from that too')
  t.same([...statuses.keys()].filter((s) => s !== 200 && s !== 503), [], `only 200 and 503 under traffic (${JSON.stringify([...statuses])})`)
  t.equal(server.child.exitCode, null, 'the process never crashed')
})

import t, { type Test } from 'tap'
import { sharedDatabaseUrl } from '../support/helper.js'
import { runCli, startServer, stopServer } from '../support/server-process.js'

// The start banner (issue 29): `npm start` with ISSUER unset logs one JSON line whose msg a person reads: the issuer
// (derived from HOST: localhost for 127.0.0.1), the docs and metadata URLs, the database, and on an empty store the
// command that makes the first user. Every line of the output stays JSON.

/** The lines the server wrote, each parsed (a line that is not JSON fails the test). */
function lines (t: Test, output: string): Array<Record<string, unknown>> {
  return output.split('\n').filter(Boolean).map((line) => {
    try { return JSON.parse(line) as Record<string, unknown> } catch { t.fail(`not a JSON line: ${line.slice(0, 200)}`); return {} }
  })
}

t.test('npm start prints the banner: issuer, docs, metadata, database, and `gatehouse init` until a user exists', async (t) => {
  const DATABASE_URL = await sharedDatabaseUrl(t)
  const first = await startServer({ DATABASE_URL, LOG_LEVEL: 'info', ISSUER: '' })
  const port = new URL(first.url).port
  // The banner comes right after listen, before /health answers; stopping waits for the rest of the output.
  await stopServer(first)
  const banners = lines(t, first.output()).filter((l) => l.banner === true)
  t.equal(banners.length, 1, 'one banner')
  const issuer = `http://localhost:${port}`
  t.match(banners[0], {
    level: 30,
    issuer,
    docs: `${issuer}/docs`,
    metadata: `${issuer}/.well-known/oauth-authorization-server`,
    database: DATABASE_URL.startsWith('sqlite:') ? DATABASE_URL.slice('sqlite:'.length) : /^PostgreSQL at /,
    users: 0
  }, 'ISSUER unset on HOST=127.0.0.1: the issuer is http://localhost:PORT')
  t.match(banners[0]!.msg, new RegExp(`^Gatehouse \\S+ is ready at ${issuer} \\| API docs: ${issuer}/docs \\|.* \\| no users yet: create an admin with \`npx gatehouse init\``))

  await runCli(['init'], { DATABASE_URL })
  const second = await startServer({ DATABASE_URL, LOG_LEVEL: 'info', ISSUER: '' })
  await stopServer(second)
  const again = lines(t, second.output()).filter((l) => l.banner === true)
  t.match(again, [{ users: 1, msg: /\| 1 user$/ }], 'with a user: its count, no hint')
})

t.test('no banner below LOG_LEVEL=info (operators who asked for warnings only)', async (t) => {
  const server = await startServer({ DATABASE_URL: await sharedDatabaseUrl(t), LOG_LEVEL: 'warn' })
  await stopServer(server)
  t.notMatch(server.output(), /"banner":true/)
})

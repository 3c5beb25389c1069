import t from 'tap'
import { randomBytes } from 'node:crypto'
import { addClient, basic, build, freePort, manualClock } from '../support/helper.js'
import { adminQuery, testDatabaseUrl } from '../support/pg-schema.js'

/**
 * Issue 10, defect 8: any failure while connecting to PostgreSQL means "unavailable" (503 with Retry-After),
 * whatever its SQLSTATE. Tested with the operator's own actions on a throwaway database of the test's:
 * `ALTER DATABASE … ALLOW_CONNECTIONS false` with its sessions terminated (SQLSTATE 55000 at connect), and
 * the database dropped (3D000) and re-created empty (42P01 on every statement).
 */
t.test('a database that refuses connections, is dropped, or comes back empty: 503 with Retry-After, never 500', async (t) => {
  const name = `gh_refuse_${randomBytes(5).toString('hex')}`
  await adminQuery(`CREATE DATABASE ${name}`)
  const terminate = () => adminQuery('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name])
  t.teardown(async () => {
    await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  })
  const url = new URL(testDatabaseUrl)
  url.pathname = `/${name}`
  url.search = ''
  const clock = manualClock()
  const app = await build(t, { DATABASE_URL: url.toString() }, { clock })
  const port = await freePort()
  await app.listen({ port, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${port}`
  const secret = (await addClient(app, 'svc', { grantTypes: ['client_credentials'] }))!
  const token = () => fetch(`${base}/token`, {
    method: 'POST',
    headers: { authorization: basic('svc', secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials'
  })
  const unavailable = async (label: string) => {
    clock.advance(2) // past the 1 s client cache: the next request needs the database
    const res = await token()
    t.equal(res.status, 503, `${label}: /token is 503`)
    t.equal(res.headers.get('retry-after'), '2', `${label}: Retry-After`)
    t.same(await res.json(), { error: 'temporarily_unavailable', error_description: 'the database is unreachable, try again shortly' }, `${label}: OAuth body`)
    t.equal((await fetch(`${base}/ready`)).status, 503, `${label}: /ready is 503`)
    t.equal((await fetch(`${base}/health`)).status, 200, `${label}: /health still answers`)
  }
  t.equal((await token()).status, 200, 'served while the database is up')

  await adminQuery(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`)
  await terminate()
  await unavailable('ALLOW_CONNECTIONS false')
  await adminQuery(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`)
  clock.advance(2)
  t.equal((await token()).status, 200, 'served again once connections are allowed')

  await adminQuery(`DROP DATABASE ${name} WITH (FORCE)`)
  await unavailable('database dropped')
  await adminQuery(`CREATE DATABASE ${name}`)
  await unavailable('database re-created empty')
})

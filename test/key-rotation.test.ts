import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { decodeProtectedHeader } from 'jose'
import { addUser, build, FAST_HASH, post, tempDatabaseUrl } from './helper.js'

const cli = fileURLToPath(new URL('../../bin/gatehouse.js', import.meta.url))
const run = promisify(execFile)

const kids = async (app: Awaited<ReturnType<typeof build>>) =>
  ((await app.inject({ url: '/.well-known/jwks.json' })).json().keys as Array<{ kid: string }>).map((k) => k.kid)

async function until (what: string, check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

t.test('`gatehouse keys rotate` reaches a running server without a restart: published first, then signing', async (t) => {
  const DATABASE_URL = tempDatabaseUrl(t)
  const app = await build(t, { DATABASE_URL, KEYS_REFRESH_SECONDS: '1' })
  await addUser(app, 'alice', 'pw')
  const login = async () => (await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw' })).json().access_token as string
  const before = await login()
  const [k1] = await kids(app)
  t.equal(decodeProtectedHeader(before).kid, k1)

  const { stdout } = await run(process.execPath, [cli, 'keys', 'rotate'], { env: { ...process.env, DATABASE_URL, KEY_PUBLISH_DELAY_SECONDS: '2', ...FAST_HASH } })
  const { kid: k2 } = JSON.parse(stdout) as { kid: string }
  t.not(k2, k1)

  await until('the new key in the JWKS', async () => (await kids(app)).includes(k2))
  t.same((await kids(app)).sort(), [k1, k2].sort(), 'both keys published')
  t.equal(decodeProtectedHeader(await login()).kid, k1, 'the old key still signs until the new one activates')

  await until('tokens signed by the new key', async () => decodeProtectedHeader(await login()).kid === k2)
  const me = await app.inject({ url: '/users/me', headers: { authorization: `Bearer ${before}` } })
  t.equal(me.statusCode, 200, 'a token signed before the rotation keeps verifying')
})

// POST /admin/keys/rotate and a retired key leaving the JWKS (M2) are in test/security/metadata.test.ts.

t.test('instances starting at once on one database end with one key', async (t) => {
  const DATABASE_URL = tempDatabaseUrl(t)
  const apps = await Promise.all([1, 2, 3].map(() => build(t, { DATABASE_URL })))
  const sets = await Promise.all(apps.map(kids))
  t.equal(sets[0]!.length, 1)
  t.same(sets[1], sets[0])
  t.same(sets[2], sets[0])
})

import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { decodeProtectedHeader } from 'jose'
import { rotateSigningKey } from '../../lib/keys/signing-keys.js'
import { addUser, build, freshDatabase, manualClock, post, type ManualClock } from '../support/helper.js'
import { runCli } from '../support/server-process.js'
import { assertOAuthError } from '../support/oauth.js'

// Key rotation through the app: the plugin's reload timer, the CLI, the token endpoint, the JWKS and the 503 of an
// instance that cannot read its keys. The rules themselves (activation, retirement, drop, the trust window, the
// agreed delay) are test/lib/keys/key-ring.test.ts's, on a manual clock; lib/keys/key-timing.ts has the timings.
// The multi-process case, with reload timers out of phase and every token checked by jose, is
// test/scale-out/key-rotation.test.ts.

/** The published kids of one algorithm (ES256, the access tokens' by default: the tokens these tests follow). */
const kids = async (app: FastifyInstance, alg = 'ES256') =>
  ((await app.inject({ url: '/.well-known/jwks.json' })).json().keys as Array<{ kid: string, alg: string }>).filter((k) => k.alg === alg).map((k) => k.kid)
const kidOf = (token: string) => decodeProtectedHeader(token).kid

async function until (what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** One database (on the test backend) for several apps; dropped after they have closed. */
async function sharedDatabase (t: Test): Promise<{ url: string, build: (env?: Record<string, string>, clock?: ManualClock) => Promise<FastifyInstance> }> {
  const { url, drop } = await freshDatabase(t)
  const apps: FastifyInstance[] = []
  t.teardown(async () => {
    await Promise.all(apps.map((app) => app.close()))
    await drop()
  })
  return {
    url,
    build: async (env = {}, clock) => {
      const app = await build(t, { ...env, DATABASE_URL: url }, clock ? { clock } : {})
      apps.push(app)
      return app
    }
  }
}

async function withUser (app: FastifyInstance): Promise<() => Promise<string>> {
  if (!await app.users.findByUsername('alice')) await addUser(app, 'alice', 'pw')
  return async () => {
    const res = await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw' })
    if (res.statusCode !== 200) throw new Error(`login: ${res.statusCode} ${res.body}`)
    return res.json().access_token as string
  }
}

const me = (app: FastifyInstance, token: string) => app.inject({ url: '/users/me', headers: { authorization: `Bearer ${token}` } })

t.test('`gatehouse keys rotate` reaches a running server without a restart, with the delay the servers agreed on', async (t) => {
  const db = await sharedDatabase(t)
  const app = await db.build({ KEYS_REFRESH_SECONDS: '1', KEY_PUBLISH_DELAY_SECONDS: '4' })
  const login = await withUser(app)
  const before = await login()
  const [k1] = await kids(app)
  t.equal(kidOf(before), k1)

  // The CLI's own setting is the default (30 s); the running server's is 4 s: the server's is used.
  const rotated = JSON.parse(await runCli(['keys', 'rotate'], { DATABASE_URL: db.url })) as { kid: string, activates_at: number }
  const delay = rotated.activates_at - Math.floor(Date.now() / 1000)
  t.ok(delay >= 3 && delay <= 5, `activates about 4 s after the rotation, not 30 (${delay} s)`)
  t.not(rotated.kid, k1)

  await until('the new key in the JWKS', async () => (await kids(app)).includes(rotated.kid))
  t.same((await kids(app)).sort(), [k1, rotated.kid].sort(), 'both keys published, by the reload timer')
  t.equal(kidOf(await login()), k1, 'the old key still signs until the new one activates (the switch itself: below, on a manual clock)')
  t.equal((await me(app, before)).statusCode, 200, 'a token signed before the rotation keeps verifying')
})

t.test('the agreed publish delay is the largest among running instances; a stopped one does not count', async (t) => {
  const db = await sharedDatabase(t)
  const clock = manualClock()
  const quick = await db.build({ KEYS_REFRESH_SECONDS: '1', KEY_PUBLISH_DELAY_SECONDS: '4' }, clock)
  const slow = await db.build({ KEYS_REFRESH_SECONDS: '10', KEY_PUBLISH_DELAY_SECONDS: '20' }, clock)
  const delayOf = async (app: FastifyInstance) => (await app.signingKeys.rotate()).activatesAt - clock.now()
  t.equal(await delayOf(quick), 20, 'rotating on the quick instance waits for the slow one')
  t.equal(await delayOf(slow), 20)
  await slow.close()
  t.equal(await delayOf(quick), 4, 'once it has stopped (app.close()), its delay no longer counts')
})

t.test('a new key signs from its activatesAt exactly, without waiting for a reload', async (t) => {
  const clock = manualClock()
  const app = await build(t, {}, { clock })
  const login = await withUser(app)
  const [k1] = await kids(app)
  // Another process (the CLI) rotates; this instance publishes the key at its next reload, 4 s later.
  const k2 = (await rotateSigningKey(app.storage.keys, clock, 30)).find((k) => k.alg === 'ES256')!
  t.equal(k2.activatesAt, clock.now() + 30, 'the default publish delay')
  clock.advance(4)
  await app.signingKeys.reload()
  t.same((await kids(app)).sort(), [k1, k2.kid].sort())

  let reloads = 0
  const list = app.storage.keys.list.bind(app.storage.keys)
  app.storage.keys.list = async () => { reloads++; return list() }
  clock.advance(k2.activatesAt - 1 - clock.now())
  t.equal(kidOf(await login()), k1, 'one second before activatesAt: the old key')
  clock.advance(1)
  const token = await login()
  t.equal(kidOf(token), k2.kid, 'at activatesAt: the new key')
  t.equal(reloads, 0, 'no reload happened in between')
  t.equal((await me(app, token)).statusCode, 200)
})

t.test('failed reloads keep retired keys published, and an instance whose keys may be out of date does not sign', async (t) => {
  const clock = manualClock()
  const app = await build(t, { ACCESS_TOKEN_TTL: '60' }, { clock })
  const login = await withUser(app)
  const [k1] = await kids(app)
  const old = await login()
  const { kid: k2 } = await app.signingKeys.rotate()
  clock.advance(30)
  t.equal(kidOf(await login()), k2)

  const list = app.storage.keys.list
  app.storage.keys.list = async () => { throw new Error('injected: the key store is unreachable') }
  clock.advance(60 + 10 + 2 + 5) // past the moment k1 would leave the JWKS
  await t.rejects(app.signingKeys.reload(), { message: /injected/ })
  t.same((await kids(app)).sort(), [k1, k2].sort(), 'a failed reload drops nothing')
  const refused = await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw' })
  assertOAuthError(t, refused, 503, 'temporarily_unavailable', undefined, 'keys not confirmed for longer than the publish delay: no signing')
  t.equal(refused.headers['retry-after'], '2')

  app.storage.keys.list = list
  const again = await login()
  t.equal(kidOf(again), k2, 'signs again once the keys could be read')
  t.same(await kids(app), [k2], 'and the retired key has left with that reload')
  t.equal((await me(app, old)).statusCode, 401, 'its tokens, long expired, stay refused')
})

t.test('a retired key loses its private part in the store and in memory, then its row once it leaves the JWKS', async (t) => {
  const clock = manualClock()
  const app = await build(t, { ACCESS_TOKEN_TTL: '60' }, { clock })
  const login = await withUser(app)
  const [k1] = await kids(app)
  const stored = async (kid: string | undefined) => (await app.storage.keys.list()).find((k) => k.kid === kid)
  const { kid: k2 } = await app.signingKeys.rotate()
  clock.advance(29)
  const lastFromK1 = await login()
  t.equal(kidOf(lastFromK1), k1)
  clock.advance(1)
  await app.signingKeys.reload()
  t.type((await stored(k1))?.privateKey, 'string', 'just retired: kept for the margin (a peer\'s clock may lag)')
  clock.advance(2)
  await app.signingKeys.reload()
  const retired = await stored(k1)
  t.equal(retired?.privateKey, null, 'retired: the private part is deleted')
  t.match(JSON.parse(retired!.publicJwk), { kty: 'EC', crv: 'P-256' }, 'the public part stays')
  t.equal(app.signingKeys.current().published.find((k) => k.kid === k1)?.privateKey, undefined, 'nor is it kept in memory')
  t.type((await stored(k2))?.privateKey, 'string', 'the signing key keeps its own')
  t.same((await kids(app)).sort(), [k1, k2].sort(), 'still published')
  t.equal((await me(app, lastFromK1)).statusCode, 200, 'its tokens still verify')

  clock.advance(60 + 10 + 2 - 2 + 1)
  await app.signingKeys.reload()
  t.equal(await stored(k1), undefined, 'once dropped from the JWKS, its row is deleted')
  t.same(await kids(app), [k2])
})

t.test('rotations in the same second are ordered by sequence: every instance signs with the last one', async (t) => {
  const db = await sharedDatabase(t)
  const clock = manualClock()
  const a = await db.build({}, clock)
  const b = await db.build({}, clock)
  const [k1] = await kids(a)
  const rotated = []
  for (let i = 0; i < 3; i++) rotated.push((await a.signingKeys.rotate()).kid)
  await b.signingKeys.reload()
  t.same(await kids(b), [k1, ...rotated], 'published in rotation order')
  clock.advance(30)
  for (const app of [a, b]) {
    const login = await withUser(app)
    t.equal(kidOf(await login()), rotated[2], 'the last rotation signs')
  }
  clock.advance(2)
  await a.signingKeys.reload()
  const privates = (await a.storage.keys.list()).filter((k) => k.alg === 'ES256').map((k) => [k.kid, k.privateKey !== null])
  t.same(privates, [[k1, false], [rotated[0], false], [rotated[1], false], [rotated[2], true]], 'only the signing key keeps its private part')
})

t.test('the JWKS Cache-Control max-age is shorter than the publish delay, by the refresh interval and the margin', async (t) => {
  // Every (refresh, delay) pair is test/lib/keys/key-timing.test.ts's; here, that the header carries the rule.
  for (const [refresh, delay, maxAge] of [[10, 30, 18], [1, 4, 1]] as const) {
    const app = await build(t, { KEYS_REFRESH_SECONDS: String(refresh), KEY_PUBLISH_DELAY_SECONDS: String(delay) })
    const res = await app.inject({ url: '/.well-known/jwks.json' })
    t.equal(res.headers['cache-control'], `public, max-age=${maxAge}`, `R=${refresh} D=${delay}`)
    t.ok(refresh + maxAge < delay, 'a cached JWKS from before the slowest reload has expired before the key signs')
    await app.close()
  }
})

t.test('instances starting at once on one database end with one key of each algorithm', async (t) => {
  const db = await sharedDatabase(t)
  const apps = await Promise.all([1, 2, 3].map(() => db.build()))
  const sets = await Promise.all(apps.map(async (app) =>
    ((await app.inject({ url: '/.well-known/jwks.json' })).json().keys as Array<{ kid: string, alg: string }>).map((k) => `${k.alg} ${k.kid}`)))
  t.same(sets[0]!.map((k) => k.split(' ')[0]).sort(), ['ES256', 'RS256'])
  t.same(sets[1], sets[0])
  t.same(sets[2], sets[0])
})

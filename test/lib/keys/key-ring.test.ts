import t, { type Test } from 'tap'
import { KeyRing, type KeyRingSettings } from '../../../lib/keys/key-ring.js'
import { KEY_TIMING_MARGIN_SECONDS, retainSeconds, trustedFor } from '../../../lib/keys/key-timing.js'
import { StoreUnavailableError } from '../../../lib/errors.js'
import { openStorage } from '../../../lib/stores/index.js'
import type { Storage } from '../../../lib/stores/types.js'
import { manualClock, tempDatabaseUrl, type ManualClock } from '../../support/helper.js'

// The key ring's rules (lib/keys/key-ring.ts, timings in lib/keys/key-timing.ts) on a real SQLite store, with a
// clock moved by hand: no timer runs here (the signing-keys plugin owns the reload timer), so every reload is
// one the test asks for. test/plugins/signing-keys.test.ts runs the same rules through the app and the CLI.

const SETTINGS: KeyRingSettings = { keyPublishDelaySeconds: 30, keysRefreshSeconds: 10, accessTokenTtl: 60 }

/** A real SQLite store on a temp file, closed when the test ends (unless the test closed it itself). */
async function store (t: Test, clock: ManualClock): Promise<Storage> {
  const storage = await openStorage(tempDatabaseUrl(t), clock)
  let open = true
  const close = storage.close.bind(storage)
  t.teardown(async () => { if (open) await close() })
  return Object.assign(storage, { close: async () => { open = false; await close() } })
}

/** A key ring as one instance holds it; its warnings are kept for the test to read. */
async function ring (storage: Storage, clock: ManualClock, settings: Partial<KeyRingSettings> = {}) {
  const warnings: string[] = []
  const keyRing = new KeyRing({ storage, clock, config: { ...SETTINGS, ...settings }, log: { warn: (_obj, msg) => { warnings.push(msg) } } })
  await keyRing.open()
  return Object.assign(keyRing, { warnings })
}

/** The published kids of one algorithm (ES256: what `current().active` names by default). */
const kids = (keyRing: KeyRing, alg = 'ES256') => keyRing.jwks().keys.filter((k) => k.alg === alg).map((k) => k.kid)
const stored = async (storage: Storage, kid: string) => (await storage.keys.list()).find((k) => k.kid === kid)

t.test('the first start creates one key of each algorithm; instances opening at once on one store end with those', async (t) => {
  const clock = manualClock()
  const storage = await store(t, clock)
  const rings = await Promise.all([1, 2, 3].map(() => ring(storage, clock)))
  t.same((await storage.keys.list()).map((k) => k.alg).sort(), ['ES256', 'RS256'])
  const [k1] = kids(rings[0]!)
  const [r1] = kids(rings[0]!, 'RS256')
  for (const r of rings) {
    t.same(kids(r), [k1])
    t.same(kids(r, 'RS256'), [r1])
    t.equal(r.current().active.kid, k1, 'and signs access tokens with the ES256 one')
  }
  const jwk = (kid: string | undefined) => rings[0]!.jwks().keys.find((k) => k.kid === kid)!
  t.match(jwk(k1), { kid: k1, kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' })
  t.match(jwk(r1), { kid: r1, kty: 'RSA', e: 'AQAB', alg: 'RS256', use: 'sig' })
  t.equal(Buffer.from((jwk(r1) as { n: string }).n, 'base64url').length, 256, 'RSA 2048')
  for (const k of rings[0]!.jwks().keys) t.notOk(['d', 'p', 'q', 'dp', 'dq', 'qi'].some((m) => m in k), `${k.alg}: the JWKS holds no private member`)
})

t.test('ACCESS_TOKEN_ALG=RS256: `current().active` is the RS256 key; a rotation adds one key of each algorithm, together', async (t) => {
  const clock = manualClock()
  const storage = await store(t, clock)
  const keyRing = await ring(storage, clock, { accessTokenAlg: 'RS256' })
  t.equal(keyRing.current().active.alg, 'RS256')
  const rotated = await keyRing.rotate()
  t.same(rotated.keys.map((k) => k.alg).sort(), ['ES256', 'RS256'], 'one new key per algorithm')
  t.equal(rotated.kid, rotated.keys.find((k) => k.alg === 'RS256')!.kid, '`kid` names the access tokens\' new key')
  t.equal(new Set(rotated.keys.map((k) => k.activatesAt)).size, 1, 'activating at the same second')
  clock.advance(rotated.activatesAt - clock.now())
  t.equal(keyRing.current().active.kid, rotated.kid)
})

t.test('a rotated key is published at once and signs from its activatesAt exactly, without another reload', async (t) => {
  const clock = manualClock()
  const storage = await store(t, clock)
  const keyRing = await ring(storage, clock)
  const [k1] = kids(keyRing)
  const rotated = await keyRing.rotate()
  t.equal(rotated.activatesAt, clock.now() + SETTINGS.keyPublishDelaySeconds, 'after the publish delay')
  t.same(kids(keyRing), [k1, rotated.kid], 'both published, in rotation order')

  let reads = 0
  const list = storage.keys.list.bind(storage.keys)
  storage.keys.list = async () => { reads++; return list() }
  clock.advance(rotated.activatesAt - 1 - clock.now())
  t.equal(keyRing.current().active.kid, k1, 'one second before activatesAt: the old key signs')
  clock.advance(1)
  t.equal(keyRing.current().active.kid, rotated.kid, 'at activatesAt: the new key')
  t.equal(reads, 0, 'no reload in between')
})

t.test('a retired key keeps its private part for the margin, then loses it in the store and in memory, and leaves after the retain window', async (t) => {
  const clock = manualClock()
  const storage = await store(t, clock)
  const keyRing = await ring(storage, clock)
  const [k1] = kids(keyRing) as [string]
  const { kid: k2, activatesAt: retiredAt } = await keyRing.rotate()
  const privateInMemory = () => keyRing.current().published.find((k) => k.kid === k1)?.privateKey

  clock.advance(retiredAt - clock.now())
  await keyRing.reload()
  t.type((await stored(storage, k1))?.privateKey, 'string', 'just retired: kept for the margin (a peer\'s clock may lag)')
  t.ok(privateInMemory(), 'in memory too')

  clock.advance(KEY_TIMING_MARGIN_SECONDS)
  await keyRing.reload()
  t.equal((await stored(storage, k1))?.privateKey, null, 'after the margin: the private part is deleted from the store')
  t.equal(privateInMemory(), undefined, 'and from memory')
  t.type((await stored(storage, k2))?.privateKey, 'string', 'the signing key keeps its own')
  t.same(kids(keyRing), [k1, k2], 'the retired key stays published: tokens it signed still verify')

  clock.advance(retiredAt + retainSeconds(SETTINGS) - clock.now())
  await keyRing.reload()
  t.same(kids(keyRing), [k1, k2], `still published ${retainSeconds(SETTINGS)} s after retiring (ACCESS_TOKEN_TTL + leeway + margin)`)
  clock.advance(1)
  await keyRing.reload()
  t.same(kids(keyRing), [k2], 'one second later it has left the JWKS')
  t.equal(await stored(storage, k1), undefined, 'and the store')
})

t.test('keys read at t sign until t + trustedFor; later a reload comes first, and an instance that cannot reload stops signing', async (t) => {
  const clock = manualClock()
  const storage = await store(t, clock)
  const keyRing = await ring(storage, clock)
  const readAt = clock.now()
  const trusted = trustedFor(SETTINGS)
  t.equal(keyRing.confirm(readAt + trusted - 1), undefined, 'within the window: confirmed at once, no promise')
  const confirming = keyRing.confirm(readAt + trusted)
  t.type(confirming, Promise, 'at its end: a reload')
  t.equal(keyRing.reload(), keyRing.reload(), 'concurrent callers share the one reload')
  await confirming

  clock.advance(10)
  await keyRing.confirm(readAt + trusted)
  t.equal(keyRing.confirm(clock.now() + trusted - 1), undefined, 'the reload moved the window on')

  const { kid: k2 } = await keyRing.rotate()
  const before = kids(keyRing)
  await storage.close() // the store becomes unreachable
  clock.advance(trusted + SETTINGS.accessTokenTtl + 20) // past the moment the old key would leave the JWKS
  await t.rejects(keyRing.reload(), 'a reload fails')
  t.same(kids(keyRing), before, 'a failed reload drops nothing: retired keys stay published')
  const refusal = await keyRing.confirm(clock.now())?.then(() => undefined, (err: unknown) => err)
  t.type(refusal, StoreUnavailableError, 'keys not confirmed for longer than the trust window: no signing (503)')
  t.match(keyRing.warnings, ['signing keys could not be confirmed: not signing'])
  t.equal(keyRing.current().active.kid, k2, 'what it holds still names the signing key (the JWKS is still served)')
})

t.test('onChange: called at once, then only when the published set changes', async (t) => {
  const clock = manualClock()
  const storage = await store(t, clock)
  const keyRing = await ring(storage, clock)
  const seen: string[][] = []
  keyRing.onChange((keys) => seen.push(keys.published.map((k) => k.kid)))
  t.equal(seen.length, 1, 'at once')
  await keyRing.reload()
  t.equal(seen.length, 1, 'a reload that finds the same keys: no call')
  const { kid: k2 } = await keyRing.rotate()
  t.equal(seen.length, 2)
  t.same(seen[1]!.at(-1), k2, 'the new key is announced')
})

t.test('rotations wait for the largest publish delay among live instances; one that left or went silent no longer counts', async (t) => {
  const clock = manualClock()
  const storage = await store(t, clock)
  const quick = await ring(storage, clock, { keysRefreshSeconds: 1, keyPublishDelaySeconds: 4 })
  const slow = await ring(storage, clock, { keysRefreshSeconds: 10, keyPublishDelaySeconds: 20 })
  const delayOf = async (keyRing: KeyRing) => (await keyRing.rotate()).activatesAt - clock.now()
  t.equal(await delayOf(quick), 20, 'rotating on the quick instance waits for the slow one')
  t.equal(await delayOf(slow), 20)
  await slow.close()
  t.equal(await delayOf(quick), 4, 'once it has left, its delay no longer counts')

  const slower = await ring(storage, clock, { keyPublishDelaySeconds: 25 })
  t.equal(await delayOf(quick), 25)
  clock.advance(121)
  t.equal(await delayOf(quick), 4, 'an instance silent for 120 s no longer counts')
  await slower.reload()
  t.equal(await delayOf(quick), 25, 'and counts again once it reloads')
})

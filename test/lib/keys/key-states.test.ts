import t from 'tap'
import { keyLifecycle, keyStates } from '../../../lib/keys/signing-keys.js'
import type { SigningKey } from '../../../lib/stores/types.js'

// keyStates (lib/keys/signing-keys.ts): the state of each stored key, as GET /admin/keys, `gatehouse keys list` and the
// console show it, by the same rules as keyLifecycle and signingKeyAt.

const key = (seq: number, alg: 'RS256' | 'ES256', activatesAt: number): SigningKey =>
  ({ kid: `${alg}-${seq}`, seq, alg, privateKey: 'pem', publicJwk: '{}', createdAt: activatesAt - 30, activatesAt })

const RETAIN = 100
const states = (keys: SigningKey[], now: number) => keyStates(keys, now, RETAIN).map((s) => [s.key.kid, s.state, s.retiresAt, s.publishedUntil])

t.test('next, signing, retired (published until retirement + retain), dropped: per algorithm', async (t) => {
  // The first keys at 1000; a rotation at 1100 whose keys sign from 1130.
  const keys = [key(1, 'ES256', 1000), key(2, 'RS256', 1000), key(3, 'ES256', 1130), key(4, 'RS256', 1130)]
  t.same(states(keys, 1100), [
    ['ES256-1', 'signing', 1130, null],
    ['RS256-2', 'signing', 1130, null],
    ['ES256-3', 'next', null, null],
    ['RS256-4', 'next', null, null]
  ], 'before the new keys activate: the old ones sign, the new ones are next')
  t.same(states(keys, 1130), [
    ['ES256-1', 'retired', 1130, 1230],
    ['RS256-2', 'retired', 1130, 1230],
    ['ES256-3', 'signing', null, null],
    ['RS256-4', 'signing', null, null]
  ], 'at activates_at exactly: the new ones sign, the old ones are retired')
  t.same(states(keys, 1230).map((s) => s[1]), ['retired', 'retired', 'signing', 'signing'], 'published up to retirement + retain')
  t.same(states(keys, 1231).map((s) => s[1]), ['dropped', 'dropped', 'signing', 'signing'], 'then dropped')
})

t.test('the same keys as the JWKS rules: retired and next are published, dropped are not', async (t) => {
  const keys = [key(1, 'ES256', 1000), key(2, 'ES256', 1100), key(3, 'ES256', 1300), key(4, 'RS256', 1000)]
  for (const now of [999, 1000, 1099, 1100, 1199, 1200, 1201, 1299, 1300, 1400, 1401]) {
    const published = keyLifecycle(keys, now, RETAIN).published.map((k) => k.kid)
    const shown = keyStates(keys, now, RETAIN).filter((s) => s.state !== 'dropped').map((s) => s.key.kid)
    t.same(shown, published, `at ${now}`)
    t.equal(keyStates(keys, now, RETAIN).filter((s) => s.state === 'signing' && s.key.alg === 'ES256').length, now < 1000 ? 0 : 1, `one ES256 key signs at ${now}`)
  }
  t.same(states(keys, 1100).find((s) => s[0] === 'RS256-4'), ['RS256-4', 'signing', null, null], 'an ES256 rotation never retires the RS256 key')
})

t.test('a key a later one overtook before it activated is retired, never next', async (t) => {
  // Key 2 was to sign at 1200, key 3 (a later rotation with a shorter agreed delay) signs from 1150.
  const keys = [key(1, 'ES256', 1000), key(2, 'ES256', 1200), key(3, 'ES256', 1150)]
  t.same(states(keys, 1160), [
    ['ES256-1', 'retired', 1150, 1250],
    ['ES256-2', 'retired', 1150, 1250],
    ['ES256-3', 'signing', null, null]
  ])
  t.same(states(keys, 1100).map((s) => s[1]), ['signing', 'next', 'next'])
})

import t from 'tap'
import { generateSigningKey, keyLifecycle, loadKey, signingKeyAt } from '../../../lib/keys/signing-keys.js'
import { jwksMaxAge, KEY_TIMING_MARGIN_SECONDS, keyTimingProblem, minimumPublishDelay, retainSeconds, trustedFor } from '../../../lib/keys/key-timing.js'
import { CLOCK_LEEWAY_SECONDS } from '../../../lib/clock.js'
import { loadConfig } from '../../../lib/config.js'
import type { SigningKey } from '../../../lib/stores/types.js'

// The key-timing rules of lib/keys/signing-keys.ts, as pure functions: publish, sign, retire, drop.

const key = (seq: number, activatesAt: number, privateKey: string | null = `pem-${seq}`): SigningKey =>
  ({ kid: `k${seq}`, seq, alg: 'ES256', privateKey, publicJwk: '{}', createdAt: activatesAt - 30, activatesAt })
const kids = (keys: Array<{ kid: string }>) => keys.map((k) => k.kid)

t.test('the JWKS cache lifetime is what the publish delay leaves once every instance has reloaded', async (t) => {
  const defaults = loadConfig({})
  t.equal(jwksMaxAge(defaults), 30 - 10 - KEY_TIMING_MARGIN_SECONDS, 'defaults: 30 s delay, 10 s reloads → 18 s')
  for (let refresh = 1; refresh <= 30; refresh++) {
    for (let delay = 0; delay <= 60; delay++) {
      const config = { keysRefreshSeconds: refresh, keyPublishDelaySeconds: delay }
      const safe = keyTimingProblem(config) === undefined
      if (safe !== (delay >= minimumPublishDelay(config))) t.fail(`R=${refresh} D=${delay}: refused ${!safe}`)
      if (!safe) continue
      const maxAge = jwksMaxAge(config)
      // The rule: a verifier's cached JWKS (at most max-age old) fetched just before the slowest instance
      // reloaded (at most R after the rotation) has expired before the new key signs (D after it).
      if (!(maxAge >= 1 && maxAge <= 60 && refresh + maxAge + KEY_TIMING_MARGIN_SECONDS <= delay && maxAge < delay)) {
        t.fail(`R=${refresh} D=${delay}: max-age ${maxAge}`)
      }
    }
  }
  t.equal(jwksMaxAge({ keysRefreshSeconds: 1, keyPublishDelaySeconds: 60 }), 57, 'the longest: 60 s delay, 1 s reloads')
})

t.test('unsafe key settings are explained naming both variables', async (t) => {
  t.equal(keyTimingProblem({ keysRefreshSeconds: 10, keyPublishDelaySeconds: 30 }), undefined)
  t.equal(keyTimingProblem({ keysRefreshSeconds: 10, keyPublishDelaySeconds: 13 }), undefined, 'the minimum: R + 1 + 2')
  for (const [refresh, delay] of [[10, 0], [10, 12], [1, 3], [30, 30]] as const) {
    const problem = keyTimingProblem({ keysRefreshSeconds: refresh, keyPublishDelaySeconds: delay })
    t.match(problem, `KEY_PUBLISH_DELAY_SECONDS=${delay}`)
    t.match(problem, `KEYS_REFRESH_SECONDS=${refresh}`)
    t.match(problem, `at least ${refresh + 3}`)
  }
})

t.test('a retired key is kept for the TTL, the leeway and the margin', async (t) => {
  t.equal(retainSeconds({ accessTokenTtl: 900 }), 900 + CLOCK_LEEWAY_SECONDS + KEY_TIMING_MARGIN_SECONDS)
  t.equal(trustedFor({ keyPublishDelaySeconds: 30 }), 30 - KEY_TIMING_MARGIN_SECONDS)
})

t.test('lifecycle: a key retires when a later key activates, loses its private part, then leaves after retain', async (t) => {
  const keys = [key(1, 1000), key(2, 1100)]
  const retain = 50
  const at = (now: number) => keyLifecycle(keys, now, retain)
  t.same(kids(at(1050).published), ['k1', 'k2'], 'before k2 signs: both published (k2 upcoming)')
  t.same(at(1050).retiredPrivate, [], 'nothing retired yet')
  t.same(kids(at(1100).published), ['k1', 'k2'])
  t.same(at(1101).retiredPrivate, [], 'within the margin, the private part stays (a peer\'s clock may lag)')
  t.same(kids(at(1100 + KEY_TIMING_MARGIN_SECONDS).retiredPrivate), ['k1'], 'then it is deleted')
  t.same(kids(at(1100 + retain).published), ['k1', 'k2'], 'published until its last token has expired')
  t.same(kids(at(1100 + retain + 1).dropped), ['k1'], 'then dropped')
  t.same(kids(at(1100 + retain + 1).published), ['k2'])
  t.same(keyLifecycle([key(1, 1000, null), key(2, 1100)], 1200, retain).retiredPrivate, [], 'a deleted private part is not deleted again')
})

t.test('lifecycle and signing follow the sequence, not seconds: the later rotation wins', async (t) => {
  // Two rotations in the same second: same createdAt and activatesAt.
  const same = [key(1, 1000), key(2, 1100), key(3, 1100)]
  const loaded = same.map((k) => ({ ...k, privateKey: k.privateKey === null ? undefined : ({} as never), publicJwk: {} as never }))
  t.equal(signingKeyAt(loaded, 1099, 'ES256')?.kid, 'k1')
  t.equal(signingKeyAt(loaded, 1100, 'ES256')?.kid, 'k3', 'the later rotation signs')
  t.equal(signingKeyAt([...loaded].reverse(), 1100, 'ES256')?.kid, 'k3', 'whatever the order it is given in')
  const life = keyLifecycle([...same].reverse(), 1100 + KEY_TIMING_MARGIN_SECONDS, 50)
  t.same(kids(life.retiredPrivate), ['k1', 'k2'], 'k2 never signs: it retires as it would have activated')
  t.same(kids(life.published), ['k1', 'k2', 'k3'], 'published in sequence order')

  // A later rotation with a shorter delay activates first: the older pending key then never signs.
  const shorter = [key(1, 1000), key(2, 1200), key(3, 1150)]
  const loadedShorter = shorter.map((k) => ({ ...k, privateKey: {} as never, publicJwk: {} as never }))
  t.equal(signingKeyAt(loadedShorter, 1160, 'ES256')?.kid, 'k3')
  t.equal(signingKeyAt(loadedShorter, 1210, 'ES256')?.kid, 'k3', 'k2 activating later does not take over from k3')
  t.same(kids(keyLifecycle(shorter, 1150 + 50 + 1, 50).dropped), ['k1', 'k2'], 'k1 and k2 retired when k3 activated')
})

t.test('signingKeyAt: a key whose private part is gone hands over to the next one', async (t) => {
  const real = [key(1, 1000), key(2, 1100)].map((k) => loadKey({ ...k, privateKey: generateSigningKey('ES256', 0, 0).privateKey, publicJwk: generateSigningKey('ES256', 0, 0).publicJwk }))
  t.equal(signingKeyAt(real, 999, 'ES256'), undefined, 'nothing has activated')
  t.equal(signingKeyAt(real, 1050, 'ES256')?.kid, 'k1')
  const k1Retired = [{ ...real[0]!, privateKey: undefined }, real[1]!]
  t.equal(signingKeyAt(k1Retired, 1099, 'ES256')?.kid, 'k2', 'k1 retired by a peer whose clock is ahead: k2 (published for the whole delay) signs')
  t.equal(signingKeyAt([{ ...real[0]!, privateKey: undefined }], 1050, 'ES256'), undefined, 'no key that can sign')
})

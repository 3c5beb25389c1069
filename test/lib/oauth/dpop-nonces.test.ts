import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { DpopNonces, NONCE_STEP_SECONDS } from '../../../lib/oauth/dpop-nonces.js'
import type { LoadedKey } from '../../../lib/keys/signing-keys.js'

const es256 = (kid: string, seq: number, activatesAt: number, withPrivate = true): LoadedKey => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return { kid, seq, alg: 'ES256', privateKey: withPrivate ? privateKey : undefined, publicJwk: publicKey.export({ format: 'jwk' }) as never, activatesAt }
}

const start = 1_800_000_000 - (1_800_000_000 % NONCE_STEP_SECONDS)

t.test('the current and the previous step\'s nonce are accepted; older ones, and made-up ones, are not', async (t) => {
  const nonces = new DpopNonces(() => [es256('k1', 1, 0)])
  const nonce = nonces.current(start + 5)
  t.match(nonce, /^[A-Za-z0-9_-]{43}$/)
  t.equal(nonces.current(start + 59), nonce, 'the same for the whole step')
  t.ok(nonces.accepts(nonce, start + 59))
  t.ok(nonces.accepts(nonce, start + NONCE_STEP_SECONDS + 59), 'the next step still accepts it')
  t.notOk(nonces.accepts(nonce, start + 2 * NONCE_STEP_SECONDS), 'two steps later it is stale')
  t.not(nonces.current(start + NONCE_STEP_SECONDS), nonce, 'a new step, a new nonce')
  t.notOk(nonces.accepts('x'.repeat(43), start), 'a made-up nonce')
  t.notOk(nonces.accepts('', start))
})

t.test('instances with the same keys agree; another key gives other nonces; a rotation is followed at the step it activates', async (t) => {
  const k1 = es256('k1', 1, 0)
  const one = new DpopNonces(() => [k1])
  const two = new DpopNonces(() => [k1])
  t.equal(one.current(start), two.current(start), 'the same store, the same nonce')
  t.notOk(new DpopNonces(() => [es256('other', 1, 0)]).accepts(one.current(start), start), 'another deployment\'s nonce')

  const k2 = es256('k2', 2, start + NONCE_STEP_SECONDS)
  const rotated = new DpopNonces(() => [k1, k2])
  t.equal(rotated.current(start), one.current(start), 'before k2 activates, k1 keys the step')
  const afterRotation = rotated.current(start + NONCE_STEP_SECONDS)
  t.notOk(one.accepts(afterRotation, start + NONCE_STEP_SECONDS), 'from its step on, k2 keys it')
  t.ok(rotated.accepts(one.current(start), start + NONCE_STEP_SECONDS + 30), 'the nonce k1 keyed is still accepted for one step')
})

t.test('a store whose first key is younger than the step still has a nonce (that key keys it)', async (t) => {
  const nonces = new DpopNonces(() => [es256('k1', 1, start + 30)])
  t.ok(nonces.accepts(nonces.current(start + 31), start + 31))
  t.throws(() => new DpopNonces(() => []).current(start), /no ES256 signing key/)
})

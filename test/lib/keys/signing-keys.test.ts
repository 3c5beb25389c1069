import t from 'tap'
import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { generateSigningKey, keyLifecycle, loadKey, signingKeyAt, thumbprint, type PublicJwk } from '../../../lib/keys/signing-keys.js'
import { KeySigners } from '../../../lib/keys/signers.js'
import { algorithmsOf } from '../../../lib/keys/algorithm.js'
import type { SigningKey } from '../../../lib/stores/types.js'

// The keys of each algorithm (lib/keys/signing-keys.ts, signers.ts, algorithm.ts): RS256 and ES256 keys made,
// named (RFC 7638), rotated and retired each on their own, and signing with their own algorithm only.
// Timing rules for one algorithm are test/lib/keys/key-timing.test.ts's.

const rsa = generateSigningKey('RS256', 0, 0)
const ec = generateSigningKey('ES256', 0, 0)

t.test('kid is the RFC 7638 thumbprint for RSA (e, kty, n) and EC (crv, kty, x, y) keys', async (t) => {
  for (const key of [rsa, ec]) {
    const jwk = JSON.parse(key.publicJwk) as Record<string, string>
    t.equal(key.kid, await calculateJwkThumbprint(jwk as never, 'sha256'), `${key.alg}: the same as jose's`)
    t.equal(thumbprint(jwk as never), key.kid)
  }
  t.same(Object.keys(JSON.parse(rsa.publicJwk)).sort(), ['e', 'kty', 'n'], 'RSA: public members only')
  t.equal(Buffer.from(JSON.parse(rsa.publicJwk).n, 'base64url').length, 256, 'RSA 2048')
  t.same(Object.keys(JSON.parse(ec.publicJwk)).sort(), ['crv', 'kty', 'x', 'y'])
  t.throws(() => generateSigningKey('RS256', 0, 0, ec.privateKey), /cannot sign RS256/, 'an EC key is never stored as an RS256 one')
  t.equal(generateSigningKey('RS256', 0, 0, rsa.privateKey).kid, rsa.kid, 'given material keeps its kid')
})

t.test('each algorithm rotates and retires on its own: a new key of one never retires a key of the other', async (t) => {
  const key = (seq: number, alg: 'RS256' | 'ES256', activatesAt: number): SigningKey =>
    ({ kid: `${alg}-${seq}`, seq, alg, privateKey: `pem-${seq}`, publicJwk: '{}', createdAt: activatesAt, activatesAt })
  // ES256 k1 at 1000; RS256 r2 at 1000; a later RS256 r3 at 1100 (an RS256-only rotation, as an upgrade adds one).
  const keys = [key(1, 'ES256', 1000), key(2, 'RS256', 1000), key(3, 'RS256', 1100)]
  const life = keyLifecycle(keys, 1100 + 2 + 100, 50)
  t.same(life.dropped.map((k) => k.kid), ['RS256-2'], 'the RS256 key r3 replaced is dropped')
  t.same(life.published.map((k) => k.kid), ['ES256-1', 'RS256-3'], 'the ES256 key stays: nothing of its algorithm replaced it')
  t.same(life.retiredPrivate, [])
  const loaded = keys.map((k) => ({ ...loadKey({ ...k, privateKey: (k.alg === 'RS256' ? rsa : ec).privateKey, publicJwk: (k.alg === 'RS256' ? rsa : ec).publicJwk }) }))
  t.equal(signingKeyAt(loaded, 1100, 'ES256')?.kid, 'ES256-1', 'ES256 signs with its own key')
  t.equal(signingKeyAt(loaded, 1100, 'RS256')?.kid, 'RS256-3')
  t.equal(signingKeyAt(loaded, 1099, 'RS256')?.kid, 'RS256-2')
})

t.test('KeySigners signs with the key of the asked algorithm, its header naming that key and algorithm', async (t) => {
  const published = [rsa, ec].map((k, i) => loadKey({ ...k, seq: i + 1 }))
  const signers = new KeySigners('JWT')
  signers.useKeys(published)
  const jwks = createLocalJWKSet({ keys: published.map((k) => k.publicJwk as PublicJwk & Record<string, unknown>) })
  for (const [alg, key] of [['RS256', rsa], ['ES256', ec]] as const) {
    const token = signers.sign({ sub: 'u', iss: 'i' }, 10, alg)
    t.match(decodeProtectedHeader(token), { alg, kid: key.kid, typ: 'JWT' })
    await jwtVerify(token, jwks, { algorithms: [alg] })
  }
  t.throws(() => new KeySigners('JWT').sign({}, 10, 'RS256'), /no RS256 signing key/)
})

t.test('algorithmsOf: a key verifies its own algorithm and no other', async (t) => {
  t.same(algorithmsOf(loadKey({ ...rsa, seq: 1 })), ['RS256'])
  t.same(algorithmsOf(loadKey({ ...ec, seq: 2 })), ['ES256'])
})

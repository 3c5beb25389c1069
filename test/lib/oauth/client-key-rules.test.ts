import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { exportJWK, generateKeyPair } from 'jose'
import { clientKeysProblem, jwksProblem, jwksUriProblem } from '../../../lib/oauth/client-key-rules.js'
import { clientKey, jwksOf } from '../../support/client-keys.js'

t.test('a JWK Set of public keys: RSA ≥ 2048, EC P-256/384/521, Ed25519', async (t) => {
  const keys = await Promise.all(['ES256', 'ES384', 'ES512', 'RS256', 'PS256', 'EdDSA'].map((alg) => clientKey(alg)))
  t.equal(jwksProblem(jwksOf(...keys)), undefined, 'each accepted')
})

t.test('refused: private members, symmetric keys, weak or unknown keys, bad shapes', async (t) => {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  const priv = await exportJWK(privateKey)
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' })
  const ok = (await clientKey()).publicJwk
  const cases: Array<[unknown, RegExp, string]> = [
    [{ keys: [priv] }, /private or symmetric key \(it has "d"\)/, 'an EC private key'],
    [{ keys: [{ ...ok, p: 'x' }] }, /it has "p"/, 'an RSA private member'],
    [{ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }, /it has "k"/, 'a symmetric key'],
    [{ keys: [small] }, /2048 to 8192 bits \(this one has 1024\)/, 'RSA 1024'],
    [{ keys: [{ kty: 'EC', crv: 'secp256k1', x: 'a', y: 'b' }] }, /P-256, P-384 or P-521/, 'another curve'],
    [{ keys: [{ kty: 'OKP', crv: 'X25519', x: 'a' }] }, /Ed25519/, 'an encryption curve'],
    [{ keys: [{ ...ok, x: 'AAAA' }] }, /not a valid public key/, 'a point not on the curve'],
    [{ keys: [{ ...ok, use: 'enc' }] }, /use must be "sig"/, 'an encryption key'],
    [{ keys: [{ ...ok, alg: 'HS256' }] }, /alg must be one of/, 'an HMAC alg'],
    [{ keys: [ok, ok] }, /used twice/, 'a kid twice'],
    [{ keys: [] }, /non-empty keys array/, 'no keys'],
    [[ok], /an object with a keys array/, 'a bare array'],
    [{ keys: Array(11).fill(ok) }, /at most 10 keys/, 'too many']
  ]
  for (const [jwks, why, label] of cases) t.match(jwksProblem(jwks), why, label)
})

t.test('jwks_uri: https; plain http on loopback only when the issuer is', async (t) => {
  t.equal(jwksUriProblem('https://keys.example/jwks.json', { issuerOnLoopback: false }), undefined)
  t.match(jwksUriProblem('http://keys.example/jwks.json', { issuerOnLoopback: true }), /must be https/)
  t.match(jwksUriProblem('http://127.0.0.1:8080/jwks', { issuerOnLoopback: false }), /must be https/, 'loopback, but the issuer is not')
  t.equal(jwksUriProblem('http://127.0.0.1:8080/jwks', { issuerOnLoopback: true }), undefined)
  t.match(jwksUriProblem('https://keys.example/jwks#x', { issuerOnLoopback: false }), /fragment/)
  t.match(jwksUriProblem('https://u:p@keys.example/jwks', { issuerOnLoopback: false }), /credentials/)
  t.match(jwksUriProblem('keys', { issuerOnLoopback: false }), /absolute URL/)
})

t.test('keys and method together (RFC 7591 §2)', async (t) => {
  const jwks = jwksOf(await clientKey())
  const check = (over: Partial<Parameters<typeof clientKeysProblem>[0]>) =>
    clientKeysProblem({ isPublic: false, hasSecret: false, jwks: null, jwksUri: null, tokenEndpointAuthMethod: null, ...over }, { issuerOnLoopback: false })
  t.equal(check({ jwks, tokenEndpointAuthMethod: 'private_key_jwt' }), undefined)
  t.equal(check({ jwksUri: 'https://k.example/jwks', tokenEndpointAuthMethod: 'private_key_jwt' }), undefined)
  t.match(check({ jwks, jwksUri: 'https://k.example/jwks' }), /cannot both/)
  t.match(check({ tokenEndpointAuthMethod: 'private_key_jwt', hasSecret: true }), /needs the client's keys/)
  t.match(check({ jwks, tokenEndpointAuthMethod: 'client_secret_basic' }), /needs a client secret/)
  t.match(check({ tokenEndpointAuthMethod: 'client_secret_jwt', hasSecret: true }), /client_secret_jwt is not supported/)
  t.match(check({ isPublic: true, jwks }), /public client cannot have keys/)
  t.match(check({ tokenEndpointAuthMethod: 'none', hasSecret: true }), /for public clients/)
  t.match(check({}), /needs a secret or keys/)
  t.equal(check({ jwks, hasSecret: true, tokenEndpointAuthMethod: 'client_secret_post' }), undefined, 'a secret method with keys besides (request objects)')
})

import t from 'tap'
import { generateKeyPairSync, sign } from 'node:crypto'
import { exportJWK, generateKeyPair, SignJWT, calculateJwkThumbprint, type JWK, type CryptoKey } from 'jose'
import { accessTokenHash, checkDpopProof, InvalidDpopProof, jwkThumbprint, PROOF_MAX_AGE_SECONDS, type DpopRequest } from '../../../lib/oauth/dpop-proof.js'

// RFC 9449 §4.3: each check of a proof, one refusal at a time, against a proof that passes.

const url = 'https://issuer.test/token'
const now = 1_800_000_000

interface Signer { privateKey: CryptoKey, jwk: JWK }
const signerFor = async (alg: string, options: Record<string, unknown> = {}): Promise<Signer> => {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...options })
  return { privateKey, jwk: await exportJWK(publicKey) }
}

const proofWith = async (signer: Signer, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, alg = 'ES256') =>
  new SignJWT({ jti: `j-${Math.random()}`, htm: 'POST', htu: url, iat: now, ...claims })
    .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk: signer.jwk, ...header } as never)
    .sign(signer.privateKey)

const request = (extra: Partial<DpopRequest> = {}): DpopRequest => ({ method: 'POST', url, now, ...extra })

const refusal = (proof: string, req = request()): string | undefined => {
  try {
    checkDpopProof(proof, req)
    return undefined
  } catch (err) {
    if (err instanceof InvalidDpopProof) return err.message
    throw err
  }
}

t.test('a good proof gives the RFC 7638 thumbprint of its key, its jti and iat', async (t) => {
  const signer = await signerFor('ES256')
  const proof = await proofWith(signer, { jti: 'abc' })
  const checked = checkDpopProof(proof, request())
  t.equal(checked.jkt, await calculateJwkThumbprint(signer.jwk, 'sha256'))
  t.equal(checked.jkt, jwkThumbprint(signer.jwk as Record<string, unknown>))
  t.equal(checked.jti, 'abc')
  t.equal(checked.iat, now)
  t.equal(checked.nonce, undefined)
  t.equal(checkDpopProof(await proofWith(signer, { nonce: 'n1' }), request()).nonce, 'n1')
})

t.test('every supported key family verifies', async (t) => {
  for (const [alg, options] of [['ES256', {}], ['ES384', {}], ['PS256', { modulusLength: 2048 }], ['RS256', { modulusLength: 2048 }], ['EdDSA', {}]] as const) {
    const signer = await signerFor(alg, options)
    t.equal(refusal(await proofWith(signer, {}, {}, alg)), undefined, alg)
  }
})

t.test('the header: typ, alg, jwk', async (t) => {
  const signer = await signerFor('ES256')
  t.match(refusal(await proofWith(signer, {}, { typ: 'JWT' })), /typ/)
  t.match(refusal(await proofWith(signer, {}, { jwk: undefined })), /jwk/)
  t.match(refusal(await proofWith(signer, {}, { jwk: { ...signer.jwk, d: 'AAAA' } })), /public key/)
  const other = await signerFor('ES256')
  t.match(refusal(await proofWith(signer, {}, { jwk: other.jwk })), /signature/, 'a key other than the signing one')
  const rsa = await signerFor('RS256', { modulusLength: 2048 })
  t.match(refusal(await proofWith(rsa, {}, { jwk: signer.jwk }, 'RS256')), /not a key for RS256/)
  // alg none and HS256 (the public key as an HMAC secret): refused by name, before any verification.
  const [h, p] = (await proofWith(signer)).split('.') as [string, string]
  const none = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(h, 'base64url').toString()), alg: 'none' })).toString('base64url')
  t.match(refusal(`${none}.${p}.AAAA`), /alg must be one of/)
  const hs = await new SignJWT({ jti: 'x', htm: 'POST', htu: url, iat: now })
    .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: signer.jwk } as never)
    .sign(Buffer.from(JSON.stringify(signer.jwk)))
  t.match(refusal(hs), /alg must be one of/)
  // jose will not make a 1024-bit key: node:crypto makes and signs with it.
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 })
  const smallHeader = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'dpop+jwt', jwk: small.publicKey.export({ format: 'jwk' }) })).toString('base64url')
  const smallPayload = Buffer.from(JSON.stringify({ jti: 'x', htm: 'POST', htu: url, iat: now })).toString('base64url')
  const smallSignature = sign('sha256', Buffer.from(`${smallHeader}.${smallPayload}`), small.privateKey).toString('base64url')
  t.match(refusal(`${smallHeader}.${smallPayload}.${smallSignature}`), /2048/)
})

t.test('the claims: jti, htm, htu, iat, ath', async (t) => {
  const signer = await signerFor('ES256')
  t.match(refusal(await proofWith(signer, { jti: undefined })), /jti/)
  t.match(refusal(await proofWith(signer, { jti: 'x'.repeat(257) })), /jti/)
  t.match(refusal(await proofWith(signer, { htm: 'GET' })), /htm/)
  t.match(refusal(await proofWith(signer, { htu: 'https://issuer.test/other' })), /htu/)
  t.match(refusal(await proofWith(signer, { htu: 'https://evil.test/token' })), /htu/)
  t.match(refusal(await proofWith(signer, { htu: 'not a url' })), /htu/)
  // Query and fragment are ignored; the host's case and the default port are normalised (RFC 3986 §6.2.2–6.2.3).
  t.equal(refusal(await proofWith(signer, { htu: 'https://ISSUER.test:443/token?x=1#f' })), undefined)
  t.match(refusal(await proofWith(signer, { iat: now - 600 })), /too old/, 'ten minutes old')
  t.match(refusal(await proofWith(signer, { iat: now - PROOF_MAX_AGE_SECONDS - 1 })), /too old/)
  t.equal(refusal(await proofWith(signer, { iat: now - PROOF_MAX_AGE_SECONDS })), undefined)
  t.match(refusal(await proofWith(signer, { iat: now + 60 })), /future/)
  t.match(refusal(await proofWith(signer, { iat: String(now) })), /iat/)
  t.match(refusal(await proofWith(signer, { nonce: 5 })), /nonce/)

  const token = 'eyJhbGciOiJFUzI1NiJ9.e30.sig'
  const ath = accessTokenHash(token)
  t.equal(refusal(await proofWith(signer, { ath, htm: 'GET' }), request({ method: 'GET', accessToken: token })), undefined)
  t.match(refusal(await proofWith(signer, { htm: 'GET' }), request({ method: 'GET', accessToken: token })), /ath/)
  t.match(refusal(await proofWith(signer, { ath: accessTokenHash('other'), htm: 'GET' }), request({ method: 'GET', accessToken: token })), /ath/)
})

t.test('malformed proofs are refused, never thrown as anything else', async (t) => {
  const signer = await signerFor('ES256')
  const good = await proofWith(signer)
  const [h, p, s] = good.split('.') as [string, string, string]
  for (const bad of ['', 'a.b', `${h}.${p}`, `${h}.${p}.${s}.x`, `${h}!.${p}.${s}`, `e30.${p}.${s}`, `${Buffer.from('[1]').toString('base64url')}.${p}.${s}`,
    `${h}.${Buffer.from('not json').toString('base64url')}.${s}`, `${h}.${p}.${s.slice(0, -4)}`, 'x'.repeat(9000)]) {
    t.type(refusal(bad), 'string', bad.slice(0, 40))
  }
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>
  const edited = Buffer.from(JSON.stringify({ ...payload, htm: 'GET' })).toString('base64url')
  t.match(refusal(`${h}.${edited}.${s}`, request({ method: 'GET' })), /signature/, 'an edited payload with the signature kept')
})

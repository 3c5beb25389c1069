import { randomUUID } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import { ISSUER } from './helper.js'

/** A client's DPoP key (RFC 9449): its thumbprint, and fresh proofs signed with it. */
export interface DpopKey {
  jkt: string
  jwk: JWK
  /** A fresh proof for POST `url` (default ISSUER/token), each with its own jti; `claims` and `header` override. */
  proof: (claims?: Record<string, unknown>, header?: Record<string, unknown>) => Promise<string>
}

export async function dpopKey (alg = 'ES256', options: { url?: string, now?: () => number } = {}): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const jwk = await exportJWK(publicKey)
  const url = options.url ?? `${ISSUER}/token`
  const now = options.now ?? (() => Math.floor(Date.now() / 1000))
  return {
    jkt: await calculateJwkThumbprint(jwk, 'sha256'),
    jwk,
    proof: (claims = {}, header = {}) => signProof(privateKey, { alg, typ: 'dpop+jwt', jwk, ...header }, { jti: randomUUID(), htm: 'POST', htu: url, iat: now(), ...claims })
  }
}

function signProof (key: CryptoKey, header: Record<string, unknown>, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader(header as never).sign(key)
}

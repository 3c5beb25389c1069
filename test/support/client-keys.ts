import { randomUUID } from 'node:crypto'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'

/** A client's key pair (what a private_key_jwt client holds): the private key to sign with, the public JWK to register. */
export interface ClientKey { alg: string, kid: string, privateKey: CryptoKey, publicJwk: JWK }

export async function clientKey (alg = 'ES256', kid = `k-${randomUUID().slice(0, 8)}`): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  return { alg, kid, privateKey, publicJwk: { ...await exportJWK(publicKey), kid, alg, use: 'sig' } }
}

export const jwksOf = (...keys: ClientKey[]) => ({ keys: keys.map((k) => k.publicJwk) })

/** A client assertion (RFC 7523 §3) for `clientId`: good by default (aud the token endpoint, exp in 60 s, a fresh jti); `over` changes claims. */
export async function clientAssertion (key: ClientKey, clientId: string, aud: string | string[], over: { claims?: Record<string, unknown>, header?: Record<string, unknown>, now?: number } = {}): Promise<string> {
  const now = over.now ?? Math.floor(Date.now() / 1000)
  const claims = { iss: clientId, sub: clientId, aud, iat: now, exp: now + 60, jti: randomUUID(), ...over.claims }
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete (claims as Record<string, unknown>)[name]
  return await new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, ...over.header }).sign(key.privateKey)
}

/** An unsigned JWT (`alg: none`): what an attacker sends instead of a signature. */
export function unsignedJwt (claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`
}

/** A JWT signed HS256 with `secret` (the "public key as HMAC secret" confusion). */
export async function hmacJwt (claims: Record<string, unknown>, secret: Uint8Array, kid?: string): Promise<string> {
  return await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', ...(kid === undefined ? {} : { kid }) }).sign(secret)
}

/** Form fields of private_key_jwt. */
export const assertionFields = (assertion: string) => ({ client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion })

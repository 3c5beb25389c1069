import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import { accessTokenHash } from '../../lib/oauth/dpop-proof.js'
import type { User } from '../../lib/stores/types.js'

/**
 * DPoP (RFC 9449) as a client does it, for the tests of resources: a key pair, proofs made with jose, and access tokens
 * bound to a key minted by Gatehouse's own issuer (`app.accessTokens.issue` with `dpopJkt`): until /token issues them,
 * the resource tests need no token endpoint.
 */

export interface DpopKey { privateKey: CryptoKey, jwk: JWK, jkt: string, alg: string }

export async function dpopKey (alg = 'ES256'): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg.startsWith('RS') || alg.startsWith('PS') ? { modulusLength: 2048 } : {}) })
  const jwk = await exportJWK(publicKey)
  return { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk, 'sha256'), alg }
}

export interface ProofOptions {
  htm: string
  htu: string
  /** The token the proof goes with (its `ath`); omit for a proof without one. */
  accessToken?: string
  /** Claims to add or replace (`undefined` removes one). */
  claims?: Record<string, unknown>
  /** Header members to add or replace (`undefined` removes one). */
  header?: Record<string, unknown>
}

/** A proof that passes every check for `htm` and `htu`, except what `claims`/`header` change. */
export async function dpopProof (key: DpopKey, options: ProofOptions): Promise<string> {
  const claims: Record<string, unknown> = { jti: randomUUID(), htm: options.htm, htu: options.htu, iat: Math.floor(Date.now() / 1000), ...(options.accessToken ? { ath: accessTokenHash(options.accessToken) } : {}), ...options.claims }
  const header: Record<string, unknown> = { alg: key.alg, typ: 'dpop+jwt', jwk: key.jwk, ...options.header }
  for (const name of Object.keys(claims)) if (claims[name] === undefined) delete claims[name]
  for (const name of Object.keys(header)) if (header[name] === undefined) delete header[name]
  return new SignJWT(claims).setProtectedHeader(header as never).sign(key.privateKey)
}

/** A proof signed with HMAC (RFC 9449 §4.3 point 5 refuses symmetric algorithms) or `alg: none`: the header `jwk` is `key`'s. */
export function unsignedProof (key: DpopKey, options: ProofOptions, alg: 'none' | 'HS256'): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const body = encode({ alg, typ: 'dpop+jwt', jwk: key.jwk }) + '.' + encode({ jti: randomUUID(), htm: options.htm, htu: options.htu, iat: Math.floor(Date.now() / 1000), ...(options.accessToken ? { ath: accessTokenHash(options.accessToken) } : {}) })
  return alg === 'none' ? `${body}.` : `${body}.${Buffer.from('not-a-real-mac').toString('base64url')}`
}

/** An access token for `user` from Gatehouse's issuer, bound to `jkt` (`cnf.jkt`), or unbound without it. */
export async function mintToken (app: FastifyInstance, user: User, options: { jkt?: string, scope?: string, audience?: string } = {}): Promise<string> {
  const client = await app.storage.clients.find('default')
  const { token } = await app.accessTokens.issue({
    sub: user.id,
    subKind: 'user',
    clientId: 'default',
    scope: options.scope ?? user.scope ?? '',
    credentialVersion: user.credentialVersion,
    clientGeneration: client?.generation ?? null,
    ...(options.audience ? { audience: options.audience } : {}),
    ...(options.jkt ? { dpopJkt: options.jkt } : {})
  }, app.clock.now())
  return token
}

/** `Authorization: DPoP <token>` and its proof. */
export function dpopHeaders (token: string, proof: string): { authorization: string, dpop: string } {
  return { authorization: `DPoP ${token}`, dpop: proof }
}

/** One attack of SECURITY-CASES K1 at a resource: what to send, and the `error` its 401 must carry in the DPoP challenge. */
export interface ProofAttack {
  label: string
  headers: Record<string, string>
  error: 'invalid_dpop_proof' | 'invalid_token'
  /** Send it once first, which must succeed: the attack is the second sending. */
  replay?: true
}

/**
 * The resource half of K1 against a token bound to `key`, for a request `htm` to `htu`: a replayed proof, wrong htm,
 * wrong htu (another host, as a forged Host header would name), iat 10 minutes old, a key other than the bound one,
 * `alg: none` and HS256, and the bound token sent as Bearer. The same list runs at Gatehouse's own routes and at the
 * resource-server plugin.
 */
export async function proofAttacks (key: DpopKey, token: string, target: { htm: string, htu: string }): Promise<ProofAttack[]> {
  const good = { ...target, accessToken: token }
  const otherHost = new URL(target.htu)
  otherHost.host = 'evil.test'
  const other = await dpopKey()
  return [
    { label: 'a proof replayed (same jti)', headers: dpopHeaders(token, await dpopProof(key, good)), error: 'invalid_dpop_proof', replay: true },
    { label: 'htm of another method', headers: dpopHeaders(token, await dpopProof(key, { ...good, htm: target.htm === 'GET' ? 'POST' : 'GET' })), error: 'invalid_dpop_proof' },
    { label: 'htu of another host', headers: { ...dpopHeaders(token, await dpopProof(key, { ...good, htu: otherHost.href })), host: 'evil.test' }, error: 'invalid_dpop_proof' },
    { label: 'htu of another path', headers: dpopHeaders(token, await dpopProof(key, { ...good, htu: `${target.htu}/other` })), error: 'invalid_dpop_proof' },
    { label: 'iat 10 minutes old', headers: dpopHeaders(token, await dpopProof(key, { ...good, claims: { iat: Math.floor(Date.now() / 1000) - 600 } })), error: 'invalid_dpop_proof' },
    { label: 'a key other than the bound one', headers: dpopHeaders(token, await dpopProof(other, good)), error: 'invalid_token' },
    { label: 'alg none', headers: dpopHeaders(token, unsignedProof(key, good, 'none')), error: 'invalid_dpop_proof' },
    { label: 'alg HS256', headers: dpopHeaders(token, unsignedProof(key, good, 'HS256')), error: 'invalid_dpop_proof' },
    { label: 'the bound token sent as Bearer', headers: { authorization: `Bearer ${token}`, dpop: await dpopProof(key, good) }, error: 'invalid_token' }
  ]
}

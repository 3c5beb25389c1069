import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import { createPublicKey, randomUUID, type KeyObject } from 'node:crypto'
import { join } from 'node:path'
import { createLocalJWKSet, SignJWT, type JSONWebKeySet, type JWSHeaderParameters, type JWTPayload } from 'jose'
import { addClient, addUser, basic, build, FORM, form, ISSUER } from './helper.js'
import { GATEHOUSE_BIN } from './paths.js'

/**
 * Assertions shared by the route tests. An OAuth endpoint error (RFC 6749 §5.2) is exactly
 * `{error, error_description?}` as JSON, with `Cache-Control: no-store` and `Pragma: no-cache`.
 */
export function assertOAuthError (t: Test, res: LightMyRequestResponse, status: number, error: string, description?: string | RegExp, label = ''): void {
  const what = label ? `${label}: ` : ''
  t.equal(res.statusCode, status, `${what}status ${status}`)
  t.match(res.headers['content-type'], /^application\/json\b/, `${what}JSON body`)
  t.equal(res.headers['cache-control'], 'no-store', `${what}Cache-Control: no-store`)
  t.equal(res.headers.pragma, 'no-cache', `${what}Pragma: no-cache`)
  let body: Record<string, unknown> = {}
  try { body = res.json() } catch { t.fail(`${what}body is not JSON: ${res.body.slice(0, 200)}`) }
  t.equal(body.error, error, `${what}error=${error}`)
  t.same(Object.keys(body).filter((k) => k !== 'error' && k !== 'error_description'), [], `${what}only error and error_description`)
  if (body.error_description !== undefined) t.type(body.error_description, 'string', `${what}error_description is a string`)
  if (typeof description === 'string') t.equal(body.error_description, description, `${what}error_description`)
  else if (description instanceof RegExp) t.match(body.error_description, description, `${what}error_description`)
  t.notOk(res.body.includes('    at '), `${what}no stack trace`)
}

/** A successful password grant's JSON body (asserts 200). */
export async function passwordGrant (t: Test, app: FastifyInstance, username: string, password: string, extra: Record<string, string> = {}): Promise<{ access_token: string, token_type: string, expires_in: number, scope?: string, refresh_token?: string }> {
  const res = await app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'password', username, password, ...extra }) })
  t.equal(res.statusCode, 200, `password grant for ${username} succeeds`)
  return res.json()
}

export async function localJwks (app: FastifyInstance) {
  const res = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  return createLocalJWKSet(res.json() as JSONWebKeySet)
}

export function bearer (token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` }
}

/** The headers of a reply without the ones that legitimately differ between two identical replies. */
export function stableHeaders (res: LightMyRequestResponse): Record<string, unknown> {
  // Date and the request id differ on every reply whatever the outcome: they cannot tell a user apart.
  const { date: _date, 'x-request-id': _requestId, ...rest } = res.headers
  return rest
}

/**
 * Spawns `node ARGS` with exactly `env`. Under tap, child_process is wrapped to add tap's process-info
 * loader to every child's NODE_OPTIONS (for coverage, which is off here); that loader triples a CLI run's
 * start-up time, so the child is started through `env -u NODE_OPTIONS`.
 */
export function spawnNode (args: string[], env: Record<string, string>, stdio: StdioOptions = ['pipe', 'pipe', 'pipe'], cwd?: string): ChildProcess {
  return spawn('/usr/bin/env', ['-u', 'NODE_OPTIONS', process.execPath, ...args], { env, stdio, cwd })
}

/** The `gatehouse` command (package.json `bin`). */
export { GATEHOUSE_BIN }

export interface CliRun { code: number | null, stdout: string, stderr: string }

/** Runs `gatehouse ARGS` with `env` (and PATH), `input` on stdin; killed (and the test failed) after 20 s. */
export function runCli (args: string[], env: Record<string, string>, input?: string, cwd?: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawnNode([GATEHOUSE_BIN, ...args], { PATH: process.env.PATH ?? '', ...env }, undefined, cwd)
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d) => { stdout += d })
    child.stderr!.on('data', (d) => { stderr += d })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`gatehouse ${args.join(' ')} did not finish`)) }, 20_000)
    child.on('error', reject)
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
    child.stdin!.end(input)
  })
}

/** A distinct client address for each request, so brute-force limits (per IP) never answer for tests about input. */
let nextAddress = 0
export function uniqueIp (): string {
  nextAddress++
  return `10.${(nextAddress >> 16) & 255}.${(nextAddress >> 8) & 255}.${nextAddress & 255}`
}

/**
 * ROUTES_DIR holding one extension route, JWT_VERIFY_PATH, that checks its token with @fastify/jwt's
 * `request.jwtVerify()` only (test/fixtures/jwt-verify): the access-token tests run through it as well as
 * through fastify.authenticate (GET /users/me).
 */
export const JWT_VERIFY_ROUTES = join(import.meta.dirname, '..', 'fixtures', 'jwt-verify')
export { JWT_VERIFY_PATH } from '../fixtures/jwt-verify/index.js'

export interface AccessTokenFixture {
  app: FastifyInstance
  /** alice's user id */
  sub: string
  kid: string
  privateKey: KeyObject
  publicKey: KeyObject
  /** Basic credentials of `rs`, a confidential client (a resource server) that may introspect. */
  rs: { authorization: string }
  /** Valid RFC 9068 claims for alice, overridable (an `undefined` value removes the claim). */
  claims: (over?: JWTPayload) => JWTPayload
  /** Signs `claims` with our active key (or `key`) under our kid, header `typ: at+jwt` unless overridden. */
  sign: (claims: JWTPayload, header?: Partial<JWSHeaderParameters>, key?: KeyObject | Uint8Array) => Promise<string>
}

/**
 * An app with user alice (scope read), resource server `rs` and the JWT_VERIFY_PATH extension route, plus a
 * crafting kit for access tokens: each token it makes is valid except for the defect a test puts in
 * (users-me and security/jwt tests).
 */
export async function accessTokenFixture (t: Test, password: string): Promise<AccessTokenFixture> {
  const app = await build(t, { ROUTES_DIR: JWT_VERIFY_ROUTES })
  const alice = await addUser(app, 'alice', password, { scope: 'read' })
  const rsSecret = (await addClient(app, 'rs', { grantTypes: ['client_credentials'] }))!
  const active = app.signingKeys.current().active
  const now = Math.floor(Date.now() / 1000)
  const claims = (over: JWTPayload = {}): JWTPayload => {
    const all: JWTPayload = { iss: ISSUER, sub: alice.id, aud: ISSUER, exp: now + 300, iat: now, jti: randomUUID(), client_id: 'default', scope: 'read', ...over }
    for (const name of Object.keys(all)) if (all[name] === undefined) delete all[name]
    return all
  }
  const sign = async (payload: JWTPayload, header: Partial<JWSHeaderParameters> = {}, key: KeyObject | Uint8Array = active.privateKey) => {
    const protectedHeader = { alg: 'ES256', typ: 'at+jwt', kid: active.kid, ...header } as JWSHeaderParameters
    for (const name of Object.keys(protectedHeader)) if (protectedHeader[name] === undefined) delete protectedHeader[name]
    return new SignJWT(payload).setProtectedHeader(protectedHeader as JWSHeaderParameters & { alg: string }).sign(key)
  }
  return { app, sub: alice.id, kid: active.kid, privateKey: active.privateKey, publicKey: createPublicKey(active.privateKey), rs: { authorization: basic('rs', rsSecret) }, claims, sign }
}

/** What a child process printed and how it ended. */
export interface ChildRun { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }

/** Collects a child's output until it closes; SIGKILLs it and rejects after `timeoutMs`. */
export function collectChild (child: ChildProcess, timeoutMs = 60_000): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d) => { stdout += d })
    child.stderr!.on('data', (d) => { stderr += d })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('the CLI did not finish')) }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }) })
  })
}

import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import { createLocalJWKSet, type JSONWebKeySet } from 'jose'
import { FORM, form } from './helper.js'

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
  const { date: _date, ...rest } = res.headers
  return rest
}

/**
 * Spawns `node ARGS` with exactly `env`. Under tap, child_process is wrapped to add tap's process-info
 * loader to every child's NODE_OPTIONS (for coverage, which is off here); that loader triples a CLI run's
 * start-up time, so the child is started through `env -u NODE_OPTIONS`.
 */
export function spawnNode (args: string[], env: Record<string, string>, stdio: StdioOptions = ['pipe', 'pipe', 'pipe']): ChildProcess {
  return spawn('/usr/bin/env', ['-u', 'NODE_OPTIONS', process.execPath, ...args], { env, stdio })
}

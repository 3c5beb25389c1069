import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import fp from 'fastify-plugin'
import type { Test } from 'tap'
import app from '../../app.js'
import type { AppOptions } from '../../lib/http/app-options.js'
import { loadConfig } from '../../lib/config.js'
import { serverOptions } from '../../lib/http/server-options.js'
import { FAST_HASH, FORM, form, freshDatabase, ISSUER } from './helper.js'
import { bearer, JWT_VERIFY_PATH, uniqueIp, type AccessTokenFixture } from './oauth.js'

/** The Defaults of SECURITY-CASES.md for every /token, /revoke and /introspect reply. */
export function assertNoStore (t: Test, res: LightMyRequestResponse, label = ''): void {
  const what = label ? `${label}: ` : ''
  t.equal(res.headers['cache-control'], 'no-store', `${what}Cache-Control: no-store`)
  t.equal(res.headers.pragma, 'no-cache', `${what}Pragma: no-cache`)
}

/** POST a form from an address of its own (so per-IP brute-force limits never answer). */
export function postFrom (app: FastifyInstance, url: string, fields: Record<string, string> | string, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url, headers: { ...FORM, ...headers }, payload: typeof fields === 'string' ? fields : form(fields), remoteAddress: uniqueIp() })
}

/**
 * "Reject-JWT" (SECURITY-CASES.md): /introspect answers `200 {"active":false}` and nothing else, and a
 * protected endpoint answers 401 with `WWW-Authenticate: Bearer error="invalid_token"`, through both ways
 * of checking a token: GET /users/me (fastify.authenticate) and an extension route that calls
 * `request.jwtVerify()` (@fastify/jwt, plugins/jwt.ts; the app needs ROUTES_DIR=JWT_VERIFY_ROUTES).
 */
export async function assertRejectJwt (t: Test, fx: Pick<AccessTokenFixture, 'app' | 'rs'>, token: string, label: string): Promise<void> {
  const intro = await fx.app.inject({ method: 'POST', url: '/introspect', headers: { ...FORM, ...fx.rs }, payload: form({ token }) })
  t.equal(intro.statusCode, 200, `${label}: /introspect 200`)
  t.equal(intro.body, '{"active":false}', `${label}: /introspect {"active":false} and nothing else`)
  assertNoStore(t, intro, `${label}: /introspect`)

  const me = await fx.app.inject({ method: 'GET', url: '/users/me', headers: bearer(token) })
  t.equal(me.statusCode, 401, `${label}: /users/me 401`)
  const challenge = me.headers['www-authenticate'] as string | undefined
  t.match(challenge, /^Bearer realm="gatehouse"/, `${label}: a Bearer challenge`)
  t.match(challenge, /error="invalid_token"/, `${label}: error="invalid_token"`)
  t.equal(me.json().error, 'invalid_token', `${label}: body error invalid_token`)
  t.notOk(me.body.includes('alice'), `${label}: no user data`)

  const viaJwt = await fx.app.inject({ method: 'GET', url: JWT_VERIFY_PATH, headers: bearer(token) })
  t.equal(viaJwt.statusCode, 401, `${label}: request.jwtVerify() 401`)
  t.match(viaJwt.headers['www-authenticate'], /^Bearer realm="gatehouse", error="invalid_token"/, `${label}: request.jwtVerify() error="invalid_token"`)
  t.equal(viaJwt.json().error, 'invalid_token', `${label}: request.jwtVerify() body error invalid_token`)
  t.notOk(viaJwt.body.includes('alice'), `${label}: request.jwtVerify() no user data`)
}

/** The opposite: GET /users/me and the request.jwtVerify() route both accept `token`, for the user `sub`. */
export async function assertAcceptJwt (t: Test, fx: Pick<AccessTokenFixture, 'app' | 'sub'>, token: string, label: string): Promise<void> {
  const me = await fx.app.inject({ method: 'GET', url: '/users/me', headers: bearer(token) })
  t.equal(me.statusCode, 200, `${label}: /users/me 200`)
  t.equal(me.json().sub, fx.sub, `${label}: /users/me names the user`)
  const viaJwt = await fx.app.inject({ method: 'GET', url: JWT_VERIFY_PATH, headers: bearer(token) })
  t.equal(viaJwt.statusCode, 200, `${label}: request.jwtVerify() 200`)
  t.equal(viaJwt.json().sub, fx.sub, `${label}: request.jwtVerify() sets request.user to the claims`)
}

export interface LoggedApp {
  app: FastifyInstance
  /** Everything written to the log so far. */
  output: () => string
  /** The log, one entry per line. */
  lines: () => string[]
}

/**
 * The app as server.ts builds it (serverOptions: pino with its `redact` list and request serializer,
 * LogController), on a fresh database of the test backend, logging at `debug` with ACCESS_LOG=on into a
 * captured stream instead of stdout.
 */
export async function buildLogged (t: Test, env: Record<string, string> = {}, options: Omit<AppOptions, 'env' | 'config'> = {}): Promise<LoggedApp> {
  const database = env.DATABASE_URL ? { url: env.DATABASE_URL, drop: async () => {} } : await freshDatabase(t)
  const config = loadConfig({ ISSUER, ...FAST_HASH, LOG_LEVEL: 'debug', ACCESS_LOG: 'on', ...env, DATABASE_URL: database.url })
  const chunks: string[] = []
  const opts = serverOptions(config)
  const fastify = Fastify({ ...opts, logger: { ...(opts.logger as object), stream: { write: (line: string) => { chunks.push(line) } } } })
  t.teardown(async () => {
    await fastify.close()
    await database.drop()
  })
  await fastify.register(fp(app), { ...options, config })
  await fastify.ready()
  const output = () => chunks.join('')
  return { app: fastify, output, lines: () => output().split('\n').filter((l) => l !== '') }
}

/** Every log line is one JSON object (nothing an attacker sent split or forged a line). */
export function assertJsonLines (t: Test, lines: string[], label = 'log'): Array<Record<string, unknown>> {
  const entries: Array<Record<string, unknown>> = []
  let bad = 0
  for (const line of lines) {
    try {
      const entry = JSON.parse(line)
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) bad++
      else entries.push(entry)
    } catch {
      bad++
    }
  }
  t.ok(lines.length > 0, `${label}: something was logged`)
  t.equal(bad, 0, `${label}: every one of ${lines.length} lines is one JSON object`)
  return entries
}

import type { FastifyInstance } from 'fastify'
import { request as httpRequest, Agent, type IncomingHttpHeaders } from 'node:http'
import { addClient, addUser, basic, form, FORM } from '../support/helper.js'
import { invite } from '../../lib/accounts/invitations.js'
import { addRegistrationToken } from '../../lib/admin/registration-tokens.js'
import { createClient } from '../../lib/admin/clients.js'
import { documentedErrors, pathPattern, type Operation, type Schema } from './openapi-ops.js'
import { EXCHANGE_TARGET, type FuzzRequest, type Pools } from './generators.js'

/**
 * The fuzzer's fixtures, transport and oracle: the users and clients it may use, sending a generated
 * request (in-process through `inject` or over real HTTP), and the invariants every reply must hold.
 */

export interface Reply {
  statusCode: number
  headers: IncomingHttpHeaders
  body: string
}

const USERS = [
  { username: 'alice', password: 'alice-password', scope: 'read write' },
  { username: 'bob', password: 'bob-password', scope: 'read' },
  { username: 'carol', password: 'carol-password', scope: 'read', disabled: true },
  ...Array.from({ length: 8 }, (_, i) => ({ username: `v${i}`, password: `v${i}-password`, scope: i % 2 ? 'read' : 'read write admin' }))
]

async function token (app: FastifyInstance, fields: Record<string, string>, authorization?: string): Promise<{ access_token: string, refresh_token?: string }> {
  const res = await app.inject({ method: 'POST', url: '/token', headers: { ...FORM, ...(authorization ? { authorization } : {}) }, payload: form(fields) })
  if (res.statusCode !== 200) throw new Error(`fixture token request failed: ${res.statusCode} ${res.body}`)
  return res.json()
}

/**
 * Users, clients and tokens for one app. `root` (scope admin) holds the admin token, issued to the client
 * `admin-cli` whose secret the generators never see, and `dave`'s token is issued to `me-cli` likewise:
 * nothing the fuzzer sends can revoke them, so admin routes' and /users/me's success paths stay reachable.
 */
export async function setUpFixtures (app: FastifyInstance): Promise<Pools> {
  // With addresses, so an admin's password reset (POST /admin/users/{username}/reset-password) has a success path.
  for (const u of USERS) await addUser(app, u.username, u.password, { scope: u.scope, disabled: u.disabled, email: `${u.username}@example.test` })
  await addUser(app, 'root', 'root-password', { scope: 'admin read' })
  await addUser(app, 'dave', 'dave-password', { scope: 'read' })
  const all = ['password', 'client_credentials', 'refresh_token']
  const confidential: Array<{ id: string, secret: string }> = []
  for (const [id, grantTypes, scope] of [['c1', all, null], ['c2', all, 'read'], ['cc1', ['client_credentials'], 'read'], ['rs1', ['client_credentials'], null], ['rs2', ['client_credentials'], null]] as const) {
    confidential.push({ id, secret: (await addClient(app, id, { grantTypes: [...grantTypes], scope }))! })
  }
  await addClient(app, 'p1', { isPublic: true, grantTypes: ['password', 'refresh_token'] })
  // A device (RFC 8628): /device_authorization and the device grant at /token reach their success paths.
  await addClient(app, 'tv1', { isPublic: true, grantTypes: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'] })
  // A browser app (RFC 9126): /par reaches its success path.
  await addClient(app, 'web1', { isPublic: true, grantTypes: ['authorization_code'], redirectUris: ['https://web1.test/cb'] })
  // A service that exchanges tokens (RFC 8693) for one registered resource: the exchange grant reaches its success path.
  await app.storage.resources.create({ uri: EXCHANGE_TARGET, name: 'Exchange target', scope: 'read' })
  const { secret: txSecret } = await createClient(app.storage, 'tx1', { isPublic: false, grantTypes: ['urn:ietf:params:oauth:grant-type:token-exchange', 'password'], scope: null, redirectUris: [], exchangeTargets: [EXCHANGE_TARGET] })
  confidential.push({ id: 'tx1', secret: txSecret! })
  const adminSecret = (await addClient(app, 'admin-cli', { grantTypes: ['password'] }))!
  const meSecret = (await addClient(app, 'me-cli', { grantTypes: ['password'] }))!
  const victimClients: string[] = []
  for (let i = 0; i < 6; i++) {
    const id = `vc${i}`
    const secret = await addClient(app, id, i % 2 ? { isPublic: true, grantTypes: ['password'] } : { grantTypes: ['client_credentials'] })
    if (secret) confidential.push({ id, secret })
    victimClients.push(id)
  }

  const admin = await token(app, { grant_type: 'password', username: 'root', password: 'root-password', scope: 'admin' }, basic('admin-cli', adminSecret))
  const dave = await token(app, { grant_type: 'password', username: 'dave', password: 'dave-password' }, basic('me-cli', meSecret))
  const accessTokens: string[] = []
  const refreshTokens: string[] = []
  const keep = (t: { access_token: string, refresh_token?: string }) => {
    accessTokens.push(t.access_token)
    if (t.refresh_token) refreshTokens.push(t.refresh_token)
  }
  keep(await token(app, { grant_type: 'password', username: 'alice', password: 'alice-password' }))
  keep(await token(app, { grant_type: 'password', username: 'alice', password: 'alice-password' }, basic('c1', confidential[0]!.secret)))
  keep(await token(app, { grant_type: 'password', username: 'bob', password: 'bob-password', client_id: 'p1' }))
  keep(await token(app, { grant_type: 'client_credentials' }, basic('cc1', confidential[2]!.secret)))
  keep(await token(app, { grant_type: 'password', username: 'alice', password: 'alice-password' }, basic('tx1', txSecret!)))

  // Upstream providers, each with accounts of the victim users linked (so unlinking has something to remove).
  const victimProviders: string[] = []
  const victimUsers = USERS.filter((u) => u.username.startsWith('v')).map((u) => u.username)
  for (let i = 0; i < 4; i++) {
    const name = `vp${i}`
    await app.providers.add({ name, issuer: `https://idp${i}.test`, clientId: 'gatehouse', clientSecret: 'provider-secret' })
    for (const username of victimUsers) {
      const user = await app.storage.users.findByUsername(username)
      if (user) await app.storage.identities.link({ provider: name, issuer: `https://idp${i}.test`, subject: `${username}-at-${name}`, userId: user.id, email: null, linkedAt: 0 })
    }
    victimProviders.push(name)
  }
  // Pending invitations (path parameter `id`), so revoking one has something to remove.
  const victimInvitations: string[] = []
  for (let i = 0; i < 4; i++) {
    victimInvitations.push((await invite({ storage: app.storage, send: app.mail.send, now: app.clock.now() }, { email: `vi${i}@example.test` })).id)
  }

  // Registered resources (path parameter `uri`), so removing one has something to remove.
  const victimResources: string[] = []
  for (let i = 0; i < 4; i++) victimResources.push((await app.storage.resources.create({ uri: `https://vr${i}.test/api`, name: `VR ${i}`, scope: 'vr:read' })).uri)

  // Initial access tokens (path parameter `id`), so removing one has something to remove.
  const victimRegistrationTokens: string[] = []
  for (let i = 0; i < 4; i++) victimRegistrationTokens.push((await addRegistrationToken(app.storage, app.clock, {})).id)

  return {
    users: USERS.map(({ username, password }) => ({ username, password })),
    confidential,
    publicClients: ['p1', 'vc1', 'vc3', 'vc5'],
    accessTokens,
    refreshTokens,
    adminToken: admin.access_token,
    userToken: dave.access_token,
    victimUsers: USERS.filter((u) => u.username.startsWith('v')).map((u) => u.username),
    victimClients,
    victimProviders,
    victimInvitations,
    victimResources,
    victimRegistrationTokens,
    protectedUsers: new Set(['root', 'dave', 'alice', 'bob']),
    protectedClients: new Set(['c1', 'c2', 'cc1', 'rs1', 'rs2', 'p1', 'tv1', 'tx1', 'admin-cli', 'me-cli'])
  }
}

const POOL_SIZE = 64
const remember = (list: string[], value: unknown) => {
  if (typeof value !== 'string' || list.includes(value)) return
  list.push(value)
  if (list.length > POOL_SIZE) list.shift()
}

/** Keeps what the server handed out (tokens, created users and clients) for later requests to use. */
export function harvest (pools: Pools, op: Operation, res: Reply): void {
  if (res.statusCode < 200 || res.statusCode >= 300 || !res.headers['content-type']?.startsWith('application/json')) return
  let body: Record<string, unknown>
  try { body = JSON.parse(res.body) } catch { return }
  if (op.path === '/token') {
    remember(pools.accessTokens, body.access_token)
    remember(pools.refreshTokens, body.refresh_token)
  } else if (op.id === 'POST /admin/users') {
    remember(pools.victimUsers, body.username)
  } else if (op.id === 'POST /admin/providers') {
    remember(pools.victimProviders, body.name)
  } else if (op.id === 'POST /admin/resources') {
    remember(pools.victimResources, body.uri)
  } else if (op.id === 'POST /admin/registration-tokens') {
    remember(pools.victimRegistrationTokens, body.id)
  } else if (op.id === 'POST /admin/invitations') {
    remember(pools.victimInvitations, body.id)
  } else if (op.id === 'POST /admin/clients') {
    remember(pools.victimClients, body.client_id)
    if (typeof body.client_secret === 'string' && typeof body.client_id === 'string') {
      pools.confidential.push({ id: body.client_id, secret: body.client_secret })
      if (pools.confidential.length > POOL_SIZE) pools.confidential.splice(5, 1) // the five fixture clients stay
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// transport

export async function sendInject (app: FastifyInstance, req: FuzzRequest): Promise<Reply> {
  const res = await app.inject({
    method: req.method as 'GET',
    url: req.url,
    headers: req.headers,
    ...(req.payload === undefined ? {} : { payload: req.payload }),
    remoteAddress: req.remoteAddress
  })
  return { statusCode: res.statusCode, headers: res.headers as IncomingHttpHeaders, body: res.body }
}

/** Over real HTTP (keep-alive). A socket error is returned as `error`, for the caller to judge. */
export function sendHttp (base: string, agent: Agent, req: FuzzRequest): Promise<Reply | { error: NodeJS.ErrnoException }> {
  const { hostname, port } = new URL(base)
  return new Promise((resolve) => {
    const headers: Record<string, string> = { ...req.headers }
    if (req.payload !== undefined) headers['content-length'] = String(req.payload.length)
    const outgoing = httpRequest({ host: hostname, port, method: req.method, path: req.url, headers, agent }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', (error) => resolve({ error }))
    })
    outgoing.on('error', (error) => resolve({ error }))
    outgoing.end(req.payload)
  })
}

// ---------------------------------------------------------------------------------------------------------
// oracle

const OAUTH_PATHS = new Set(['/token', '/revoke', '/introspect'])
const DOT_SEGMENT = /\/(\.|%2e){1,2}(\/|$)/i

/** Every status and `error` value the document allows for any operation (for mangled paths, which may land anywhere). */
function anyDocumented (doc: Schema, ops: Operation[]): Map<number, Set<string> | undefined> {
  const all = new Map<number, Set<string> | undefined>()
  for (const op of ops) {
    for (const [status, schema] of op.responses) {
      if (status < 400) { all.set(status, all.get(status) ?? new Set()); continue }
      const errors = documentedErrors(doc, schema)
      const known = all.has(status) ? all.get(status) : new Set<string>()
      all.set(status, errors === undefined || known === undefined ? undefined : new Set([...known, ...errors]))
    }
  }
  return all
}

export interface Oracle { check (op: Operation, req: FuzzRequest, res: Reply): string[] }

/** Node's HTTP parser refuses a request head over 16 KiB with 431 before Fastify sees it (`maxHeaderSize`). */
export const NODE_MAX_HEADER_SIZE = 16 * 1024

/** The size of the request line and headers as sent over HTTP. */
export function headSize (req: FuzzRequest): number {
  return req.method.length + req.url.length + 12 + Object.entries(req.headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0) + 64
}

/**
 * The invariants, from the OpenAPI document alone (plus RFC 6749's no-store rule for the OAuth endpoints).
 * Over real HTTP (`http: true`) a head past Node's limit may also get Node's 431, which no route sees.
 */
export function oracle (doc: Schema, ops: Operation[], { http = false } = {}): Oracle {
  const loose = anyDocumented(doc, ops)
  const methodsOf = new Map<string, string[]>()
  for (const op of ops) methodsOf.set(op.path, [...(methodsOf.get(op.path) ?? []), op.method])
  const templates = [...methodsOf.keys()].map((path) => ({ path, pattern: pathPattern(path) }))
  const htmlPaths = new Set(ops.filter((o) => o.htmlResponses.size > 0).map((o) => o.path))

  return {
    check (op, req, res) {
      const problems: string[] = []
      const status = res.statusCode
      const pathname = req.url.split('?')[0]!
      const type = String(res.headers['content-type'] ?? '')
      if (http && status === 431 && headSize(req) > NODE_MAX_HEADER_SIZE - 512) return problems
      if (status >= 500) problems.push(`status ${status} (no 5xx, not even 503: the database is up)`)

      let errors: Set<string> | undefined = new Set()
      let schema: Schema | undefined
      if (req.target === 'method') {
        // Fastify reads a sent body before it knows no route takes the method: a malformed, too large or
        // unreadable body may be refused first (400/413/415), and so may a path that does not decode (400).
        const early = status === 400 || (req.payload !== undefined && (status === 413 || status === 415))
        // A dot segment (`/admin/users/..`) is resolved by the URL parser: the path is another one, maybe none
        // (404), maybe one that serves this method (`/console/providers/x/..` is `/console/providers`: its GET answers).
        const resolved = resolvedPath(pathname)
        const dotted = DOT_SEGMENT.test(pathname) && (status === 404 ||
          templates.some((t) => t.pattern.test(resolved) && (methodsOf.get(t.path) ?? []).includes(req.method)))
        const allow = String(res.headers.allow ?? '').split(/,\s*/).sort().join(', ')
        // Every method served on the path, whichever operation serves it (/admin/users/import is also /admin/users/{username}).
        const served = new Set(templates.filter((t) => t.path === op.path || t.pattern.test(op.path)).flatMap((t) => methodsOf.get(t.path) ?? []))
        // CORS endpoints (plugins/cors.ts) answer OPTIONS themselves (preflights): 204 with an exact Allow.
        const corsAllow = String(res.headers.allow ?? '').split(/,\s*/).filter((m) => m !== 'HEAD').sort().join(', ')
        const corsOptions = req.method === 'OPTIONS' && status === 204 && corsAllow === [...served, 'OPTIONS'].sort().join(', ')
        if (status !== 405 && !early && !dotted && !corsOptions) problems.push(`${req.method} on ${op.path}: status ${status}, expected 405`)
        // …unless a dot segment made it another path (`/admin/users/./sessions` is `/admin/users/sessions`).
        if (status === 405 && !DOT_SEGMENT.test(pathname) && allow !== [...served].sort().join(', ')) problems.push(`405 Allow "${res.headers.allow}" for ${op.path}`)
        errors = new Set(dotted ? ['invalid_request', 'not_found'] : ['invalid_request'])
      } else if (req.target === 'path' || DOT_SEGMENT.test(pathname)) {
        // A path parameter of `.` or `..` is resolved by the URL parser (`/admin/users/./reset-password` is
        // `/admin/users/reset-password`): the request reaches another path, judged as a mangled one.
        const known = templates.find((t) => t.pattern.test(pathname))
        if (status === 405 && !known) problems.push('405 for a path no operation has')
        if (status !== 404 && status !== 405 && !loose.has(status)) problems.push(`status ${status} is documented for no operation`)
        errors = status === 404 || status === 405 ? undefined : loose.get(status)
        if (status === 404 || status === 405) errors = new Set(['not_found', 'invalid_request', ...(loose.get(status) ?? [])])
      } else {
        if (!op.responses.has(status)) problems.push(`status ${status} is not documented for ${op.id} (documented: ${[...op.responses.keys()].join(', ')})`)
        schema = op.responses.get(status)
        errors = status >= 400 ? documentedErrors(doc, schema) : new Set()
        // 413, or 400 when the URL was already refused before the body was looked at, or 403 for a console form sent
        // without a console session (refused before its body is read: routes/console/index.ts; the fuzzer has none).
        const refusedUnread = status === 400 || (status === 403 && op.path.startsWith('/console/'))
        if (req.oversize && status !== 413 && !refusedUnread) problems.push(`a body over the limit got ${status}, expected 413`)
      }

      // The body: JSON where JSON is documented, `error` from the documented set.
      let body: unknown
      if (type.startsWith('application/json')) {
        try { body = JSON.parse(res.body) } catch { problems.push(`invalid JSON body: ${res.body.slice(0, 120)}`) }
      } else if (type.startsWith('text/html') && ((req.target === 'op' && op.htmlResponses.has(status)) ||
          (req.target === 'path' && htmlPaths.has(templates.find((t) => t.pattern.test(pathname) || t.pattern.test(decodedPath(pathname)) || t.pattern.test(resolvedPath(pathname)))?.path ?? '')))) {
        // A browser endpoint's documented page: its security headers instead of a JSON body.
        if (res.headers['x-frame-options'] !== 'DENY' || !/frame-ancestors 'none'/.test(String(res.headers['content-security-policy'] ?? ''))) problems.push('an HTML page without its anti-framing headers')
      } else if (status >= 400) {
        problems.push(`error reply is not JSON (content-type ${type || 'none'})`)
      }
      if (status >= 400 && body !== undefined) {
        const error = (body as { error?: unknown }).error
        if (typeof error !== 'string') problems.push(`error body without a string "error": ${res.body.slice(0, 120)}`)
        else if (errors !== undefined && !errors.has(error)) problems.push(`error "${error}" is not documented for ${status} (documented: ${[...errors].join(', ') || 'none'})`)
      }
      if (status >= 200 && status < 300 && schema && body !== undefined) {
        if (schema.type === 'object') {
          const missing = (schema.required ?? []).filter((k: string) => !(body !== null && typeof body === 'object' && k in body))
          if (missing.length) problems.push(`2xx body lacks required ${missing.join(', ')}`)
        } else if (schema.type === 'array' && !Array.isArray(body)) problems.push('2xx body is not the documented array')
      }
      if (/\n\s+at .+[.:]\d+:\d+|SQLITE_|syntax error at or near|duplicate key value/.test(res.body)) problems.push(`internal detail in the body: ${res.body.slice(0, 200)}`)

      // RFC 6749 §5.1/§5.2, RFC 7009, RFC 7662: never cached, whatever the status.
      if (OAUTH_PATHS.has(pathname)) {
        if (!/\bno-store\b/.test(String(res.headers['cache-control'] ?? ''))) problems.push(`${pathname} ${status} without Cache-Control: no-store`)
        if (res.headers.pragma !== 'no-cache') problems.push(`${pathname} ${status} without Pragma: no-cache`)
        if (status === 401 && /^basic(\s|$)/i.test(req.headers.authorization ?? '') && !/^Basic realm=/.test(String(res.headers['www-authenticate'] ?? ''))) {
          problems.push('401 to a Basic-authenticated client without WWW-Authenticate: Basic')
        }
      }
      if (req.target === 'op' && op.security.some((alt) => 'bearerAuth' in alt)) {
        const challenge = String(res.headers['www-authenticate'] ?? '')
        // RFC 9449 §7.1: a token sent with the DPoP scheme is refused with the DPoP challenge, then the Bearer one (both are accepted).
        const dpop = /^dpop(\s|$)/i.test(req.headers.authorization ?? '')
        if (status === 401 && !dpop && !/^Bearer realm=/.test(challenge)) problems.push(`401 without a Bearer challenge: "${challenge}"`)
        if (status === 401 && dpop && !/^DPoP (error="[a-z_]+", error_description="[^"]*", )?algs="[^"]+", Bearer realm=/.test(challenge)) problems.push(`401 to the DPoP scheme without the DPoP and Bearer challenges: "${challenge}"`)
        if (status === 403 && !/error="insufficient_scope"/.test(challenge)) problems.push(`403 without insufficient_scope: "${challenge}"`)
      }
      return problems
    }
  }
}

/** The path a URL parser makes of `path`, dot segments resolved (`/a/b/..` is `/a/`, routed as `/a`): where the request really went. */
function resolvedPath (path: string): string {
  try { return new URL(path, 'http://fuzz.invalid').pathname.replace(/(.)\/$/, '$1') } catch { return path }
}

function decodedPath (path: string): string {
  try { return decodeURIComponent(path) } catch { return path }
}

/** A request as a replayable one-liner for failure reports and regression tests. */
export function describe (req: FuzzRequest): string {
  const payload = req.payload === undefined ? undefined : req.payload.length > 300 ? `<${req.payload.length} bytes>` : JSON.stringify(req.payload.toString('latin1'))
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, v.length > 120 ? `${v.slice(0, 120)}…(${v.length})` : v]))
  return `${req.method} ${req.url.length > 300 ? req.url.slice(0, 300) + '…' : req.url} headers=${JSON.stringify(headers)} payload=${payload} from ${req.remoteAddress} [${req.notes.join('; ')}]`
}

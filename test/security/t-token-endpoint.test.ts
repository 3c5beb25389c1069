import { REPO_ROOT } from '../support/paths.js'
import t, { type Test } from 'tap'
import net from 'node:net'
import crypto from 'node:crypto'
import { syncBuiltinESMExports } from 'node:module'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { Readable } from 'node:stream'
import Fastify from 'fastify'
import fp from 'fastify-plugin'
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import gatehouse from '../../app.js'
import { loadConfig } from '../../lib/config.js'
import { serverOptions } from '../../lib/http/server-options.js'
import { hashClientSecret, verifyClientSecret } from '../../lib/oauth/client-secrets.js'
import { addClient, addUser, basic, build, buildListening, FAST_HASH, form, FORM, freePort, freshDatabase, ISSUER } from '../support/helper.js'
import { assertOAuthError, localJwks, passwordGrant, uniqueIp } from '../support/oauth.js'
import { assertNoStore, postFrom } from '../support/security.js'

// SECURITY-CASES T1–T10: the token endpoint against bad clients (RFC 6749 §3.2, §5; RFC 9068).

const PASSWORD = 'correct horse battery staple'
const KIB64 = 64 * 1024

/** Every request from its own address: these tests are about input handling, not throttling. */
function post (payload: string, headers: Record<string, string> = FORM) {
  return { method: 'POST' as const, url: '/token', headers, payload, remoteAddress: uniqueIp() }
}

/** cc1: a confidential client with only client_credentials (scope read), and alice (scope read). */
async function setup (t: Test, env: Record<string, string> = {}) {
  const app = await build(t, env)
  await addUser(app, 'alice', PASSWORD, { scope: 'read' })
  const cc1Secret = (await addClient(app, 'cc1', { grantTypes: ['client_credentials'], scope: 'read' }))!
  return { app, cc1Secret, cc1: { authorization: basic('cc1', cc1Secret) } }
}

t.test('T1: GET /token (client_credentials with valid Basic, or password params) is 405 with Allow: POST, never a token', async (t) => {
  const { app, cc1 } = await setup(t)
  const requests = [
    { label: 'client_credentials with valid Basic', url: '/token?grant_type=client_credentials', headers: cc1 },
    { label: 'password grant in the query', url: `/token?${form({ grant_type: 'password', username: 'alice', password: PASSWORD })}`, headers: {} }
  ]
  for (const { label, url, headers } of requests) {
    for (const method of ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH'] as const) {
      const res = await app.inject({ method, url, headers })
      t.equal(res.statusCode, 405, `${method}, ${label}: 405`)
      t.equal(res.headers.allow, 'POST', `${method}, ${label}: Allow: POST`)
      assertNoStore(t, res, `${method}, ${label}`)
      t.notOk(res.body.includes('access_token'), `${method}, ${label}: no token`)
      if (method !== 'HEAD') t.equal(res.json().error, 'invalid_request', `${method}, ${label}: invalid_request`)
    }
  }
})

t.test('T2: valid parameters as JSON, multipart, text/plain or without Content-Type: 400 invalid_request, no token', async (t) => {
  const { app, cc1 } = await setup(t)
  const grants: Array<[string, Record<string, string>, Record<string, string>]> = [
    ['password grant', { grant_type: 'password', username: 'alice', password: PASSWORD }, {}],
    ['client_credentials with valid Basic', { grant_type: 'client_credentials' }, cc1]
  ]
  for (const [name, fields, auth] of grants) {
    const valid = form(fields)
    t.equal((await app.inject(post(valid, { ...FORM, ...auth }))).statusCode, 200, `${name}: form-encoded, the same parameters succeed`)

    const json = await app.inject(post(JSON.stringify(fields), { 'content-type': 'application/json', ...auth }))
    assertOAuthError(t, json, 400, 'invalid_request', undefined, `${name}: JSON body`)
    const boundary = 'gatehouseboundary'
    const multipart = Object.entries(fields).map(([key, value]) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${key}"\r\n\r\n${value}\r\n`).join('') + `--${boundary}--\r\n`
    assertOAuthError(t, await app.inject(post(multipart, { 'content-type': `multipart/form-data; boundary=${boundary}`, ...auth })), 400, 'invalid_request', undefined, `${name}: multipart body`)
    assertOAuthError(t, await app.inject(post(valid, { 'content-type': 'text/plain', ...auth })), 400, 'invalid_request', undefined, `${name}: text/plain body`)
    assertOAuthError(t, await app.inject(post(valid, { ...auth })), 400, 'invalid_request', undefined, `${name}: no Content-Type`)
    assertOAuthError(t, await app.inject(post(valid, { 'content-type': 'application/x-www-form-urlencodedx', ...auth })), 400, 'invalid_request', undefined, `${name}: a look-alike media type`)
  }
})

t.test('T3: a repeated parameter (grant_type, scope, client_id, username, code) is 400 invalid_request', async (t) => {
  const { app, cc1 } = await setup(t)
  const credentials = `username=alice&password=${encodeURIComponent(PASSWORD)}`
  for (const [name, payload, headers] of [
    ['grant_type', `grant_type=password&grant_type=client_credentials&${credentials}`, {}],
    ['grant_type', `grant_type=password&grant_type=password&${credentials}`, {}],
    ['grant_type', 'grant_type=client_credentials&grant_type=client_credentials', cc1],
    ['scope', `grant_type=password&scope=read&scope=write&${credentials}`, {}],
    ['scope', 'grant_type=client_credentials&scope=read&scope=read', cc1],
    ['username', `grant_type=password&username=bob&username=alice&password=${encodeURIComponent(PASSWORD)}`, {}],
    ['client_id', `grant_type=password&client_id=default&client_id=default&${credentials}`, {}],
    ['client_id', 'grant_type=client_credentials&client_id=cc1&client_id=cc1', cc1],
    ['code', 'grant_type=authorization_code&code=a&code=b&redirect_uri=https%3A%2F%2Fapp.test%2Fcb', cc1]
  ] as Array<[string, string, Record<string, string>]>) {
    const res = await app.inject(post(payload, { ...FORM, ...headers }))
    assertOAuthError(t, res, 400, 'invalid_request', new RegExp(`${name} is repeated`), `repeated ${name}`)
    t.notOk(res.body.includes('access_token'), 'no token')
  }
})

t.test('T4: a body over 64 KiB is 413 invalid_request within 1 s; exactly 64 KiB is served', async (t) => {
  const { app } = await setup(t)
  const body = form({ grant_type: 'password', username: 'alice', password: PASSWORD })
  const over = body + '&pad=' + 'a'.repeat(KIB64 + 1 - body.length - 5)
  t.equal(Buffer.byteLength(over), KIB64 + 1)
  let started = Date.now()
  assertOAuthError(t, await app.inject(post(over)), 413, 'invalid_request', undefined, 'body of 64 KiB + 1')
  t.ok(Date.now() - started < 1000, `refused in ${Date.now() - started} ms`)

  started = Date.now()
  const streamed = await app.inject({ ...post(''), payload: Readable.from([Buffer.from(over)]) })
  assertOAuthError(t, streamed, 413, 'invalid_request', undefined, 'body of 64 KiB + 1 without Content-Length')
  t.ok(Date.now() - started < 1000, 'refused quickly')

  const under = body + '&pad=' + 'a'.repeat(KIB64 - body.length - 5)
  t.equal(Buffer.byteLength(under), KIB64)
  t.equal((await app.inject(post(under))).statusCode, 200, 'a body of exactly 64 KiB is accepted')

  for (const url of ['/revoke', '/introspect']) {
    assertOAuthError(t, await app.inject({ ...post(over), url }), 413, 'invalid_request', undefined, `${url}: 64 KiB + 1`)
  }
})

t.test('T4: 50,000 parameters are 413 (distinct names) or 400 invalid_request (one name repeated), quickly', async (t) => {
  const { app, cc1 } = await setup(t)
  const distinct = 'grant_type=client_credentials&' + Array.from({ length: 50_000 }, (_, i) => `p${i}=1`).join('&')
  let started = Date.now()
  assertOAuthError(t, await app.inject(post(distinct, { ...FORM, ...cc1 })), 413, 'invalid_request', undefined, '50k distinct parameters')
  t.ok(Date.now() - started < 1000, `in ${Date.now() - started} ms`)

  // As many as fit under the limit: 32,000 repetitions of one name.
  const repeated = 'grant_type=client_credentials&' + 'a&'.repeat(32_000)
  t.ok(Buffer.byteLength(repeated) <= KIB64)
  started = Date.now()
  assertOAuthError(t, await app.inject(post(repeated, { ...FORM, ...cc1 })), 400, 'invalid_request', /a is repeated/, '32k repetitions of a parameter')
  t.ok(Date.now() - started < 1000, `in ${Date.now() - started} ms`)

  const fiftyK = 'grant_type=client_credentials&' + Array.from({ length: 50_000 }, () => 'a').join('&')
  assertOAuthError(t, await app.inject(post(fiftyK, { ...FORM, ...cc1 })), 413, 'invalid_request', undefined, '50k repetitions (over 64 KiB)')
})

/** Reads one raw HTTP exchange: the bytes received and how the socket ended. */
function rawExchange (socket: net.Socket) {
  let received = ''
  let error: Error | undefined
  socket.on('data', (chunk) => { received += chunk.toString('latin1') })
  socket.on('error', (err) => { error = err })
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())))
  return { received: () => received, error: () => error, closed }
}

t.test('T4: a 10 MB chunked body over a real socket is 413 and the server closes the socket cleanly', async (t) => {
  const { app, url } = await buildListening(t)
  const { port } = new URL(url)
  const socket = net.connect(Number(port), '127.0.0.1')
  await new Promise((resolve) => socket.once('connect', resolve))
  const exchange = rawExchange(socket)
  const started = Date.now()
  socket.write('POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n')
  const chunk = Buffer.alloc(64 * 1024, 'a')
  const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])
  let sent = 0
  let responseAfter: number | undefined
  while (sent < 10 * 1024 * 1024 && !socket.destroyed && socket.writable) {
    if (exchange.received().length > 0) { responseAfter ??= sent; break }
    const flushed = socket.write(frame)
    sent += chunk.length
    if (!flushed) {
      await Promise.race([
        new Promise((resolve) => socket.once('drain', resolve)),
        exchange.closed,
        new Promise((resolve) => setTimeout(resolve, 250))
      ])
    }
  }
  const closedAt = await Promise.race([exchange.closed, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 5000))])
  t.not(closedAt, -1, 'the server closed the socket (within 5 s)')
  if (closedAt === -1) socket.destroy()
  const response = exchange.received()
  t.match(response, /^HTTP\/1\.1 413 /, 'a 413 status line')
  t.match(response, /\r\nconnection: close\r\n/i, 'Connection: close: the rest of the body is not read')
  t.match(response, /\r\ncache-control: no-store\r\n/i)
  t.match(response, /\r\npragma: no-cache\r\n/i)
  const body = response.slice(response.indexOf('\r\n\r\n') + 4)
  t.equal(JSON.parse(body).error, 'invalid_request', 'a complete OAuth error body before the close')
  t.ok(closedAt - started < 1000, `answered and closed within 1 s (${closedAt - started} ms)`)
  t.ok(sent < 10 * 1024 * 1024, `the server did not wait for the whole 10 MB (${Math.round(sent / 1024)} KiB sent)`)
  const err = exchange.error() as NodeJS.ErrnoException | undefined
  t.ok(err === undefined || ['ECONNRESET', 'EPIPE'].includes(err.code ?? ''), `no error on our side other than the peer closing (${err?.code ?? 'none'})`)

  const health = await fetch(`${url}/health`)
  t.equal(health.status, 200, 'the server keeps serving')
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200)
})

t.test('T4: a lying Content-Length (100 declared, 10 sent) never blocks other requests; requestTimeout ends it', async (t) => {
  // The test app has no request timeout (Fastify's default): the dangling request waits, the server does not.
  const { app, url } = await buildListening(t)
  const cc1Secret = (await addClient(app, 'cc1', { grantTypes: ['client_credentials'] }))!
  const { port } = new URL(url)
  const dangling: net.Socket[] = []
  const exchanges = []
  for (let i = 0; i < 5; i++) {
    const socket = net.connect(Number(port), '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    exchanges.push(rawExchange(socket))
    socket.write('POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type')
    dangling.push(socket)
  }
  t.teardown(() => { for (const socket of dangling) socket.destroy() })

  const started = Date.now()
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => i % 2
    ? fetch(`${url}/health`)
    : fetch(`${url}/token`, { method: 'POST', headers: { ...FORM, authorization: basic('cc1', cc1Secret) }, body: 'grant_type=client_credentials' })))
  t.same(results.map((r) => r.status), Array(20).fill(200), 'other requests are served while 5 requests dangle')
  t.ok(Date.now() - started < 2000, `promptly (${Date.now() - started} ms)`)
  t.ok(exchanges.every((e) => e.received() === ''), 'the dangling requests are still waiting for their bodies (nothing answered yet)')

  // What ends them in production: server.ts builds Fastify with serverOptions(config), requestTimeout 30 s.
  const config = loadConfig({ ...FAST_HASH, ISSUER })
  const production = Fastify({ ...serverOptions(config), logger: false })
  t.teardown(() => production.close())
  t.equal(production.server.requestTimeout, 30_000, 'production requestTimeout is 30 s')
  // Node swaps the two when headersTimeout > requestTimeout: a request whose headers arrived would then wait
  // for headersTimeout (60 s by default) instead.
  t.ok(production.server.headersTimeout > 0 && production.server.headersTimeout <= production.server.requestTimeout,
    `headersTimeout (${production.server.headersTimeout}) ≤ requestTimeout, so the 30 s really apply to a dangling body`)

  // The same options, with the timeout shortened to 1 s (and Node's timeout sweep every 100 ms instead of 30 s).
  const database = await freshDatabase(t)
  const options = serverOptions({ ...config, databaseUrl: database.url })
  const fastify = Fastify({ ...options, logger: false, requestTimeout: 1000, http: { ...options.http, requestTimeout: 1000, connectionsCheckingInterval: 100 } })
  t.teardown(async () => { await fastify.close(); await database.drop() })
  await fastify.register(fp(gatehouse), { config: { ...config, databaseUrl: database.url, logLevel: 'silent' } })
  const shortPort = await freePort()
  await fastify.listen({ port: shortPort, host: '127.0.0.1' })
  const socket = net.connect(shortPort, '127.0.0.1')
  await new Promise((resolve) => socket.once('connect', resolve))
  const exchange = rawExchange(socket)
  const sentAt = Date.now()
  socket.write('POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type')
  const closedAt = await Promise.race([exchange.closed, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 5000))])
  socket.destroy()
  t.not(closedAt, -1, 'the socket is closed by the server')
  t.ok(closedAt - sentAt >= 900 && closedAt - sentAt < 3000, `after about requestTimeout (${closedAt - sentAt} ms)`)
  t.match(exchange.received(), /^HTTP\/1\.1 408 /, '408 Request Timeout')
})

t.test('T4: RSS stays flat over 200 oversized requests', async (t) => {
  const { app, cc1 } = await setup(t)
  const big = Buffer.alloc(1024 * 1024, 'a')
  const send = (i: number) => app.inject(i % 2
    ? { ...post(''), headers: { ...FORM, ...cc1 }, payload: big }
    : { ...post(''), headers: { ...FORM, ...cc1 }, payload: Readable.from([big.subarray(0, 512 * 1024), big.subarray(512 * 1024)]) })
  for (let i = 0; i < 20; i++) await send(i) // warm-up
  const before = process.memoryUsage().rss
  const statuses = new Set<number>()
  for (let i = 0; i < 200; i++) statuses.add((await send(i)).statusCode)
  const growth = process.memoryUsage().rss - before
  t.same([...statuses], [413], 'every one is 413')
  t.ok(growth < 50 * 1024 * 1024, `RSS grew by ${(growth / 1024 / 1024).toFixed(1)} MB (< 50 MB) over 200 MB of refused bodies`)
})

t.test('T5: grant_type missing / foo / implicit: invalid_request / unsupported_grant_type / unsupported_grant_type', async (t) => {
  const { app } = await setup(t)
  // username + password alone is the tutorial's form (the password grant); anything else needs grant_type.
  assertOAuthError(t, await app.inject(post(form({ refresh_token: 'x', scope: 'read' }))), 400, 'invalid_request', 'missing parameter: grant_type', 'missing grant_type')
  assertOAuthError(t, await app.inject(post(form({ password: PASSWORD }))), 400, 'invalid_request', 'missing parameter: grant_type', 'missing grant_type, password only')
  // RFC 6749 §3.1: a parameter without a value counts as omitted, so an empty grant_type is a missing one.
  assertOAuthError(t, await app.inject(post(form({ grant_type: '', refresh_token: 'x' }))), 400, 'invalid_request', 'missing parameter: grant_type', 'empty grant_type')
  const emptyWithPassword = await app.inject(post(form({ grant_type: '', username: 'alice', password: PASSWORD })))
  t.equal(emptyWithPassword.statusCode, 200, 'empty grant_type with username and password: the password grant, as with none at all')
  assertOAuthError(t, await app.inject(post(form({ grant_type: 'foo', username: 'alice', password: PASSWORD }))), 400, 'unsupported_grant_type', undefined, 'grant_type=foo')
  assertOAuthError(t, await app.inject(post(form({ grant_type: 'implicit', username: 'alice', password: PASSWORD }))), 400, 'unsupported_grant_type', undefined, 'grant_type=implicit')
  assertOAuthError(t, await app.inject(post(form({ grant_type: 'token', username: 'alice', password: PASSWORD }))), 400, 'unsupported_grant_type', undefined, 'grant_type=token')
})

t.test('T6: cc1 (client_credentials only) asking for password, refresh_token or authorization_code: 400 unauthorized_client', async (t) => {
  const { app, cc1 } = await setup(t)
  for (const fields of [
    { grant_type: 'password', username: 'alice', password: PASSWORD },
    { grant_type: 'refresh_token', refresh_token: 'x' },
    { grant_type: 'authorization_code', code: 'x', redirect_uri: 'https://app.test/cb' }
  ] as Array<Record<string, string>>) {
    const res = await app.inject(post(form(fields), { ...FORM, ...cc1 }))
    assertOAuthError(t, res, 400, 'unauthorized_client', undefined, fields.grant_type)
    t.notOk(res.body.includes('access_token'), 'no token')
  }
})

t.test('T7: wrong secret, unknown client, empty secret: 401 invalid_client with the Basic challenge; unknown and wrong answer alike', async (t) => {
  const { app } = await setup(t)
  const cc = form({ grant_type: 'client_credentials' })
  const wrong = await app.inject(post(cc, { ...FORM, authorization: basic('cc1', 'wrong') }))
  assertOAuthError(t, wrong, 401, 'invalid_client', undefined, 'wrong secret')
  t.equal(wrong.headers['www-authenticate'], 'Basic realm="gatehouse"')
  const unknown = await app.inject(post(cc, { ...FORM, authorization: basic('nobody', 'wrong') }))
  assertOAuthError(t, unknown, 401, 'invalid_client', undefined, 'unknown client')
  t.equal(unknown.headers['www-authenticate'], 'Basic realm="gatehouse"')
  t.equal(unknown.body, wrong.body, 'unknown client and wrong secret: identical body')
  const empty = await app.inject(post(cc, { ...FORM, authorization: basic('cc1', '') }))
  assertOAuthError(t, empty, 401, 'invalid_client', undefined, 'empty secret')
  t.equal(empty.headers['www-authenticate'], 'Basic realm="gatehouse"')
  t.equal(empty.body, wrong.body, 'empty secret: identical body')

  const postWrong = await app.inject(post(form({ grant_type: 'client_credentials', client_id: 'cc1', client_secret: 'wrong' })))
  assertOAuthError(t, postWrong, 401, 'invalid_client', undefined, 'client_secret_post, wrong secret')
  t.equal(postWrong.headers['www-authenticate'], undefined, 'no Basic challenge when Basic was not used')
  const postUnknown = await app.inject(post(form({ grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'wrong' })))
  t.equal(postUnknown.body, postWrong.body, 'client_secret_post: unknown and wrong answer alike')

  const noClient = await app.inject(post(cc))
  assertOAuthError(t, noClient, 401, 'invalid_client', undefined, 'no client at all')
  const withoutSecret = await app.inject(post(form({ grant_type: 'client_credentials', client_id: 'cc1' })))
  assertOAuthError(t, withoutSecret, 401, 'invalid_client', undefined, 'a confidential client must authenticate')
})

t.test('T8: Basic plus client_secret in the body is 400 invalid_request; malformed Basic is 401 invalid_client, never 500', async (t) => {
  const { app, cc1, cc1Secret } = await setup(t)
  const cc = { grant_type: 'client_credentials' }
  const twoMethods = await app.inject(post(form({ ...cc, client_secret: cc1Secret }), { ...FORM, ...cc1 }))
  assertOAuthError(t, twoMethods, 400, 'invalid_request', /more than one method/, 'Basic + client_secret in the body')
  const twoMethodsWithId = await app.inject(post(form({ ...cc, client_id: 'cc1', client_secret: cc1Secret }), { ...FORM, ...cc1 }))
  assertOAuthError(t, twoMethodsWithId, 400, 'invalid_request', undefined, 'Basic + client_id and client_secret in the body')
  const otherId = await app.inject(post(form({ ...cc, client_id: 'someone-else' }), { ...FORM, ...cc1 }))
  assertOAuthError(t, otherId, 400, 'invalid_request', undefined, 'Basic + another client_id in the body')

  const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64')
  for (const [label, header] of [
    ['not base64', 'Basic !!!'],
    ['no colon', `Basic ${b64('no-colon')}`],
    ['id not form-urlencoded (bad percent escape)', `Basic ${b64(`%zz:${cc1Secret}`)}`],
    ['secret not form-urlencoded (bad percent escape)', `Basic ${b64('cc1:%E0%A4%A')}`],
    ['empty id', `Basic ${b64(`:${cc1Secret}`)}`],
    ['nothing after Basic', 'Basic'],
    ['only spaces after Basic', 'Basic    '],
    ['base64 of invalid UTF-8', `Basic ${b64(Buffer.from([0xff, 0xfe, 0x3a, 0xc3]))}`],
    ['two credentials', `Basic ${b64(`cc1:${cc1Secret}`)} ${b64(`cc1:${cc1Secret}`)}`],
    ['NUL in the id', `Basic ${b64(`cc1\u0000:${cc1Secret}`)}`],
    ['a 4 KB id', `Basic ${b64(`${'x'.repeat(4096)}:${cc1Secret}`)}`]
  ] as const) {
    const res = await app.inject(post(form(cc), { ...FORM, authorization: header }))
    assertOAuthError(t, res, 401, 'invalid_client', undefined, `malformed Basic: ${label}`)
    t.equal(res.headers['www-authenticate'], 'Basic realm="gatehouse"', `${label}: the Basic challenge`)
  }
})

t.test('T8: Basic credentials are form-decoded (RFC 6749 §2.3.1, the well-formed counterpart)', async (t) => {
  const app = await build(t)
  const secret = (await addClient(app, 'svc:a.b', { grantTypes: ['client_credentials'] }))!
  const raw = 'Basic ' + Buffer.from(`svc%3Aa.b:${secret}`).toString('base64')
  const res = await postFrom(app, '/token', { grant_type: 'client_credentials' }, { authorization: raw })
  t.equal(res.statusCode, 200)
  t.equal(decodeJwt(res.json().access_token).client_id, 'svc:a.b')
})

/** Every `===`/`!==` whose operand is named like a secret, other than a presence check against undefined/null. */
function secretComparisons (source: string): string[] {
  const code = source
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\/\/[^\n]*/g, ' ')
    .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g, '""')
  const operand = String.raw`[A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*|\[[^\]\n]*\])*`
  const found: string[] = []
  for (const m of code.matchAll(new RegExp(`(${operand})?\\s*([!=]==)\\s*(${operand})?`, 'g'))) {
    const [text, left, , right] = m
    const isSecret = (name?: string) => name !== undefined && /secret/i.test(name.split(/\??\./).pop() ?? '')
    const isPresence = (name?: string) => name === 'undefined' || name === 'null'
    if ((isSecret(left) && !isPresence(right)) || (isSecret(right) && !isPresence(left))) found.push(text.trim())
  }
  return found
}

function sourceFiles (dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : []
  })
}

t.test('T9: client secrets are stored as HMAC digests and verified with timingSafeEqual on equal-length buffers', async (t) => {
  const app = await build(t)
  const secret = (await addClient(app, 'c1', { grantTypes: ['client_credentials'] }))!
  t.ok(secret.length >= 43, 'a 256-bit secret')
  const stored = (await app.storage.clients.find('c1'))!.secretHash!
  t.match(stored, /^hmac-sha256\$[A-Za-z0-9_-]{43}$/, 'the store holds hmac-sha256$<digest>')
  t.notOk(stored.includes(secret), 'not the secret itself')
  t.equal(stored, hashClientSecret(secret), 'the digest of the secret')
  t.not(hashClientSecret(secret), crypto.createHash('sha256').update(secret).digest('base64url'), 'keyed, not a bare SHA-256')

  // Spy on crypto.timingSafeEqual as client-secrets.ts sees it (its named import is a live binding).
  const real = crypto.timingSafeEqual
  const calls: Array<[number, number]> = []
  crypto.timingSafeEqual = ((a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => { calls.push([a.byteLength, b.byteLength]); return real(a, b) }) as typeof real
  syncBuiltinESMExports()
  try {
    t.equal(verifyClientSecret(secret, stored), true, 'the right secret verifies')
    t.equal(verifyClientSecret(secret.slice(0, 31) + 'x'.repeat(secret.length - 31), stored), false, 'a secret with the first 31 characters right does not')
    t.equal(verifyClientSecret('', stored), false, 'an empty secret does not')
    t.equal(verifyClientSecret('x'.repeat(500), stored), false, 'a long secret does not')
    t.equal(verifyClientSecret(secret, null), false, 'no stored digest (unknown or public client) never verifies')
  } finally {
    crypto.timingSafeEqual = real
    syncBuiltinESMExports()
  }
  t.equal(calls.length, 5, 'every verification goes through timingSafeEqual, even with no stored digest')
  t.ok(calls.every(([a, b]) => a === b && a > 0), 'always on two buffers of equal length (digests)')

  // Over HTTP: the secret authenticates, any other does not.
  t.equal((await postFrom(app, '/token', { grant_type: 'client_credentials' }, { authorization: basic('c1', secret) })).statusCode, 200)
  t.equal((await postFrom(app, '/token', { grant_type: 'client_credentials' }, { authorization: basic('c1', stored) })).statusCode, 401, 'the stored digest is not a credential')
})

t.test('T9: no source file compares a secret with === or !== (lint)', async (t) => {
  // The checker itself: it flags what it must and lets presence checks through.
  t.same(secretComparisons('if (secret === presented) x()'), ['secret === presented'])
  t.same(secretComparisons('ok = a.secretHash !== b'), ['a.secretHash !== b'])
  t.same(secretComparisons("if (body.client_secret === 'abc') x()"), ['body.client_secret ==='])
  t.same(secretComparisons('if (stored == null || client?.secretHash===hash) x()'), ['client?.secretHash===hash'])
  t.same(secretComparisons("if (body.client_secret !== undefined && secret === null) x(); const m = method === 'client_secret_basic' // secret === x"), [])

  const root = REPO_ROOT
  const files = ['lib', 'routes', 'plugins'].flatMap((dir) => sourceFiles(join(root, dir)))
  t.ok(files.length > 20, `${files.length} source files checked`)
  t.ok(files.some((f) => f.endsWith(join('oauth', 'client-secrets.ts'))), 'including lib/oauth/client-secrets.ts')
  for (const file of files) {
    t.same(secretComparisons(readFileSync(file, 'utf8')), [], `${relative(root, file)}: no ===/!== on a secret`)
  }
})

t.test('T10: every /token reply and the /introspect 200 carry no-store; 200 replies and access tokens have the RFC shape', async (t) => {
  const { app, cc1 } = await setup(t)
  const web = { authorization: basic('web', (await addClient(app, 'web', { grantTypes: ['password', 'refresh_token'] }))!) }
  const rs = { authorization: basic('rs', (await addClient(app, 'rs', { grantTypes: ['client_credentials'] }))!) }
  const jwks = await localJwks(app)

  const password = await postFrom(app, '/token', { grant_type: 'password', username: 'alice', password: PASSWORD }, web)
  const clientCredentials = await postFrom(app, '/token', { grant_type: 'client_credentials' }, cc1)
  const refresh = await postFrom(app, '/token', { grant_type: 'refresh_token', refresh_token: password.json().refresh_token }, web)
  for (const [name, res, sub, clientId] of [['password', password, undefined, 'web'], ['client_credentials', clientCredentials, 'cc1', 'cc1'], ['refresh_token', refresh, undefined, 'web']] as const) {
    t.equal(res.statusCode, 200, `${name}: 200`)
    t.match(res.headers['content-type'], /^application\/json\b/)
    assertNoStore(t, res, name)
    const body = res.json()
    t.equal(body.token_type, 'Bearer', `${name}: token_type Bearer`)
    t.equal(body.expires_in, 900, `${name}: expires_in`)
    t.equal(typeof body.refresh_token, name === 'client_credentials' ? 'undefined' : 'string', `${name}: ${name === 'client_credentials' ? 'no' : 'a'} refresh_token`)
    t.same(Object.keys(body).filter((k) => !['access_token', 'token_type', 'expires_in', 'scope', 'refresh_token'].includes(k)), [], `${name}: nothing else in the reply`)
    const { payload, protectedHeader } = await jwtVerify(body.access_token, jwks, { issuer: ISSUER, audience: ISSUER, typ: 'at+jwt', algorithms: ['ES256'] })
    t.equal(protectedHeader.typ, 'at+jwt', `${name}: typ at+jwt`)
    t.equal(decodeProtectedHeader(body.access_token).typ, 'at+jwt')
    for (const claim of ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti']) t.ok(payload[claim] !== undefined, `${name}: claim ${claim}`)
    t.equal(payload.client_id, clientId)
    if (sub) t.equal(payload.sub, sub)
    t.equal(payload.exp! - payload.iat!, 900)
  }

  const errors: Array<[string, Promise<import('fastify').LightMyRequestResponse>, number, string]> = [
    ['invalid_request', app.inject(post(form({ scope: 'read' }))), 400, 'invalid_request'],
    ['unsupported_grant_type', app.inject(post(form({ grant_type: 'foo' }))), 400, 'unsupported_grant_type'],
    ['invalid_grant', app.inject(post(form({ grant_type: 'password', username: 'alice', password: 'wrong' }))), 400, 'invalid_grant'],
    ['invalid_scope', app.inject(post(form({ grant_type: 'client_credentials', scope: 'admin' }), { ...FORM, ...cc1 })), 400, 'invalid_scope'],
    ['unauthorized_client', app.inject(post(form({ grant_type: 'password', username: 'alice', password: PASSWORD }), { ...FORM, ...cc1 })), 400, 'unauthorized_client'],
    ['invalid_client (Basic)', app.inject(post(form({ grant_type: 'client_credentials' }), { ...FORM, authorization: basic('cc1', 'x') })), 401, 'invalid_client'],
    ['invalid_client (post)', app.inject(post(form({ grant_type: 'client_credentials', client_id: 'cc1', client_secret: 'x' }))), 401, 'invalid_client'],
    ['invalid_request (JSON)', app.inject(post('{}', { 'content-type': 'application/json' })), 400, 'invalid_request'],
    ['413', app.inject(post('a='.padEnd(KIB64 + 1, 'a'))), 413, 'invalid_request']
  ]
  for (const [name, pending, status, error] of errors) assertOAuthError(t, await pending, status, error, undefined, name)

  // 429: the brute-force limit.
  for (let i = 0; i < 10; i++) await app.inject(post(form({ grant_type: 'password', username: 'mallory', password: 'x' })))
  const throttled = await app.inject(post(form({ grant_type: 'password', username: 'mallory', password: 'x' })))
  assertOAuthError(t, throttled, 429, 'too_many_requests', undefined, '429')

  const intro = await postFrom(app, '/introspect', { token: password.json().access_token }, rs)
  t.equal(intro.statusCode, 200)
  t.equal(intro.json().active, true)
  assertNoStore(t, intro, '/introspect 200 active')
  const inactive = await postFrom(app, '/introspect', { token: 'nope' }, rs)
  assertNoStore(t, inactive, '/introspect 200 inactive')
})

t.test('T10: password grant success: RFC 6749 §5.1 reply and an RFC 9068 access token', async (t) => {
  const app = await build(t)
  const alice = await addUser(app, 'alice', PASSWORD, { scope: 'read write items:read' })
  const before = Math.floor(Date.now() / 1000)
  const res = await app.inject(post(form({ grant_type: 'password', username: 'alice', password: PASSWORD })))
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json\b/)
  t.equal(res.headers['cache-control'], 'no-store')
  t.equal(res.headers.pragma, 'no-cache')
  const body = res.json()
  t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type'])
  t.equal(body.token_type, 'Bearer')
  t.equal(body.expires_in, 900, 'expires_in = ACCESS_TOKEN_TTL (default 900)')
  t.equal(body.scope, 'read write items:read', 'no scope requested: every scope of the user')
  t.type(body.refresh_token, 'string', 'the default client gets a refresh token')
  t.ok(body.refresh_token.length >= 32, 'the refresh token is long enough to be unguessable')
  t.not(body.refresh_token, body.access_token)

  const header = decodeProtectedHeader(body.access_token)
  t.equal(header.typ, 'at+jwt')
  t.equal(header.alg, 'ES256')
  const jwksRes = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  t.ok(jwksRes.json().keys.some((k: { kid: string }) => k.kid === header.kid), 'the kid is in the JWKS')

  const { payload, protectedHeader } = await jwtVerify(body.access_token, await localJwks(app), {
    issuer: ISSUER, audience: ISSUER, typ: 'at+jwt', algorithms: ['ES256']
  })
  t.equal(protectedHeader.typ, 'at+jwt')
  t.equal(payload.iss, ISSUER)
  t.equal(payload.sub, alice.id, 'sub is the user id')
  t.equal(payload.aud, ISSUER, 'aud is a string: AUDIENCE (defaults to the issuer)')
  t.type(payload.aud, 'string')
  t.equal(payload.client_id, 'default')
  t.equal(payload.scope, 'read write items:read')
  t.type(payload.jti, 'string')
  t.ok((payload.jti as string).length >= 16, 'jti is unique-looking')
  t.type(payload.iat, 'number')
  t.ok(payload.iat! >= before - 1 && payload.iat! <= Math.floor(Date.now() / 1000) + 1, 'iat is now')
  t.equal(payload.exp! - payload.iat!, 900, 'exp = iat + ACCESS_TOKEN_TTL')
  // Beyond the contract: grant_id, and the private claims that let admin changes reach issued tokens (README,
  // *What admin changes do to issued tokens*): nothing personal (no username, no email).
  const allowed = ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id', 'scope', 'grant_id', 'sub_kind', 'cred_ver', 'client_gen']
  t.same(Object.keys(payload).filter((k) => !allowed.includes(k)), [], 'no claims beyond the contract (and grant_id, sub_kind, cred_ver, client_gen)')
  t.equal(payload.sub_kind, 'user', 'marked as a user\'s token')
  t.equal(payload.cred_ver, 0, 'the credential version it was issued under')
  t.notOk('client_gen' in payload, 'the built-in client has no generation')
  t.notOk('nbf' in payload && (payload.nbf as number) > payload.iat!, 'no nbf in the future')

  const second = await passwordGrant(t, app, 'alice', PASSWORD)
  t.not(second.access_token, body.access_token, 'a new token every time')
  t.not((await jwtVerify(second.access_token, await localJwks(app))).payload.jti, payload.jti, 'a new jti every time')
})

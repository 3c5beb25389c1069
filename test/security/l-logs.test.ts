import t, { type Test } from 'tap'
import type { InjectOptions } from 'fastify'
import { addClient, addUser, basic, form, FORM, testBackend } from '../support/helper.js'
import { bearer, uniqueIp } from '../support/oauth.js'
import { assertJsonLines, buildLogged } from '../support/security.js'

// SECURITY-CASES L1–L2: what reaches the log. The app is built as server.ts builds it (serverOptions:
// pino with its redact list and request serializer), at debug level with ACCESS_LOG=on.

/** Fragments of a secret that must not appear in the log: the whole value, and every 16-character window. */
function fragments (secret: string): string[] {
  // A JWT's header is the same for every token of a key (alg, typ, kid): only its payload and signature are secret.
  const parts = /^[\w-]+\.[\w-]+\.[\w-]+$/.test(secret) && secret.startsWith('eyJ') ? secret.split('.').slice(1) : [secret]
  const out = [secret]
  for (const part of parts) {
    if (part.length <= 16) out.push(part)
    for (let i = 0; i + 16 <= part.length; i += 8) out.push(part.slice(i, i + 16))
  }
  return out
}

function assertNoSecrets (t: Test, output: string, secrets: Record<string, string>) {
  let checked = 0
  for (const [name, secret] of Object.entries(secrets)) {
    t.ok(secret.length >= 8, `${name} is a real secret (${secret.length} characters)`)
    const leaked = fragments(secret).filter((f) => output.includes(f))
    checked++
    t.same(leaked, [], `${name}: 0 hits in the log`)
  }
  return checked
}

t.test('L1: every flow at debug level with the access log on: no password, secret, token, Authorization or Cookie value in the log', async (t) => {
  const { app, lines, output } = await buildLogged(t)
  const secrets: Record<string, string> = {}
  const remember = (name: string, value: string | undefined) => {
    if (typeof value !== 'string') throw new Error(`${name} is missing`)
    secrets[name] = value
    return value
  }
  const send = (options: InjectOptions) => app.inject({ remoteAddress: uniqueIp(), ...options })
  const postForm = (url: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    send({ method: 'POST', url, headers: { ...FORM, ...headers }, payload: form(fields) })

  const alicePw = remember('alice password', 'alice-Secret-Passw0rd-4711')
  const rootPw = remember('root password', 'root-Secret-Passw0rd-0815')
  await addUser(app, 'alice', alicePw, { scope: 'read write' })
  await addUser(app, 'root', rootPw, { scope: 'admin' })
  const webSecret = remember('web client secret', await addClient(app, 'web', { grantTypes: ['password', 'refresh_token'] }))
  const svcSecret = remember('svc client secret', await addClient(app, 'svc', { grantTypes: ['client_credentials'], scope: 'read' }))
  const rsSecret = remember('rs client secret', await addClient(app, 'rs', { grantTypes: ['client_credentials'] }))
  const web = { authorization: remember('web Authorization header', basic('web', webSecret)) }
  remember('web Basic credentials', web.authorization.slice(6))
  const rs = { authorization: remember('rs Authorization header', basic('rs', rsSecret)) }
  const cookie = remember('cookie value', 'sess-7c1f0b9e2d4a4c8fa1b2c3d4e5f60718')
  const withCookie = { cookie: `session=${cookie}; theme=dark` }
  const saw = (res: { statusCode: number, body: string }, status: number, what: string) => t.equal(res.statusCode, status, `${what}: ${status}`)

  // Password grant (Basic), refresh, reuse of a spent refresh token (logged as a warning).
  const login = await postForm('/token', { grant_type: 'password', username: 'alice', password: alicePw, scope: 'read write' }, { ...web, ...withCookie })
  saw(login, 200, 'password grant')
  const at1 = remember('access token 1', login.json().access_token)
  const rt1 = remember('refresh token 1', login.json().refresh_token)
  const refreshed = await postForm('/token', { grant_type: 'refresh_token', refresh_token: rt1 }, web)
  saw(refreshed, 200, 'refresh')
  remember('access token 2', refreshed.json().access_token)
  const rt2 = remember('refresh token 2', refreshed.json().refresh_token)
  saw(await postForm('/token', { grant_type: 'refresh_token', refresh_token: rt1 }, web), 400, 'refresh token reuse')
  saw(await postForm('/token', { grant_type: 'refresh_token', refresh_token: rt2 }, web), 400, 'descendant of a reused token')

  // The default client (no client authentication), and the tutorial form without grant_type.
  const tutorial = await postForm('/token', { username: 'alice', password: alicePw })
  saw(tutorial, 200, 'tutorial form')
  const at3 = remember('access token 3', tutorial.json().access_token)
  const rt3 = remember('refresh token 3', tutorial.json().refresh_token)

  // client_credentials with client_secret_basic and client_secret_post.
  const ccBasic = await postForm('/token', { grant_type: 'client_credentials' }, { authorization: remember('svc Authorization header', basic('svc', svcSecret)) })
  saw(ccBasic, 200, 'client_credentials (Basic)')
  const ccToken = remember('client_credentials token (Basic)', ccBasic.json().access_token)
  const ccPost = await postForm('/token', { grant_type: 'client_credentials', client_id: 'svc', client_secret: svcSecret })
  saw(ccPost, 200, 'client_credentials (post)')
  const ccToken2 = remember('client_credentials token (post)', ccPost.json().access_token)

  // Introspection (Basic and post), revocation, the protected resource.
  saw(await postForm('/introspect', { token: at3 }, rs), 200, 'introspect (Basic)')
  saw(await postForm('/introspect', { token: rt3, token_type_hint: 'refresh_token', client_id: 'rs', client_secret: rsSecret }), 200, 'introspect (post)')
  saw(await send({ method: 'GET', url: '/users/me', headers: { ...bearer(at3), ...withCookie } }), 200, '/users/me')
  saw(await postForm('/revoke', { token: ccToken }, { authorization: basic('svc', svcSecret) }), 200, 'revoke an access token')
  saw(await postForm('/revoke', { token: rt3, token_type_hint: 'refresh_token', client_id: 'default' }), 200, 'revoke a refresh token')
  saw(await send({ method: 'GET', url: '/users/me', headers: bearer(at3) }), 401, '/users/me with a revoked token')

  // Administration: create a user with a password, change it, create a client, rotate its secret.
  const adminLogin = await postForm('/token', { grant_type: 'password', username: 'root', password: rootPw, scope: 'admin' })
  const admin = bearer(remember('admin access token', adminLogin.json().access_token))
  const carolPw = remember('carol password (admin API)', 'carol-Secret-Passw0rd-1234')
  saw(await send({ method: 'POST', url: '/admin/users', headers: admin, payload: { username: 'carol', password: carolPw, scope: 'read' } }), 201, 'admin: create a user')
  const carolPw2 = remember('carol new password (admin API)', 'carol-Secret-Passw0rd-5678')
  saw(await send({ method: 'PATCH', url: '/admin/users/carol', headers: admin, payload: { password: carolPw2 } }), 200, 'admin: change a password')
  const created = await send({ method: 'POST', url: '/admin/clients', headers: admin, payload: { client_id: 'svc2', grant_types: ['client_credentials'] } })
  saw(created, 201, 'admin: create a client')
  remember('svc2 client secret (admin API)', created.json().client_secret)
  const rotated = await send({ method: 'PATCH', url: '/admin/clients/svc2', headers: admin, payload: { rotate_secret: true } })
  saw(rotated, 200, 'admin: rotate a secret')
  remember('svc2 rotated secret (admin API)', rotated.json().client_secret)
  saw(await postForm('/token', { grant_type: 'password', username: 'carol', password: carolPw2 }), 200, 'carol signs in')
  // A malformed JSON body that carries a password.
  const brokenPw = remember('password in a malformed JSON body', 'broken-Secret-Passw0rd-9999')
  saw(await send({ method: 'POST', url: '/admin/users', headers: { ...admin, 'content-type': 'application/json' }, payload: `{"username":"dave","password":"${brokenPw}"` }), 400, 'admin: malformed JSON')
  saw(await send({ method: 'POST', url: '/admin/users', headers: admin, payload: { username: 'Not Valid', password: brokenPw } }), 400, 'admin: invalid user with a password')

  // Failures: wrong passwords, unknown users, wrong secrets (Basic and post), throttling.
  const wrongPw = remember('a wrong password', 'wrong-Guess-Passw0rd-2468')
  saw(await postForm('/token', { grant_type: 'password', username: 'alice', password: wrongPw }, web), 400, 'wrong password')
  saw(await postForm('/token', { grant_type: 'password', username: 'nobody', password: wrongPw }), 400, 'unknown user')
  const wrongSecret = remember('a wrong client secret', 'wrong-client-secret-1357924680abcdef')
  saw(await postForm('/token', { grant_type: 'client_credentials' }, { authorization: remember('wrong Basic header', basic('svc', wrongSecret)) }), 401, 'wrong secret (Basic)')
  saw(await postForm('/token', { grant_type: 'client_credentials', client_id: 'svc', client_secret: wrongSecret }), 401, 'wrong secret (post)')
  saw(await postForm('/introspect', { token: at1 }, { authorization: basic('rs', wrongSecret) }), 401, 'introspect with a wrong secret')
  saw(await postForm('/token', { grant_type: 'client_credentials', client_secret: svcSecret }, { authorization: basic('svc', svcSecret) }), 400, 'two client authentication methods')
  for (let i = 0; i < 11; i++) await send({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'password', username: 'alice', password: `${wrongPw}-${i}` }), remoteAddress: '192.0.2.77' })

  // Malformed Authorization headers that carry secrets.
  const garbled = remember('malformed Basic value', `!!${webSecret}!!`)
  saw(await postForm('/token', { grant_type: 'client_credentials' }, { authorization: `Basic ${garbled}` }), 401, 'malformed Basic')
  saw(await postForm('/token', { grant_type: 'client_credentials' }, { authorization: `Basic ${Buffer.from(`svc${svcSecret}`).toString('base64')}` }), 401, 'Basic without a colon')
  saw(await send({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${at1} ${at1}` } }), 401, 'two bearer tokens')
  saw(await send({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${at1}\u0000` } }), 401, 'a bearer token with a NUL')
  saw(await send({ method: 'GET', url: '/users/me', headers: { authorization: `Token ${ccToken2}` } }), 401, 'an unknown scheme')

  // Tokens and secrets in the query string (never a credential here, but the URL is logged).
  saw(await send({ method: 'GET', url: `/users/me?access_token=${ccToken2}`, headers: withCookie }), 401, 'a token in the query')
  saw(await send({ method: 'GET', url: `/token?${form({ grant_type: 'password', username: 'alice', password: alicePw, client_secret: webSecret })}` }), 405, 'GET /token with secrets in the query')
  saw(await send({ method: 'POST', url: `/token?${form({ password: alicePw, refresh_token: rt2 })}`, headers: FORM, payload: form({ grant_type: 'client_credentials', client_id: 'svc', client_secret: svcSecret }) }), 200, 'POST /token with secrets in the query')
  saw(await send({ method: 'GET', url: `/no/such/page?access_token=${ccToken2}&code=x` }), 404, 'an unknown path with a token in the query')

  // Authorization-code parameters (the grant does not exist yet: unsupported_grant_type), in body and query.
  const code = remember('authorization code', 'code-6f1d2c3b4a5e6f708192a3b4c5d6e7f8')
  const verifier = remember('code_verifier', 'verifier-dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')
  saw(await postForm(`/token?code=${code}`, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: 'https://app.test/cb' }, web), 400, 'authorization_code')

  const entries = assertJsonLines(t, lines(), 'L1 log')
  t.ok(entries.length >= 60, `the access log saw the flows (${entries.length} lines)`)
  t.ok(entries.some((e) => e.msg === 'incoming request'), 'access log on: incoming requests are logged')
  t.ok(entries.some((e) => String(e.msg).includes('reused')), 'the refresh-token reuse warning is logged')
  t.ok(entries.some((e) => Number(e.level) === 20 || Number(e.level) === 30), 'debug/info lines present')
  const checked = assertNoSecrets(t, output(), secrets)
  t.ok(checked >= 25, `${checked} secrets checked`)
  if (process.env.GATEHOUSE_DUMP_LOG) process.stderr.write(output())

  // Controls: the redact list works on what code might log, and the search does find a secret that is logged.
  app.log.info({ password: alicePw, client_secret: webSecret, refresh_token: rt1, access_token: at1, code, code_verifier: verifier }, 'redaction probe')
  app.log.info({ req: { method: 'GET', url: `/x?access_token=${at1}`, headers: { authorization: web.authorization, cookie: withCookie.cookie } } }, 'request probe')
  t.same(Object.entries(secrets).filter(([, secret]) => fragments(secret).some((f) => output().includes(f))).map(([name]) => name), [], 'redacted and serialized away')
  app.log.info({ note: `unredacted ${alicePw}` }, 'leak probe')
  t.ok(fragments(alicePw).some((f) => output().includes(f)), 'control: a logged password is found by the search')
})

async function corrupt (databaseUrl: string, sql: { sqlite: string[], postgres: string[] }): Promise<void> {
  if (testBackend === 'sqlite') {
    const { default: Database } = await import('better-sqlite3')
    const db = new Database(databaseUrl.slice('sqlite:'.length))
    try { for (const statement of sql.sqlite) db.exec(statement) } finally { db.close() }
  } else {
    const { default: pg } = await import('pg')
    const client = new pg.Client({ connectionString: databaseUrl })
    await client.connect()
    try { for (const statement of sql.postgres) await client.query(statement) } finally { await client.end() }
  }
}

/** A 500 from an OAuth endpoint: generic server_error JSON, no-store, no stack, no SQL, no store detail. */
function assertGenericServerError (t: Test, res: { statusCode: number, headers: Record<string, unknown>, body: string }, label: string) {
  t.equal(res.statusCode, 500, `${label}: 500`)
  t.match(res.headers['content-type'], /^application\/json\b/, `${label}: JSON`)
  t.same(JSON.parse(res.body), { error: 'server_error', error_description: 'an unexpected error occurred' }, `${label}: the generic body`)
  t.equal(res.headers['cache-control'], 'no-store', `${label}: no-store`)
  t.notMatch(res.body, /\s{4}at |SELECT|INSERT|grant_types|sqlite|postgres|JSON\.parse|Unexpected token|SyntaxError|TypeError/i, `${label}: no stack, no SQL, no detail`)
}

t.test('L2: a corrupt client row makes the token endpoint answer a generic 500; the log stays one JSON line per entry', async (t) => {
  const { app, lines, output } = await buildLogged(t)
  const databaseUrl = app.config.databaseUrl
  const secret = (await addClient(app, 'cc1', { grantTypes: ['client_credentials'] }))!
  const other = (await addClient(app, 'cc2', { grantTypes: ['client_credentials'] }))!
  // Invalid JSON in clients.grant_types (PostgreSQL's jsonb cannot hold that: the column becomes text first),
  // and valid JSON of the wrong shape in another row.
  await corrupt(databaseUrl, {
    sqlite: ["UPDATE clients SET grant_types = '[\"client_credentials\"' WHERE id = 'cc1'", "UPDATE clients SET grant_types = '{\"a\":1}' WHERE id = 'cc2'"],
    postgres: ['ALTER TABLE clients ALTER COLUMN grant_types TYPE text USING grant_types::text', "UPDATE clients SET grant_types = '[\"client_credentials\"' WHERE id = 'cc1'", "UPDATE clients SET grant_types = '{\"a\":1}' WHERE id = 'cc2'"]
  })

  const before = lines().length
  const broken = await app.inject({ method: 'POST', url: '/token', headers: { ...FORM, authorization: basic('cc1', secret) }, payload: form({ grant_type: 'client_credentials' }), remoteAddress: uniqueIp() })
  assertGenericServerError(t, broken, 'invalid JSON in the client row')
  t.equal(broken.headers.pragma, 'no-cache')
  const shape = await app.inject({ method: 'POST', url: '/token', headers: { ...FORM, authorization: basic('cc2', other) }, payload: form({ grant_type: 'client_credentials' }), remoteAddress: uniqueIp() })
  assertGenericServerError(t, shape, 'a client row of the wrong shape')
  const introspect = await app.inject({ method: 'POST', url: '/introspect', headers: { ...FORM, authorization: basic('cc1', secret) }, payload: form({ token: 'x' }), remoteAddress: uniqueIp() })
  assertGenericServerError(t, introspect, '/introspect with the corrupt client')

  const entries = assertJsonLines(t, lines().slice(before), 'L2 log')
  const errors = entries.filter((e) => Number(e.level) === 50)
  t.ok(errors.length >= 3, `each fault is logged as an error (${errors.length})`)
  t.ok(errors.every((e) => typeof (e.err as { stack?: unknown } | undefined)?.stack === 'string'), 'with its stack, inside the JSON entry (for the operator)')
  t.notOk(output().includes(secret), 'the client secret is not in the log')
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200, 'the server keeps serving')
})

t.test('L2: a store fault carrying SQL text: generic 500, the SQL only in the log', async (t) => {
  const { app, lines } = await buildLogged(t)
  const secret = (await addClient(app, 'cc1', { grantTypes: ['client_credentials'] }))!
  const find = app.storage.clients.find.bind(app.storage.clients)
  app.storage.clients.find = async () => { throw Object.assign(new Error('SQLITE_CORRUPT: database disk image is malformed in SELECT * FROM clients WHERE id = ?'), { code: 'SQLITE_CORRUPT' }) }
  t.teardown(() => { app.storage.clients.find = find })
  const before = lines().length
  const res = await app.inject({ method: 'POST', url: '/token', headers: { ...FORM, authorization: basic('cc1', secret) }, payload: form({ grant_type: 'client_credentials' }), remoteAddress: uniqueIp() })
  assertGenericServerError(t, res, 'store fault')
  t.notMatch(res.body, /CORRUPT|malformed|clients/i, 'nothing of the fault in the body')
  const entries = assertJsonLines(t, lines().slice(before), 'L2 log')
  t.ok(entries.some((e) => Number(e.level) === 50 && JSON.stringify(e).includes('SQLITE_CORRUPT')), 'the detail is in the log, as one JSON entry')
})

if (testBackend === 'postgres') {
  t.test('L2: the database down: 503 temporarily_unavailable (generic JSON, Retry-After), log lines stay JSON', async (t) => {
    const { startTcpProxy } = await import('../support/tcp-proxy.js')
    const { createTestSchema, testDatabaseUrl } = await import('../support/pg-schema.js')
    const schema = await createTestSchema()
    const target = new URL(testDatabaseUrl)
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
    const viaProxy = new URL(schema.url)
    viaProxy.host = `127.0.0.1:${proxy.port}`
    t.teardown(async () => { await proxy.stop().catch(() => {}); await schema.drop() })
    const { app, lines } = await buildLogged(t, { DATABASE_URL: viaProxy.toString() })
    const secret = (await addClient(app, 'cc1', { grantTypes: ['client_credentials'] }))!
    await addUser(app, 'alice', 'alice-pw')
    await proxy.stop()
    const before = lines().length
    for (const [label, payload, headers] of [
      ['client_credentials', form({ grant_type: 'client_credentials' }), { authorization: basic('cc1', secret) }],
      ['password grant', form({ grant_type: 'password', username: 'alice', password: 'alice-pw' }), {}]
    ] as const) {
      const started = Date.now()
      const res = await app.inject({ method: 'POST', url: '/token', headers: { ...FORM, ...headers }, payload, remoteAddress: uniqueIp() })
      t.equal(res.statusCode, 503, `${label}: 503`)
      t.ok(Date.now() - started < 2000, `${label}: within 2 s`)
      t.equal(res.json().error, 'temporarily_unavailable')
      t.equal(res.headers['retry-after'], '2')
      t.equal(res.headers['cache-control'], 'no-store')
      t.notMatch(res.body, /\s{4}at |ECONN|SELECT|postgres|terminat/i, `${label}: nothing of the fault in the body`)
    }
    assertJsonLines(t, lines().slice(before), 'L2 log (database down)')
  })
}

t.test('L2: a username with CR/LF and a forged JSON log entry: every log line stays one valid JSON object', async (t) => {
  const { app, lines, output } = await buildLogged(t)
  await addUser(app, 'alice', 'alice-pw')
  const forged = '{"level":60,"time":1,"msg":"forged entry","pid":1}'
  const hostile = [`x\r\n${forged}`, `x\n${forged}\n`, `x\r${forged}`, `x\u2028${forged}`, `x\u0000\n${forged}`, `x\u001b[31mred\u001b[0m\n${forged}`]
  // Labels by index: U+2028 or an escape sequence in a test name would garble tap's own output.
  for (const [i, username] of hostile.entries()) {
    const res = await app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'password', username, password: 'x' }), remoteAddress: uniqueIp() })
    t.equal(res.statusCode, 400, `hostile username #${i}: 400`)
    t.equal(res.json().error, 'invalid_grant', `hostile username #${i}: invalid_grant`)
  }
  // The same in a URL path and in headers that a request log might show.
  await app.inject({ method: 'GET', url: `/admin/users/${encodeURIComponent(`x\r\n${forged}`)}`, headers: { 'user-agent': `ua\r\n${forged}`.replace(/[\r\n]/g, ' ') } })
  await app.inject({ method: 'GET', url: `/users/me?q=${encodeURIComponent(`\r\n${forged}`)}` })
  // Enough failures for alice from one address to be throttled (another code path that logs nothing about the name).
  for (let i = 0; i < 12; i++) await app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'password', username: `x\n${forged}`, password: 'x' }), remoteAddress: uniqueIp() })

  const entries = assertJsonLines(t, lines(), 'log')
  t.notOk(entries.some((e) => e.msg === 'forged entry'), 'no forged entry was parsed out of the log')
  t.notOk(entries.some((e) => Number(e.level) >= 50), 'nothing was logged as an error')
  t.notOk(output().split('\n').some((line) => line.startsWith('{"level":60')), 'no line begins with the forged entry')
})

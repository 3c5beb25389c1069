import { GATEHOUSE_BIN } from '../../support/paths.js'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { hash as argon2Hash } from '@node-rs/argon2'
import { hash as bcryptHash } from '@node-rs/bcrypt'
import { pbkdf2Sync } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { addUser, build, buildListening, FAST_HASH, form, FORM, sharedDatabaseUrl, testBackend } from '../../support/helper.js'
import { assertOAuthError, collectChild as collect, spawnNode, uniqueIp, type ChildRun as Run } from '../../support/oauth.js'
import { buildLogged } from '../../support/security.js'
import { StoreUnavailableError } from '../../../lib/errors.js'

/**
 * Issue 22 for imports: hashes beyond what a sign-in may spend are refused at import (CLI and admin API) and
 * never run at sign-in (22.5); an import that stops part-way (a body over the limit, the database lost) says
 * how many lines are in and where to resume, and resuming there finishes it (22.12). On SQLite, and on
 * PostgreSQL (test/postgres/list.ts), where the database is lost through a TCP proxy.
 */

function cli (args: string[], databaseUrl: string, input?: string): Promise<Run> {
  const child = spawnNode([GATEHOUSE_BIN, ...args], { PATH: process.env.PATH ?? '', ...FAST_HASH, DATABASE_URL: databaseUrl })
  const done = collect(child)
  child.stdin!.end(input)
  return done
}

const line = (fields: Record<string, unknown>) => JSON.stringify(fields)
const django = (password: string, iterations: number) => {
  const salt = 'Fq3xGy8bLr2Vt9ZpQs4mHc'
  return `pbkdf2_sha256$${iterations}$${salt}$${pbkdf2Sync(password, salt, iterations, 32, 'sha256').toString('base64')}`
}
/** A real hash with its cost parameter raised: well-formed, and a verify would run the raised cost. */
const raised = async () => ({
  bcrypt16: (await bcryptHash('pw', 4)).replace(/^\$2b\$04\$/, '$2b$16$'),
  pbkdf2e8: django('pw', 1000).replace('$1000$', '$100000000$'),
  argon2m4g: (await argon2Hash('pw', { algorithm: 2, memoryCost: 64, timeCost: 1 })).replace('m=64,t=1,p=1', 'm=4194304,t=50,p=1'),
  // Beyond the bounds by time (m × t), yet small enough to run at all: 256 MiB filled 64 times, seconds of one core.
  argon2t64: (await argon2Hash('pw', { algorithm: 2, memoryCost: 64, timeCost: 1 })).replace('m=64,t=1,p=1', 'm=262144,t=64,p=1')
})

async function signIn (app: FastifyInstance, username: string, password: string) {
  return app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'password', username, password }), remoteAddress: uniqueIp() })
}

async function adminToken (app: FastifyInstance): Promise<string> {
  await addUser(app, 'root', 'root-pw', { scope: 'admin' })
  return (await signIn(app, 'root', 'root-pw')).json().access_token as string
}

async function until (what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

/** A streamed POST /admin/users/import over a real socket: write the body as you like, then read the answer. */
function streamImport (url: string, token: string) {
  const { port } = new URL(url)
  // A connection of its own (no keep-alive agent), so the app's close does not wait for a pooled socket.
  const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/admin/users/import', agent: false, headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}` } })
  req.on('error', () => {}) // the server may answer and close before the body ends (413)
  const reply = new Promise<{ status: number, headers: Record<string, unknown>, body: Record<string, unknown> }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = ''
      res.on('data', (d) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(body) }))
    })
    req.on('error', reject)
  })
  return { req, reply }
}

const users = (from: number, n: number, hash: string) => Array.from({ length: n }, (_, i) => line({ username: `r${String(from + i).padStart(5, '0')}`, password_hash: hash }) + '\n')

t.test(`22.5: hashes costlier than a sign-in may spend are rejected with their line, by the CLI and the admin API; in-bounds ones are imported and sign in (${testBackend})`, async (t) => {
  const databaseUrl = await sharedDatabaseUrl(t)
  const app = await build(t, { DATABASE_URL: databaseUrl })
  const costly = await raised()
  const inBounds = [
    { password: 'pw-bcrypt12', hash: await bcryptHash('pw-bcrypt12', 12) },
    { password: 'pw-django', hash: django('pw-django', 1_200_000) },
    { password: 'pw-pwdlib', hash: await argon2Hash('pw-pwdlib', { algorithm: 2, memoryCost: 65536, timeCost: 3, parallelism: 4 }) }
  ]
  const file = (prefix: string) => [
    line({ username: `${prefix}bcrypt12`, password_hash: inBounds[0]!.hash }),
    line({ username: `${prefix}bcrypt16`, password_hash: costly.bcrypt16 }),
    line({ username: `${prefix}django`, password_hash: inBounds[1]!.hash }),
    line({ username: `${prefix}pbkdf2`, password_hash: costly.pbkdf2e8 }),
    line({ username: `${prefix}pwdlib`, password_hash: inBounds[2]!.hash }),
    line({ username: `${prefix}argon2`, password_hash: costly.argon2m4g })
  ].join('\n') + '\n'
  const expected = [
    { line: 2, reason: /^password_hash: bcrypt cost 16 is above 13, more than a sign-in may spend/ },
    { line: 4, reason: /^password_hash: PBKDF2-SHA256 iterations 100000000 are above \d+ for a 32-byte key/ },
    { line: 6, reason: /^password_hash: argon2 memory 4194304 KiB is above 262144 KiB/ }
  ]

  const run = await cli(['users', 'import', '-'], databaseUrl, file('cli-'))
  t.equal(run.code, 0, `the CLI: exit 0 ${run.stderr}`)
  const summary = JSON.parse(run.stdout)
  t.match(summary, { imported: 3, rejected_count: 3, rejected: expected, committed_lines: 6, resume_from_line: null }, 'the CLI: each costly line rejected with its number and why')
  t.equal(summary.rejected.length, 3)

  const token = await adminToken(app)
  const res = await app.inject({ method: 'POST', url: '/admin/users/import', headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}` }, payload: file('api-') })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { imported: 3, rejected_count: 3, rejected: expected }, 'the admin API: the same lines, the same reasons')

  for (const prefix of ['cli-', 'api-']) {
    for (const name of ['bcrypt16', 'pbkdf2', 'argon2']) t.equal(await app.users.findByUsername(prefix + name), undefined, `${prefix}${name}: not imported`)
    for (const [i, name] of ['bcrypt12', 'django', 'pwdlib'].entries()) {
      t.equal((await signIn(app, prefix + name, inBounds[i]!.password)).statusCode, 200, `${prefix}${name}: imported, signs in with its password`)
    }
  }
})

t.test(`22.5: a stored hash beyond the bounds (one stored before them) is never run: the sign-in fails at once and a login_hash_refused event says why (${testBackend})`, async (t) => {
  const { app, lines } = await buildLogged(t)
  const costly = await raised()
  // Written to the store directly, as an import before the bounds would have: nothing checks it on the way in.
  await app.users.importBatch([{ username: 'legacy16', passwordHash: costly.bcrypt16 }, { username: 'legacy-t64', passwordHash: costly.argon2t64 }], { update: false })
  for (const username of ['legacy16', 'legacy-t64']) {
    const started = performance.now()
    assertOAuthError(t, await signIn(app, username, 'pw'), 400, 'invalid_grant', 'invalid username or password', `${username}: the ordinary failure`)
    const took = performance.now() - started
    // A cost-16 bcrypt or that argon2 takes seconds here: the dummy hash (m=64 KiB) a few ms.
    t.ok(took < 1500, `${username}: answered without running the hash (${took.toFixed(0)} ms)`)
  }
  const started = performance.now()
  assertOAuthError(t, await signIn(app, 'nobody', 'pw'), 400, 'invalid_grant', 'invalid username or password', 'an unknown user')
  t.ok(performance.now() - started < 1500, 'an unknown user\'s failure afterwards is not padded to a costly hash')
  const events = lines().map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.event === 'login_hash_refused')
  t.equal(events.length, 2, 'one login_hash_refused event per refused sign-in')
  t.match(events[0], { level: 40, reason: /^bcrypt cost 16 is above 13/, user: /^[\w-]{12}$/ }, 'at warn, with the reason and the user as a digest')
  t.match(events[1], { reason: /^argon2 cost m=262144,t=64 is above m × t = 2097152/ })
  t.notOk(JSON.stringify(events).includes('legacy16'), 'no username in the event')
  const metrics = await app.inject({ method: 'GET', url: '/metrics' })
  t.match(metrics.body, /^gatehouse_security_events_total\{type="login_hash_refused"\} 2$/m, 'counted in /metrics')
})

t.test(`22.12: a body over the limit part-way: the 413 says how many lines are in and where to resume; sending the rest from there finishes it (${testBackend})`, async (t) => {
  const { app, url } = await buildListening(t, { IMPORT_MAX_BYTES: '100000' })
  const token = await adminToken(app)
  const hash = await bcryptHash('pw', 4)
  // ~117 KB: past the limit after one or two batches of 500 (as the body's chunks fall), and what is left fits.
  const all = users(0, 1300, hash)
  const first = streamImport(url, token)
  let sent = 0
  const writer = setInterval(() => { if (sent < all.length) first.req.write(all.slice(sent, sent += 100).join('')) }, 5)
  const cut = await first.reply
  clearInterval(writer)
  first.req.destroy()
  t.equal(cut.status, 413)
  t.match(cut.body, { error: 'invalid_request', error_description: /larger than 100000 bytes/ })
  const committed = cut.body.committed_lines as number
  t.ok(committed > 0 && committed % 500 === 0, `whole batches are in: committed_lines ${committed}`)
  t.equal(cut.body.resume_from_line, committed + 1, 'resume_from_line: the next line')
  t.match(cut.body, { imported: committed, updated: 0, skipped: 0, rejected: [], rejected_count: 0 }, 'the counts of what is in')
  t.equal(await app.users.count(), committed + 1, 'exactly those lines are in (and root)')
  t.ok(await app.users.findByUsername(JSON.parse(all[committed - 1]!).username), `line ${committed} is in`)
  t.equal(await app.users.findByUsername(JSON.parse(all[committed]!).username), undefined, `line ${committed + 1} is not`)

  const rest = streamImport(url, token)
  rest.req.end(all.slice(committed).join(''))
  const done = await rest.reply
  t.equal(done.status, 200, 'the lines from resume_from_line, sent again')
  t.match(done.body, { imported: all.length - committed, skipped: 0, rejected_count: 0, committed_lines: all.length - committed, resume_from_line: null })
  t.equal(await app.users.count(), all.length + 1, 'every line once')
})

t.test(`22.12: the database lost mid-import: 503 with the lines committed and where to resume; resuming finishes it (${testBackend})`, async (t) => {
  // PostgreSQL: the app reaches its database through a TCP proxy that is stopped between two batches. SQLite is
  // embedded (no connection to lose): its store refuses the second batch as an unreachable database would.
  let lose: () => Promise<void>
  let regain: () => Promise<void>
  let env: Record<string, string> = {}
  if (testBackend === 'postgres') {
    const { createProxiedTestSchema } = await import('../../support/pg-schema.js')
    const schema = await createProxiedTestSchema()
    t.teardown(schema.drop)
    env = { DATABASE_URL: schema.url }
    lose = () => schema.proxy.stop()
    regain = () => schema.proxy.start()
  }
  const { app, url } = await buildListening(t, env)
  const token = await adminToken(app)
  if (testBackend === 'sqlite') {
    const importBatch = app.storage.users.importBatch.bind(app.storage.users)
    let down = false
    app.storage.users.importBatch = async (batch, options) => { if (down) throw new StoreUnavailableError(); return importBatch(batch, options) }
    lose = async () => { down = true }
    regain = async () => { down = false }
  }
  const hash = await bcryptHash('pw', 4)
  const all = users(0, 1100, hash)
  const stream = streamImport(url, token)
  stream.req.write(all.slice(0, 600).join(''))
  await until('the first batch of 500', async () => (await app.users.count()) === 501)
  await lose!()
  stream.req.end(all.slice(600).join(''))
  const lost = await stream.reply
  t.equal(lost.status, 503, 'the next batch: 503')
  t.equal(lost.headers['retry-after'], '2')
  t.match(lost.body, { error: 'temporarily_unavailable', committed_lines: 500, resume_from_line: 501, imported: 500, rejected_count: 0 }, 'the first batch is in; resume from line 501')
  t.notMatch(JSON.stringify(lost.body), /ECONN|postgres|terminat|SELECT/i, 'nothing of the fault in the answer')

  await regain!()
  await until('the database back', async () => { await app.users.count(); return true })
  const rest = streamImport(url, token)
  rest.req.end(all.slice(500).join(''))
  const done = await rest.reply
  t.equal(done.status, 200, 'the lines from resume_from_line, sent again')
  t.match(done.body, { imported: 600, skipped: 0, committed_lines: 600, resume_from_line: null }, 'nothing skipped, nothing lost')
  t.equal(await app.users.count(), 1101, 'every line once (and root)')
})

t.test('22.12: the CLI says where to resume when the database is lost part-way (PostgreSQL, through a TCP proxy)', { skip: testBackend !== 'postgres' && 'SQLite is embedded: no connection to lose (the Ctrl-C case of user-import.test.ts gives the CLI\'s resume line on both)' }, async (t) => {
  const { createProxiedTestSchema } = await import('../../support/pg-schema.js')
  const schema = await createProxiedTestSchema()
  t.teardown(schema.drop)
  const app = await build(t, { DATABASE_URL: schema.directUrl })
  const hash = await bcryptHash('pw', 4)
  const all = users(0, 1000, hash)
  const child = spawnNode([GATEHOUSE_BIN, 'users', 'import', '-', '--batch-size', '100'], { PATH: process.env.PATH ?? '', ...FAST_HASH, DATABASE_URL: schema.url })
  const done = collect(child)
  child.stdin!.on('error', () => {})
  child.stdin!.write(all.slice(0, 250).join(''))
  await until('two batches', async () => (await app.users.count()) === 200)
  await schema.proxy.stop()
  child.stdin!.end(all.slice(250).join(''))
  const run = await done
  t.equal(run.code, 1, 'exit 1')
  t.equal(run.stdout, '', 'no summary')
  t.match(run.stderr, /^gatehouse: [^\n]*committed_lines 200, resume_from_line 201[^\n]*\n$/, `one line that says where to resume: ${run.stderr.trim()}`)
  t.equal(await app.users.count(), 200)
  await schema.proxy.start()
  const again = await cli(['users', 'import', '-'], schema.url, all.slice(200).join(''))
  t.equal(again.code, 0, again.stderr)
  t.match(JSON.parse(again.stdout), { imported: 800, skipped: 0, committed_lines: 800, resume_from_line: null })
  t.equal(await app.users.count(), 1000)
})

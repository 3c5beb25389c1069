import { GATEHOUSE_BIN } from '../../support/paths.js'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { hash as argon2Hash } from '@node-rs/argon2'
import { hash as bcryptHash } from '@node-rs/bcrypt'
import { pbkdf2Sync, randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { addClient, addUser, basic, build, buildListening, FAST_HASH, form, FORM, freshDatabase, testBackend } from '../../support/helper.js'
import { assertOAuthError, collectChild as collect, spawnNode, uniqueIp, type ChildRun as Run } from '../../support/oauth.js'
import { InjectBrowser, REDIRECT, callbackParams, field, webRequest } from '../../support/browser.js'
import type { User } from '../../../lib/stores/types.js'

/**
 * Issue 15's acceptance: users of every accepted hash format imported from a file (with broken lines among
 * them) sign in with their own password and no other, and hold Gatehouse's argon2id after their first
 * sign-in; a second import skips everything; an import killed halfway and run again ends with every user
 * exactly once; export then import into a fresh database gives the same users and hashes. Then the admin
 * API's import, and the protections (enumeration, brute force) for imported hashes. On SQLite, and on
 * PostgreSQL (test/postgres/list.ts).
 */

// dist/test → bin/gatehouse.js at the repository root, as `npx gatehouse` runs it.
const BIN = GATEHOUSE_BIN
/** Gatehouse's own hashes in these tests: FAST_HASH's parameters. */
const GATEHOUSE_HASH = /^\$argon2id\$v=19\$m=64,t=1,p=1\$/

/** Runs the CLI to the end, `input` on its stdin. */
function cli (args: string[], databaseUrl: string, input?: string | Buffer): Promise<Run> {
  const child = spawnNode([BIN, ...args], { PATH: process.env.PATH ?? '', ...FAST_HASH, DATABASE_URL: databaseUrl })
  const done = collect(child)
  child.stdin!.end(input)
  return done
}

function summaryOf (t: Test, run: Run, label: string): { imported: number, updated: number, skipped: number, rejected: Array<{ line: number, reason: string }>, rejected_count: number, committed_lines: number, resume_from_line: number | null } {
  t.equal(run.code, 0, `${label}: exit 0 ${run.stderr.slice(0, 300)}`)
  return JSON.parse(run.stdout)
}

/** An app on a fresh database of the test backend, with the database's URL for the CLI. */
async function setup (t: Test): Promise<{ app: FastifyInstance, url: string }> {
  const database = await freshDatabase(t)
  const app = await build(t, { DATABASE_URL: database.url })
  t.teardown(async () => { await app.close(); await database.drop() })
  return { app, url: database.url }
}

function tempFile (t: Test, name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-import-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const passlib = (password: string, rounds: number) => {
  const salt = Buffer.from('0123456789abcdef')
  const ab64 = (b: Buffer) => b.toString('base64').replace(/\+/g, '.').replace(/=+$/, '')
  return `$pbkdf2-sha256$${rounds}$${ab64(salt)}$${ab64(pbkdf2Sync(password, salt, rounds, 32, 'sha256'))}`
}
const django = (password: string, iterations: number) => {
  const salt = 'Fq3xGy8bLr2Vt9ZpQs4mHc'
  return `pbkdf2_sha256$${iterations}$${salt}$${pbkdf2Sync(password, salt, iterations, 32, 'sha256').toString('base64')}`
}

/** A user of every accepted format (each with a password of its own), in the file's order. */
async function everyFormat (app: FastifyInstance): Promise<Array<{ username: string, password: string, hash: string, own?: boolean }>> {
  const bcrypt = await bcryptHash('pw-bcrypt', 4)
  return [
    { username: 'bcrypt-2b', password: 'pw-bcrypt', hash: bcrypt },
    { username: 'bcrypt-2a', password: 'pw-bcrypt', hash: bcrypt.replace(/^\$2b\$/, '$2a$') },
    { username: 'bcrypt-2y', password: 'pw-bcrypt', hash: bcrypt.replace(/^\$2b\$/, '$2y$') },
    { username: 'argon2id', password: 'pw argon2id ✓', hash: await argon2Hash('pw argon2id ✓', { algorithm: 2, memoryCost: 256, timeCost: 2, parallelism: 1 }) },
    { username: 'argon2i', password: 'pw-argon2i', hash: await argon2Hash('pw-argon2i', { algorithm: 1, memoryCost: 128, timeCost: 1, parallelism: 1 }) },
    { username: 'passlib', password: 'pw-passlib', hash: passlib('pw-passlib', 2000) },
    { username: 'django', password: 'pw-django', hash: django('pw-django', 3000) },
    { username: 'own', password: 'pw-own', hash: await app.passwords.hash('pw-own'), own: true }
  ]
}

const line = (fields: Record<string, unknown>) => JSON.stringify(fields)

async function signIn (app: FastifyInstance, username: string, password: string) {
  return app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'password', username, password }), remoteAddress: uniqueIp() })
}

/** The rehash after a sign-in is not awaited by the grant: wait for it (a few ms), up to 5 s. */
async function hashAfterSignIn (app: FastifyInstance, username: string, before: string): Promise<string | null | undefined> {
  const until = Date.now() + 5000
  let user = await app.users.findByUsername(username)
  while (user?.passwordHash === before && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    user = await app.users.findByUsername(username)
  }
  return user?.passwordHash
}

async function allUsers (app: FastifyInstance): Promise<User[]> {
  const users: User[] = []
  for (let page = await app.users.listAfter(null, 1000); page.length > 0; page = await app.users.listAfter(page[page.length - 1]!.username, 1000)) users.push(...page)
  return users
}

t.test(`a file of every format and broken lines: each user signs in with its password only, and moves to argon2id (${testBackend})`, async (t) => {
  const { app, url } = await setup(t)
  const users = await everyFormat(app)
  const lines = [
    ...users.slice(0, 4).map((u) => line({ username: u.username, password_hash: u.hash, full_name: `User ${u.username}`, email: `${u.username}@example.test` })),
    'this is not JSON', // 5
    line({ password_hash: users[0]!.hash }), // 6
    line({ username: 'nohash' }), // 7
    line({ username: 'md5', password_hash: '$1$saltsalt$qjXMvbEw8oaL.CzflDugX/' }), // 8
    '', // 9: blank, ignored
    ...users.slice(4).map((u) => line({ username: u.username, password_hash: u.hash, scope: 'read  write read' })), // 10-13
    line({ username: 'Upper', password_hash: users[0]!.hash }), // 14
    line({ username: 'bcrypt-2b', password_hash: users[5]!.hash }), // 15: again in this file
    line({ username: 'mail', password_hash: users[0]!.hash, email: 'not-an-email' }), // 16
    line({ username: 'role', password_hash: users[0]!.hash, role: 'admin' }), // 17
    '["a", "list"]', // 18
    line({ username: 'sso-only', password_hash: null, disabled: true, sub: '7d3f2a8c-1b4e-4c6d-9e0f-123456789abc' }), // 19
    line({ username: 'nul', password_hash: users[0]!.hash, full_name: 'a\u0000b' }), // 20
    line({ username: 'badsub', password_hash: users[0]!.hash, sub: 'not-a-uuid' }) // 21
  ]
  const file = tempFile(t, 'users.jsonl', lines.join('\r\n') + '\r\n')
  const expectedRejections = [
    { line: 5, reason: 'not valid JSON' },
    { line: 6, reason: 'missing username' },
    { line: 7, reason: 'missing password_hash' },
    { line: 8, reason: /^password_hash: unknown hash format/ },
    { line: 14, reason: /^username: must match/ },
    { line: 15, reason: 'username: given on an earlier line too' },
    { line: 16, reason: 'email: not an email address' },
    { line: 17, reason: 'unknown field "role"' },
    { line: 18, reason: 'not a JSON object' },
    { line: 20, reason: /^full name: .*NUL/ },
    { line: 21, reason: 'sub: must be a lowercase UUID' }
  ]

  const first = summaryOf(t, await cli(['users', 'import', file], url), 'import')
  t.equal(first.imported, users.length + 1, 'every format imported, and the user without a password')
  t.equal(first.skipped, 0)
  t.equal(first.rejected_count, expectedRejections.length)
  t.match(first.rejected, expectedRejections, 'each broken line rejected with its number and reason')
  t.equal(first.rejected.length, expectedRejections.length, 'and no other line')
  t.notOk(JSON.stringify(first.rejected).includes('$1$saltsalt'), 'no reason quotes a hash')
  t.equal(await app.users.findByUsername('mail'), undefined, 'a rejected line leaves nothing behind (no half-imported user)')
  t.equal(await app.users.findByUsername('nul'), undefined)

  for (const u of users) {
    const stored = await app.users.findByUsername(u.username)
    t.equal(stored?.passwordHash, u.hash, `${u.username}: the hash is stored as it came`)
    assertOAuthError(t, await signIn(app, u.username, u.password + 'x'), 400, 'invalid_grant', 'invalid username or password', `${u.username}: a wrong password`)
    assertOAuthError(t, await signIn(app, u.username, u.password.toUpperCase()), 400, 'invalid_grant', undefined, `${u.username}: another wrong one`)
    t.equal(await hashAfterSignIn(app, u.username, 'no change'), u.hash, `${u.username}: failures change nothing`)
    const ok = await signIn(app, u.username, u.password)
    t.equal(ok.statusCode, 200, `${u.username}: signs in with its own password`)
    const after = await hashAfterSignIn(app, u.username, u.hash)
    if (u.own) t.equal(after, u.hash, `${u.username}: Gatehouse's own hash at today's parameters is kept`)
    else t.match(after, GATEHOUSE_HASH, `${u.username}: the hash is Gatehouse's argon2id after the first sign-in`)
    t.equal((await signIn(app, u.username, u.password)).statusCode, 200, `${u.username}: and signs in with it`)
    assertOAuthError(t, await signIn(app, u.username, u.password + 'x'), 400, 'invalid_grant', undefined, `${u.username}: a wrong password still fails`)
  }
  t.match(await app.users.findByUsername('bcrypt-2b'), { fullName: 'User bcrypt-2b', email: 'bcrypt-2b@example.test', scope: '', disabled: false })
  t.match(await app.users.findByUsername('passlib'), { scope: 'read write', fullName: null }, 'scopes normalised as the admin API does')
  t.match(await app.users.findByUsername('sso-only'), { id: '7d3f2a8c-1b4e-4c6d-9e0f-123456789abc', passwordHash: null, disabled: true }, 'sub kept')
  assertOAuthError(t, await signIn(app, 'sso-only', 'anything'), 400, 'invalid_grant', 'invalid username or password', 'no password, no sign-in')

  const second = summaryOf(t, await cli(['users', 'import', '-'], url, lines.join('\n')), 'the same file again, from stdin')
  t.same({ ...second, rejected: second.rejected.length }, { imported: 0, updated: 0, skipped: users.length + 1, rejected: expectedRejections.length, rejected_count: expectedRejections.length, committed_lines: lines.length, resume_from_line: null },
    'a second import skips everything')
  t.match(await app.users.findByUsername('bcrypt-2b'), { passwordHash: GATEHOUSE_HASH }, 'and overwrites nothing (the upgraded hash stays)')
  t.equal(await app.users.count(), users.length + 1)
})

t.test(`an import killed halfway, then run again, ends with every user exactly once (${testBackend})`, async (t) => {
  const { app, url } = await setup(t)
  const hash = await bcryptHash('pw', 4)
  const total = 40_000
  const all = Array.from({ length: total }, (_, i) => line({ username: `u${String(i).padStart(5, '0')}`, password_hash: hash, full_name: `User ${i}` }))
  const file = tempFile(t, 'many.jsonl', all.join('\n') + '\n')

  // Fed through stdin (500 lines every 50 ms, then 100 every 100 ms for the last 5,000), so the import is
  // certainly mid-stream when it is killed: after some batches, and for the Ctrl-C once it has printed a
  // line of counts (one a second here), whatever the machine's load.
  for (const signal of ['SIGKILL', 'SIGINT'] as const) {
    const before = await app.users.count()
    const child = spawnNode([BIN, 'users', 'import', '-', '--batch-size', '250', '--progress-interval', '1'], { PATH: process.env.PATH ?? '', ...FAST_HASH, DATABASE_URL: url })
    const done = collect(child)
    let stderr = ''
    child.stderr!.on('data', (d) => { stderr += d })
    child.stdin!.on('error', () => {}) // the pipe breaks when the child dies
    let fed = 0
    let tick = 0
    const feeder = setInterval(() => {
      tick++
      const trickle = fed >= total - 5000
      if (fed >= total - 100 || (trickle && tick % 2 === 1)) return // never the end: the import must not finish
      const n = trickle ? 100 : 500
      child.stdin!.write(all.slice(fed, fed + n).join('\n') + '\n')
      fed += n
    }, 50)
    const started = Date.now()
    const ready = async () => (await app.users.count()) >= before + 3000 && (signal === 'SIGKILL' || /^gatehouse: import: /m.test(stderr))
    while (!(await ready()) && Date.now() - started < 60_000) await new Promise((resolve) => setTimeout(resolve, 15))
    child.kill(signal)
    const run = await done
    clearInterval(feeder)
    const count = await app.users.count()
    t.ok(count > before && count < total, `${signal} halfway: ${count} of ${total} users in (fed ${fed} lines)`)
    t.equal(count % 250, 0, `${signal}: only whole batches (${count})`)
    if (signal === 'SIGKILL') t.equal(run.signal, 'SIGKILL', 'killed')
    else {
      t.equal(run.code, 1, 'Ctrl-C: exit 1')
      t.equal(run.stdout, '', 'no summary')
      t.match(run.stderr, /gatehouse: interrupted after line \d+ .*run the same import again to finish it\n$/, 'says where it stopped and how to go on')
      // 22.12: and where to resume: every line before resume_from_line is in, the line itself is not.
      const where = /committed_lines (\d+), resume_from_line (\d+)/.exec(run.stderr)
      t.ok(where, `committed_lines and resume_from_line on stderr: ${run.stderr.split('\n').at(-2)}`)
      const committed = Number(where?.[1])
      t.equal(Number(where?.[2]), committed + 1)
      t.ok(await app.users.findByUsername(JSON.parse(all[committed - 1]!).username), `line ${committed} is in the database`)
      t.equal(await app.users.findByUsername(JSON.parse(all[committed]!).username), undefined, `line ${committed + 1} is not`)
      t.match(run.stderr, /^gatehouse: import: \d+ lines read, \d+ imported, 0 updated, \d+ skipped, 0 rejected, \d+ lines\/s\n/m,
        'plain periodic counts on a stderr that is no terminal')
    }
  }

  const resumed = summaryOf(t, await cli(['users', 'import', file], url), 'run again')
  t.equal(resumed.imported + resumed.skipped, total, `${resumed.imported} imported and ${resumed.skipped} skipped: every line accounted for`)
  t.equal(resumed.rejected_count, 0)
  const users = await allUsers(app)
  t.equal(users.length, total, 'every user once')
  t.same(users.map((u) => u.username), all.map((l) => JSON.parse(l).username), 'exactly the users of the file, in order')
  t.ok(users.every((u, i) => u.passwordHash === hash && u.fullName === `User ${i}`), 'each whole')
})

t.test(`export, then import into a fresh database: the same users and hashes (${testBackend})`, async (t) => {
  const { app, url } = await setup(t)
  const users = await everyFormat(app)
  const file = tempFile(t, 'users.jsonl', users.map((u, i) => line({ username: u.username, password_hash: u.hash, email: i % 2 ? `${u.username}@example.test` : null, scope: i % 3 ? 'read' : '', disabled: i === 2 })).join('\n'))
  summaryOf(t, await cli(['users', 'import', file], url), 'import')
  await addUser(app, 'native', 'pw-native', { fullName: 'Native N', scope: 'admin read' })
  await app.users.create({ username: 'nopassword', passwordHash: null, fullName: 'Ünïcødé "quoted" \\ name' })
  t.equal((await signIn(app, 'django', 'pw-django')).statusCode, 200)
  await hashAfterSignIn(app, 'django', users.find((u) => u.username === 'django')!.hash)

  const exported = await cli(['users', 'export'], url)
  t.equal(exported.code, 0, 'export: exit 0')
  t.equal(exported.stderr, '')
  const exportedLines = exported.stdout.trimEnd().split('\n')
  t.equal(exportedLines.length, users.length + 2, 'one line per user')
  t.same(Object.keys(JSON.parse(exportedLines[0]!)), ['username', 'password_hash', 'full_name', 'email', 'scope', 'disabled', 'sub'])

  const target = await freshDatabase(t)
  t.teardown(() => target.drop())
  const again = summaryOf(t, await cli(['users', 'import', '-'], target.url, exported.stdout), 'import into the fresh database')
  t.same(again, { imported: users.length + 2, updated: 0, skipped: 0, rejected: [], rejected_count: 0, committed_lines: users.length + 2, resume_from_line: null })
  const copy = await build(t, { DATABASE_URL: target.url })
  const strip = (u: User) => ({ id: u.id, username: u.username, passwordHash: u.passwordHash, fullName: u.fullName, email: u.email, scope: u.scope, disabled: u.disabled })
  t.same((await allUsers(copy)).map(strip), (await allUsers(app)).map(strip), 'the same users, ids and hashes')
  const reExported = await cli(['users', 'export'], target.url)
  t.equal(reExported.stdout, exported.stdout, 'exporting the copy gives the same bytes')
  t.equal((await signIn(copy, 'native', 'pw-native')).statusCode, 200, 'a user signs in on the new instance')
  t.equal((await signIn(copy, 'passlib', 'pw-passlib')).statusCode, 200, 'an imported one too')
})

t.test(`POST /admin/users/import: the same import for operators without a shell (${testBackend})`, async (t) => {
  const { app } = await setup(t)
  await addUser(app, 'root', 'root-pw', { scope: 'admin' })
  await addUser(app, 'plain', 'plain-pw')
  const token = async (username: string, password: string) => (await signIn(app, username, password)).json().access_token as string
  const admin = { authorization: `Bearer ${await token('root', 'root-pw')}` }
  const users = await everyFormat(app)
  const body = users.map((u) => line({ username: u.username, password_hash: u.hash })).concat(['{"username": "broken"', line({ username: 'Upper', password_hash: null })]).join('\n')
  const post = (payload: string, headers: Record<string, string> = admin, query = '') =>
    app.inject({ method: 'POST', url: `/admin/users/import${query}`, headers: { 'content-type': 'application/x-ndjson', ...headers }, payload })

  const none = await post(body, {})
  t.equal(none.statusCode, 401, 'no token: 401')
  t.equal(await app.users.findByUsername('bcrypt-2b'), undefined, 'and nothing imported')
  const plain = await post(body, { authorization: `Bearer ${await token('plain', 'plain-pw')}` })
  t.equal(plain.statusCode, 403, 'no admin scope: 403')
  t.match(plain.headers['www-authenticate'], /insufficient_scope/)

  const res = await post(body)
  t.equal(res.statusCode, 200)
  t.same(res.json(), {
    imported: users.length,
    updated: 0,
    skipped: 0,
    rejected: [{ line: users.length + 1, reason: 'not valid JSON' }, { line: users.length + 2, reason: res.json().rejected[1]?.reason }],
    rejected_count: 2,
    committed_lines: users.length + 2,
    resume_from_line: null
  })
  t.match(res.json().rejected[1].reason, /^username: must match/)
  t.equal((await signIn(app, 'argon2i', 'pw-argon2i')).statusCode, 200, 'an imported user signs in')
  t.same((await post(body, admin, '?update=false')).json().skipped, users.length, 'again: every user skipped')
  const asJsonl = await post(line({ username: 'jsonl', password_hash: null }), { ...admin, 'content-type': 'application/jsonl' })
  t.equal(asJsonl.json().imported, 1, 'application/jsonl is read too')

  const wrongType = await app.inject({ method: 'POST', url: '/admin/users/import', headers: { ...admin, 'content-type': 'application/json' }, payload: line({ username: 'x', password_hash: null }) })
  t.equal(wrongType.statusCode, 415, 'JSON is not JSON Lines: 415')
  t.equal(wrongType.json().error, 'invalid_request')
  const noBody = await app.inject({ method: 'POST', url: '/admin/users/import', headers: admin })
  t.equal(noBody.statusCode, 400, 'no body: 400')

  // --update: new values, and a new password or disabling ends the user's sessions (as PATCH /admin/users does).
  const webSecret = (await addClient(app, 'web', { grantTypes: ['password', 'refresh_token'] }))!
  const granted = await app.inject({ method: 'POST', url: '/token', headers: { ...FORM, authorization: basic('web', webSecret) }, payload: form({ grant_type: 'password', username: 'passlib', password: 'pw-passlib' }) })
  t.equal(granted.statusCode, 200)
  const replaced = await bcryptHash('new-pw', 4)
  const updated = await post([line({ username: 'passlib', password_hash: replaced, full_name: 'Pass Lib' }), line({ username: 'newcomer', password_hash: null })].join('\n'), admin, '?update=true')
  t.same(updated.json(), { imported: 1, updated: 1, skipped: 0, rejected: [], rejected_count: 0, committed_lines: 2, resume_from_line: null })
  t.match(await app.users.findByUsername('passlib'), { passwordHash: replaced, fullName: 'Pass Lib' })
  const refresh = await app.inject({ method: 'POST', url: '/token', headers: { ...FORM, authorization: basic('web', webSecret) }, payload: form({ grant_type: 'refresh_token', refresh_token: granted.json().refresh_token }) })
  assertOAuthError(t, refresh, 400, 'invalid_grant', undefined, 'the refresh token issued before the new hash is dead')
  t.equal((await signIn(app, 'passlib', 'new-pw')).statusCode, 200, 'the new password works')
})

t.test(`POST /admin/users/import streams its body and stops at IMPORT_MAX_BYTES (${testBackend})`, async (t) => {
  const { app, url } = await buildListening(t, { IMPORT_MAX_BYTES: '200000' })
  await addUser(app, 'root', 'root-pw', { scope: 'admin' })
  const adminToken = (await signIn(app, 'root', 'root-pw')).json().access_token as string
  const hash = await bcryptHash('pw', 4)
  const chunk = (from: number, n: number) => Array.from({ length: n }, (_, i) => line({ username: `s${from + i}`, password_hash: hash }) + '\n').join('')
  const { port } = new URL(url)
  // A connection each (no keep-alive agent), so the app's close does not wait for a pooled socket.
  const send = (headers: Record<string, string>) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/admin/users/import', agent: false, headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${adminToken}`, ...headers } })
    const reply = new Promise<{ status: number, body: string }>((resolve, reject) => {
      req.on('response', (res) => { let body = ''; res.on('data', (d) => { body += d }); res.on('end', () => resolve({ status: res.statusCode ?? 0, body })) })
      req.on('error', reject)
    })
    return { req, reply }
  }

  // Chunked: the first 600 users are written (in batches of 500) while the rest of the body has not been sent.
  const streamed = send({})
  streamed.req.write(chunk(0, 600))
  const until = Date.now() + 10_000
  while ((await app.users.count()) < 501 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(await app.users.count(), 501, 'the first batch is in before the body has ended: streamed, not buffered')
  streamed.req.end(chunk(600, 100))
  const done = await streamed.reply
  t.equal(done.status, 200)
  t.match(JSON.parse(done.body), { imported: 700, skipped: 0, rejected_count: 0 })

  const declared = send({ 'content-length': '200001' })
  declared.req.on('error', () => {})
  declared.req.write('x')
  const refused = await declared.reply
  declared.req.destroy()
  t.equal(refused.status, 413, 'a declared length over the limit: 413 at once')
  t.equal(JSON.parse(refused.body).error, 'invalid_request')

  const endless = send({})
  endless.req.on('error', () => {})
  let offset = 1000
  const writer = setInterval(() => { endless.req.write(chunk(offset, 200)); offset += 200 }, 5)
  const cut = await endless.reply
  clearInterval(writer)
  endless.req.destroy()
  t.equal(cut.status, 413, 'a chunked body past the limit: 413')
  t.match(JSON.parse(cut.body), { error: 'invalid_request', error_description: /200000 bytes/ })
  const count = await app.users.count()
  t.ok(count > 701 && (count - 701) % 500 === 0, `batches before the limit stay, whole (${count - 701} users)`)
})

t.test(`imported hashes get the same enumeration and brute-force protections (${testBackend})`, async (t) => {
  const { app } = await setup(t)
  // bcrypt at cost 8 (~20 ms) against this test's argon2id (m=64 KiB: well under 1 ms).
  await app.users.importBatch([{ username: 'legacy', passwordHash: await bcryptHash('legacy-pw', 8) }], { update: false })
  const timed = async (username: string) => {
    const started = performance.now()
    const res = await signIn(app, username, 'wrong password')
    t.equal(res.statusCode, 400)
    return performance.now() - started
  }
  await timed('legacy')
  const legacy: number[] = []
  const unknown: number[] = []
  for (let i = 0; i < 7; i++) {
    legacy.push(await timed('legacy'))
    unknown.push(await timed(`nobody-${i}`))
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  // Without the padding an unknown user costs the cheap argon2 only: a small fraction of bcrypt's time.
  t.ok(median(unknown) > 0.6 * median(legacy), `unknown user ${median(unknown).toFixed(1)} ms vs wrong bcrypt password ${median(legacy).toFixed(1)} ms`)
  const wrong = await signIn(app, 'legacy', 'wrong password')
  const missing = await signIn(app, 'nobody-at-all', 'wrong password')
  t.equal(wrong.body, missing.body, 'the same answer for both')

  // 10 failed guesses per account: the 9 above count (1 + 7 + 1), so one more reaches the limit.
  assertOAuthError(t, await signIn(app, 'legacy', 'guess'), 400, 'invalid_grant')
  const throttled = await signIn(app, 'legacy', 'legacy-pw')
  t.equal(throttled.statusCode, 429, 'then even the right password is refused (throttled before any hash)')
  t.match((await app.users.findByUsername('legacy'))?.passwordHash, /^\$2b\$08\$/, 'and the hash was not upgraded')
})

t.test(`the upgrade after a first sign-in never overwrites a password changed meanwhile (${testBackend})`, async (t) => {
  const { app } = await setup(t)
  await app.users.importBatch([{ username: 'moved', passwordHash: django('old-pw', 1000) }], { update: false })
  // Hold the rehash the sign-in starts until the password has been changed under it.
  const hash = app.passwords.hash.bind(app.passwords)
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  let held = 0
  app.passwords.hash = async (password) => { held++; await gate; return hash(password) }
  t.teardown(() => { app.passwords.hash = hash })
  t.equal((await signIn(app, 'moved', 'old-pw')).statusCode, 200, 'signs in with the imported hash')
  t.equal(held, 1, 'the upgrade is under way')
  const replaced = await bcryptHash('new-pw', 4)
  t.match(await app.users.importBatch([{ username: 'moved', passwordHash: replaced }], { update: true }), [{ outcome: 'updated', revoke: true }], 're-imported with a new password meanwhile')
  release()
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal((await app.users.findByUsername('moved'))?.passwordHash, replaced, 'the late upgrade left the new hash alone')
  assertOAuthError(t, await signIn(app, 'moved', 'old-pw'), 400, 'invalid_grant', undefined, 'the old password is gone')
  t.equal((await signIn(app, 'moved', 'new-pw')).statusCode, 200, 'the new one works')
})

/**
 * A user `name` (password `pw`) with what an admin change must end: a browser session, a refresh family (client
 * `web`) and an access token without a family (client `svc`, no refresh_token).
 */
async function signedInEverywhere (app: FastifyInstance, name: string, clients: { web: string, svc: string }) {
  const user = await addUser(app, name, 'pw', { scope: 'items:read' })
  const browser = new InjectBrowser(app)
  const page = await browser.get('/login')
  const login = await browser.post('/login', { username: name, password: 'pw', csrf: field(page.body, 'csrf') })
  if (login.headers.location !== '/login') throw new Error(`${name}: no session (${login.statusCode})`)
  const grant = async (client: string, secret: string) => (await app.inject({
    method: 'POST', url: '/token', headers: { ...FORM, authorization: basic(client, secret) }, payload: form({ grant_type: 'password', username: name, password: 'pw' }), remoteAddress: uniqueIp()
  })).json() as { access_token: string, refresh_token?: string }
  const family = await grant('web', clients.web)
  const bare = await grant('svc', clients.svc)
  if (!family.refresh_token || bare.refresh_token) throw new Error('unexpected grants')
  return { user, browser, refreshToken: family.refresh_token, accessToken: bare.access_token }
}

t.test(`22.2: an import with --update (API and CLI) ends sessions and tokens on a new hash or disabled: true, as PATCH /admin/users does (${testBackend})`, async (t) => {
  const { app, url } = await setup(t)
  await addUser(app, 'root', 'root-pw', { scope: 'admin' })
  const admin = { authorization: `Bearer ${(await signIn(app, 'root', 'root-pw')).json().access_token as string}` }
  const clients = {
    web: (await addClient(app, 'web', { grantTypes: ['password', 'refresh_token', 'authorization_code'], redirectUris: [REDIRECT] }))!,
    svc: (await addClient(app, 'svc', { grantTypes: ['password'] }))!
  }
  await app.storage.clients.update('web', { skipConsent: true })
  const newHash = await bcryptHash('new-pw', 4)

  const viaApi = async (body: string) => {
    const res = await app.inject({ method: 'POST', url: '/admin/users/import?update=true', headers: { ...admin, 'content-type': 'application/x-ndjson' }, payload: body })
    t.equal(res.statusCode, 200)
    return res.json()
  }
  const viaCli = async (body: string) => summaryOf(t, await cli(['users', 'import', '--update', '-'], url, body), 'users import --update')

  for (const [how, run] of [['POST /admin/users/import?update=true', viaApi], ['gatehouse users import --update', viaCli]] as const) {
    const tag = how.startsWith('POST') ? 'api' : 'cli'
    const changed = await signedInEverywhere(app, `${tag}-hash`, clients)
    const disabled = await signedInEverywhere(app, `${tag}-disabled`, clients)
    const untouched = await signedInEverywhere(app, `${tag}-renamed`, clients)
    const summary = await run([
      line({ username: `${tag}-hash`, password_hash: newHash }),
      line({ username: `${tag}-disabled`, password_hash: disabled.user.passwordHash, disabled: true }),
      line({ username: `${tag}-renamed`, password_hash: untouched.user.passwordHash, full_name: 'Renamed' })
    ].join('\n'))
    t.match(summary, { imported: 0, updated: 3, rejected_count: 0 }, `${how}: three users updated`)
    const disabledNow = await app.storage.users.findByUsername(`${tag}-disabled`)
    t.equal(disabledNow?.disabled, true)

    for (const [what, who, ends] of [['a new hash', changed, true], ['disabled: true', disabled, true], ['a new full name only', untouched, false]] as const) {
      // The stored sessions first: ended by the import itself, not merely refused at their next use.
      const listed = await app.inject({ method: 'GET', url: `/admin/users/${who.user.username}/sessions`, headers: admin })
      t.equal(listed.json().length, ends ? 0 : 1, `${how}, ${what}: ${ends ? 'no session left' : 'the session stays'}`)
      const request = webRequest({ prompt: 'none' })
      const silent = callbackParams(await who.browser.get(request.url))
      t.equal(silent.get('error'), ends ? 'login_required' : null, `${how}, ${what}: prompt=none ${ends ? 'answers login_required' : 'gives a code'}`)
      const refresh = await app.inject({ method: 'POST', url: '/token', headers: { ...FORM, authorization: basic('web', clients.web) }, payload: form({ grant_type: 'refresh_token', refresh_token: who.refreshToken }) })
      t.equal(refresh.statusCode, ends ? 400 : 200, `${how}, ${what}: the refresh family ${ends ? 'is revoked' : 'lives'}`)
      // Without a family, the access token dies by its credential version (the CLI's change reaches this
      // instance's read cache within its second).
      let me = await app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${who.accessToken}` } })
      for (let tries = 0; me.statusCode === 200 && tries < (ends ? 30 : 0); tries++) {
        await new Promise((resolve) => setTimeout(resolve, 100))
        me = await app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${who.accessToken}` } })
      }
      t.equal(me.statusCode, ends ? 401 : 200, `${how}, ${what}: the access token without a family ${ends ? 'is refused' : 'works'}`)
    }
  }
})

t.test('the progress bar on a terminal', { skip: !existsSync('/usr/bin/script') && 'script(1) is not installed' }, async (t) => {
  const { url } = await setup(t)
  const hash = await bcryptHash('pw', 4)
  const file = tempFile(t, 'bar.jsonl', Array.from({ length: 3000 }, (_, i) => line({ username: `b${i}`, password_hash: hash })).join('\n') + '\nnot json\n')
  // script(1) gives the CLI a pseudo-terminal for stdin, stdout and stderr (which it then prints together).
  const child = spawn('/usr/bin/script', ['-qfec', `${process.execPath} ${BIN} users import ${file} --batch-size 100`, '/dev/null'], {
    env: { PATH: process.env.PATH ?? '', ...FAST_HASH, DATABASE_URL: url, TERM: 'xterm' }
  })
  const run = await collect(child as ReturnType<typeof spawnNode>)
  t.equal(run.code, 0, 'exit 0')
  t.match(run.stdout, /import \[[█░]+\] 100% \| 3001 lines \| 3000 imported \| 0 skipped \| 1 rejected \| \d+ lines\/s \| 0s left/, 'the bar, at its end, with every count')
  t.match(run.stdout, /\{"imported":3000,"updated":0,"skipped":0,"rejected":\[\{"line":3001,"reason":"not valid JSON"\}\],"rejected_count":1,"committed_lines":3001,"resume_from_line":null\}/, 'then the summary')
})

t.test('bad import commands', async (t) => {
  const { url } = await setup(t)
  const fails = async (args: string[], message: RegExp, label: string) => {
    const run = await cli(args, url)
    t.equal(run.code, 1, `${label}: exit 1`)
    t.equal(run.stdout, '', `${label}: nothing on stdout`)
    t.match(run.stderr, /^gatehouse: [^\n]+\n$/, `${label}: one line on stderr`)
    t.match(run.stderr, message, `${label}: says why`)
  }
  await fails(['users', 'import'], /FILE/, 'no file')
  await fails(['users', 'import', '/nonexistent/users.jsonl'], /cannot read \/nonexistent\/users.jsonl: no such file/, 'a missing file')
  await fails(['users', 'import', tmpdir()], /a directory/, 'a directory')
  await fails(['users', 'import', '-', '--batch-size', '0'], /--batch-size/, 'a zero batch')
  await fails(['users', 'export', 'extra'], /argument/i, 'export takes no argument')
  t.same(summaryOf(t, await cli(['users', 'import', '-'], url, ''), 'an empty file'), { imported: 0, updated: 0, skipped: 0, rejected: [], rejected_count: 0, committed_lines: 0, resume_from_line: null })
  t.equal((await cli(['users', 'export'], url)).stdout, '', 'exporting nobody prints nothing')
  const sub = randomUUID()
  const bom = summaryOf(t, await cli(['users', 'import', '-'], url, Buffer.concat([Buffer.from('\ufeff' + line({ username: 'bom', password_hash: null, sub }) + '\n'), Buffer.from([0xff, 0x0a])])), 'a BOM, and a line that is not UTF-8')
  t.same(bom, { imported: 1, updated: 0, skipped: 0, rejected: [{ line: 2, reason: 'not valid UTF-8' }], rejected_count: 1, committed_lines: 2, resume_from_line: null })
  const long = summaryOf(t, await cli(['users', 'import', '-'], url, line({ username: 'long', password_hash: null, full_name: 'x'.repeat(70_000) }) + '\n' + line({ username: 'after', password_hash: null })), 'a line over 64 KiB')
  t.same(long, { imported: 1, updated: 0, skipped: 0, rejected: [{ line: 1, reason: 'longer than 65536 bytes' }], rejected_count: 1, committed_lines: 2, resume_from_line: null })
})

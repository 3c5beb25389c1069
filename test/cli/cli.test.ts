import t, { type Test } from 'tap'
import { join } from 'node:path'
import { addUser, build, form, FORM, sharedDatabaseUrl, tempDatabaseUrl } from '../support/helper.js'
import { assertOAuthError, bearer, passwordGrant, runCli } from '../support/oauth.js'

// dist/test → bin/gatehouse.js at the repository root, as `npx gatehouse` runs it.
const CHEAP = { ARGON2_MEMORY_KIB: '64', ARGON2_TIME_COST: '1' }

interface Run { code: number | null, stdout: string, stderr: string }

const cli = (args: string[], env: Record<string, string>, input?: string, cwd?: string): Promise<Run> => runCli(args, { ...CHEAP, ...env }, input, cwd)

/** Success: exit 0, one JSON document on stdout, nothing on stderr. */
function ok (t: Test, run: Run, label: string): any {
  t.equal(run.code, 0, `${label}: exit 0`)
  t.equal(run.stderr, '', `${label}: nothing on stderr`)
  try {
    return JSON.parse(run.stdout)
  } catch {
    t.fail(`${label}: stdout is not JSON: ${run.stdout.slice(0, 200)}`)
  }
}

/** Failure: exit 1, one line on stderr, nothing on stdout. */
function fails (t: Test, run: Run, label: string, message?: RegExp): void {
  t.equal(run.code, 1, `${label}: exit 1`)
  t.equal(run.stdout, '', `${label}: nothing on stdout`)
  t.match(run.stderr, /^gatehouse: [^\n]+\n$/, `${label}: one line on stderr`)
  if (message) t.match(run.stderr, message, `${label}: says why`)
}

t.test('users add --claims and users update: the standard claims, checked; a bad one exits 1 saying why', async (t) => {
  const env = { DATABASE_URL: await sharedDatabaseUrl(t) }
  const added = ok(t, await cli(['users', 'add', 'erin', '--password-stdin', '--claims', '{"given_name":"Erin","locale":"en-GB"}'], env, 'pw'), 'users add --claims')
  t.same(added.claims, { given_name: 'Erin', locale: 'en-GB' })
  const updated = ok(t, await cli(['users', 'update', 'erin', '--full-name', 'Erin E', '--claims', '{"zoneinfo":"Europe/London"}'], env), 'users update')
  t.match(updated, { full_name: 'Erin E', claims: { zoneinfo: 'Europe/London' } })
  t.notOk('given_name' in updated.claims, '--claims replaces the set')
  t.same(ok(t, await cli(['users', 'update', 'erin', '--full-name', ''], env), 'users update clears').full_name, null)
  fails(t, await cli(['users', 'update', 'erin', '--claims', '{"shoe_size":9}'], env), 'an unknown claim', /unknown claim shoe_size/)
  fails(t, await cli(['users', 'update', 'erin', '--claims', '{nope'], env), 'not JSON', /--claims: not JSON/)
  fails(t, await cli(['users', 'update', 'erin'], env), 'nothing to change', /needs --full-name, --email, --scope or --claims/)
})

t.test('users add reads the password from stdin (one trailing newline stripped) and prints the user', async (t) => {
  const DATABASE_URL = await sharedDatabaseUrl(t)
  const env = { DATABASE_URL }
  const added = ok(t, await cli(['users', 'add', 'alice', '--password-stdin', '--full-name', 'Alice Liddell', '--email', 'alice@example.test', '--scope', 'read write'], env, 's3cret pw\n'), 'users add alice')
  const plain = ok(t, await cli(['users', 'add', 'bob', '--password-stdin'], env, 'bobpw'), 'users add bob (no newline)')
  ok(t, await cli(['users', 'add', 'carol', '--password-stdin'], env, 'carolpw\n\n'), 'users add carol (two newlines)')
  ok(t, await cli(['users', 'add', 'dave', '--password-stdin'], env, 'davepw\r\n'), 'users add dave (CRLF)')
  t.match(added, { username: 'alice', full_name: 'Alice Liddell', email: 'alice@example.test', disabled: false, scope: 'read write' })
  t.same(Object.keys(added).sort(), ['claims', 'disabled', 'email', 'full_name', 'scope', 'sub', 'username'], 'the /users/me shape, no hash')
  t.same(plain, { sub: plain.sub, username: 'bob', full_name: null, email: null, disabled: false, scope: '', claims: {} }, 'nulls for unset fields')

  const app = await build(t, { DATABASE_URL })
  const token = await passwordGrant(t, app, 'alice', 's3cret pw')
  const me = await app.inject({ method: 'GET', url: '/users/me', headers: bearer(token.access_token) })
  t.same(me.json(), added, 'the CLI prints the user exactly as GET /users/me shows it')

  const tryLogin = (username: string, password: string) =>
    app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'password', username, password }) })
  assertOAuthError(t, await tryLogin('alice', 's3cret pw\n'), 400, 'invalid_grant', undefined, 'the newline was not part of the password')
  t.equal((await tryLogin('bob', 'bobpw')).statusCode, 200, 'input without a newline is taken whole')
  assertOAuthError(t, await tryLogin('carol', 'carolpw'), 400, 'invalid_grant', undefined, 'only one newline is stripped')
  t.equal((await tryLogin('carol', 'carolpw\n')).statusCode, 200, 'the second newline is part of the password')
  t.equal((await tryLogin('dave', 'davepw')).statusCode, 200, 'a trailing CRLF is stripped too')

  fails(t, await cli(['users', 'add', 'alice', '--password-stdin'], env, 'other\n'), 'duplicate user', /already exists/)
  t.equal((await tryLogin('alice', 's3cret pw')).statusCode, 200, 'the duplicate did not change the password')
  fails(t, await cli(['users', 'add', 'erin'], env, 'pw\n'), 'no --password-stdin', /password-stdin/)
  fails(t, await cli(['users', 'add', 'erin', '--password-stdin'], env, '\n'), 'empty password', /password/)
  fails(t, await cli(['users', 'add', 'Erin', '--password-stdin'], env, 'pw\n'), 'uppercase username', /username/)
  fails(t, await cli(['users', 'add', '--password-stdin'], env, 'pw\n'), 'no username')
  fails(t, await cli(['users', 'add', 'erin', '--password-stdin', '--email', 'not-an-email'], env, 'pw\n'), 'bad email', /email/)
  fails(t, await cli(['users', 'add', 'erin', '--password', 'pw'], env), 'password on the command line')
  t.equal(await app.users.findByUsername('erin'), undefined, 'no user was made by the failed commands')
})

t.test('users disable, enable, list', async (t) => {
  const DATABASE_URL = await sharedDatabaseUrl(t)
  const env = { DATABASE_URL }
  const alice = ok(t, await cli(['users', 'add', 'alice', '--password-stdin', '--scope', 'read'], env, 'alicepw\n'), 'users add alice')
  const bob = ok(t, await cli(['users', 'add', 'bob', '--password-stdin'], env, 'bobpw\n'), 'users add bob')
  // The admin's view: /users/me's fields and who created the user (an upstream provider, or null).
  t.same(ok(t, await cli(['users', 'list'], env), 'users list'), [{ ...alice, created_by: null }, { ...bob, created_by: null }], 'users list: an array of GET /admin/users views')

  const app = await build(t, { DATABASE_URL })
  const token = (await passwordGrant(t, app, 'alice', 'alicepw')).access_token

  t.same(ok(t, await cli(['users', 'disable', 'alice'], env), 'users disable'), { ...alice, disabled: true })
  assertOAuthError(t, await app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'password', username: 'alice', password: 'alicepw' }) }),
    400, 'invalid_grant', 'invalid username or password', 'a disabled user cannot log in')
  const me = await app.inject({ method: 'GET', url: '/users/me', headers: bearer(token) })
  t.equal(me.statusCode, 401, 'the token issued before is refused')
  t.match(me.headers['www-authenticate'], /error="invalid_token"/)
  t.same(ok(t, await cli(['users', 'list'], env), 'users list'), [{ ...alice, disabled: true, created_by: null }, { ...bob, created_by: null }])

  t.same(ok(t, await cli(['users', 'enable', 'alice'], env), 'users enable'), alice)
  await passwordGrant(t, app, 'alice', 'alicepw')

  fails(t, await cli(['users', 'disable', 'nobody'], env), 'disable an unknown user', /nobody/)
  fails(t, await cli(['users', 'enable'], env), 'enable without a name')
})

t.test('clients add --name --logo-uri, update clears them with \'\'; a bad logo exits 1 saying why', async (t) => {
  const env = { DATABASE_URL: await sharedDatabaseUrl(t) }
  const added = ok(t, await cli(['clients', 'add', 'named', '--name', 'Acme Web', '--logo-uri', 'https://cdn.example/acme.png'], env), 'clients add --name --logo-uri')
  t.match(added, { client_name: 'Acme Web', logo_uri: 'https://cdn.example/acme.png' })
  fails(t, await cli(['clients', 'update', 'named', '--logo-uri', 'http://cdn.example/acme.png'], env), 'a plain http logo off loopback', /logo_uri/)
  t.match(ok(t, await cli(['clients', 'update', 'named', '--name', '', '--logo-uri', ''], env), 'clients update clears'), { client_name: null, logo_uri: null })
})

t.test('clients add, list, remove', async (t) => {
  const DATABASE_URL = await sharedDatabaseUrl(t)
  const env = { DATABASE_URL }
  const c1 = ok(t, await cli(['clients', 'add', 'c1', '--scope', 'api:read'], env), 'clients add c1')
  t.match(c1, { client_id: 'c1', public: false, grant_types: ['client_credentials'], scope: 'api:read' })
  t.type(c1.client_secret, 'string', 'a confidential client gets its secret, once')
  t.ok(c1.client_secret.length >= 32, 'a long random secret')

  const p1 = ok(t, await cli(['clients', 'add', 'p1', '--public', '--grant', 'password,refresh_token'], env), 'clients add p1 --public')
  t.match(p1, { client_id: 'p1', public: true, grant_types: ['password', 'refresh_token'] })
  t.notOk('client_secret' in p1, 'no secret for a public client')

  fails(t, await cli(['clients', 'add', 'p2', '--public', '--grant', 'client_credentials'], env), 'a public client with client_credentials', /client_credentials/)
  fails(t, await cli(['clients', 'add', 'c1'], env), 'duplicate client', /already exists/)
  fails(t, await cli(['clients', 'add', 'c3', '--grant', 'implicit'], env), 'unknown grant', /implicit/)

  const list = ok(t, await cli(['clients', 'list'], env), 'clients list')
  t.same(list.map((c: { client_id: string }) => c.client_id), ['c1', 'p1'], 'p2 and c3 were not made')
  t.notOk(JSON.stringify(list).includes(c1.client_secret), 'the secret is never shown again')
  t.notOk(list.some((c: object) => 'client_secret' in c), 'no client_secret member in the list')

  const app = await build(t, { DATABASE_URL })
  const basic = { ...FORM, authorization: `Basic ${Buffer.from(`c1:${c1.client_secret}`).toString('base64')}` }
  const granted = await app.inject({ method: 'POST', url: '/token', headers: basic, payload: form({ grant_type: 'client_credentials' }) })
  t.equal(granted.statusCode, 200, 'the printed secret works')
  t.equal(granted.json().scope, 'api:read')

  t.match(ok(t, await cli(['clients', 'remove', 'c1'], env), 'clients remove c1'), { client_id: 'c1' })
  t.same(ok(t, await cli(['clients', 'list'], env), 'clients list').map((c: { client_id: string }) => c.client_id), ['p1'])
  // A running server caches clients for 1 s; a change made by another process (the CLI) lands within that.
  const removedAt = Date.now()
  let afterRemoval = await app.inject({ method: 'POST', url: '/token', headers: basic, payload: form({ grant_type: 'client_credentials' }) })
  while (afterRemoval.statusCode === 200 && Date.now() - removedAt < 2000) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    afterRemoval = await app.inject({ method: 'POST', url: '/token', headers: basic, payload: form({ grant_type: 'client_credentials' }) })
  }
  assertOAuthError(t, afterRemoval, 401, 'invalid_client', undefined, 'a removed client cannot authenticate (within the 1 s cache)')
  fails(t, await cli(['clients', 'remove', 'c1'], env), 'remove twice', /c1/)
})

t.test('keys rotate prints the new kid, which the JWKS publishes; keys list prints every key\'s state, as GET /admin/keys', async (t) => {
  const DATABASE_URL = await sharedDatabaseUrl(t)
  const rotated = ok(t, await cli(['keys', 'rotate'], { DATABASE_URL }), 'keys rotate')
  t.type(rotated.kid, 'string')
  t.same(rotated.keys.map((k: { alg: string }) => k.alg).sort(), ['ES256', 'RS256'], 'one new key per algorithm')
  t.equal(rotated.keys.find((k: { alg: string }) => k.alg === 'ES256').kid, rotated.kid, '`kid`: the access tokens\' (ES256 by default)')
  const app = await build(t, { DATABASE_URL })
  const kids = (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json().keys.map((k: { kid: string }) => k.kid)
  for (const key of rotated.keys) t.ok(kids.includes(key.kid), `the new ${key.alg} key is in the JWKS`)
  t.equal(kids.length, 4, 'next to the first key of each algorithm')

  const listed = ok(t, await cli(['keys', 'list'], { DATABASE_URL }), 'keys list')
  t.same(listed.map((k: { kid: string }) => k.kid).slice(2), rotated.keys.map((k: { kid: string }) => k.kid), 'every key, in rotation order')
  t.same(listed.map((k: { state: string }) => k.state), ['signing', 'signing', 'next', 'next'], 'the new keys are next')
  t.same(Object.keys(listed[0]).sort(), ['activates_at', 'alg', 'created_at', 'kid', 'published_until', 'retires_at', 'state'], 'never a private key')
  await addUser(app, 'keyadmin', 'pw', { scope: 'admin' })
  const admin = await app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'password', username: 'keyadmin', password: 'pw' }) })
  t.equal(admin.statusCode, 200)
  const api = await app.inject({ url: '/admin/keys', headers: { authorization: `Bearer ${admin.json().access_token as string}` } })
  t.same(api.json(), listed, 'the same JSON as GET /admin/keys')
})

t.test('events list: the events a server stored, filtered and paged as GET /admin/events; a bad filter exits 1', async (t) => {
  const DATABASE_URL = await sharedDatabaseUrl(t)
  const app = await build(t, { DATABASE_URL })
  const dora = await app.users.create({ username: 'dora', passwordHash: null })
  app.events.emit({ type: 'consent_revoked', userId: dora.id, clientId: 'app', ip: '192.0.2.1', grants: 1 })
  app.events.emit({ type: 'login_failed', username: 'dora', clientId: 'web', ip: '192.0.2.2' })
  app.events.emit({ type: 'key_rotated', kid: 'k1', activatesAt: 1 })
  await app.events.flush()
  const all = ok(t, await cli(['events', 'list'], { DATABASE_URL }), 'events list')
  t.same(all.events.map((e: { type: string }) => e.type), ['key_rotated', 'login_failed', 'consent_revoked'])
  t.equal(all.next_before, null)
  t.same(ok(t, await cli(['events', 'list', '--user', 'dora'], { DATABASE_URL }), '--user').events.map((e: { type: string }) => e.type), ['login_failed', 'consent_revoked'])
  t.match(ok(t, await cli(['events', 'list', '--client', 'app'], { DATABASE_URL }), '--client').events, [{ type: 'consent_revoked', username: 'dora' }])
  t.same(ok(t, await cli(['events', 'list', '--type', 'key_rotated'], { DATABASE_URL }), '--type').events.map((e: { details: unknown }) => e.details), [{ kid: 'k1', activatesAt: 1 }])
  const first = ok(t, await cli(['events', 'list', '--limit', '2'], { DATABASE_URL }), '--limit')
  t.equal(first.events.length, 2)
  t.same(ok(t, await cli(['events', 'list', '--limit', '2', '--before', String(first.next_before)], { DATABASE_URL }), '--before').events.map((e: { type: string }) => e.type), ['consent_revoked'])
  fails(t, await cli(['events', 'list', '--type', 'nothing'], { DATABASE_URL }), 'an unknown type', /type: not a security event type/)
  fails(t, await cli(['events', 'list', '--limit', '0'], { DATABASE_URL }), 'a bad limit', /limit/)
})

t.test('bad commands and bad environment', async (t) => {
  const DATABASE_URL = await sharedDatabaseUrl(t)
  fails(t, await cli(['frobnicate'], { DATABASE_URL }), 'unknown command', /frobnicate/)
  fails(t, await cli(['users', 'frobnicate'], { DATABASE_URL }), 'unknown users action', /frobnicate/)
  fails(t, await cli(['keys', 'delete'], { DATABASE_URL }), 'unknown keys action')
  fails(t, await cli(['users', 'list'], { DATABASE_URL: 'mysql://x' }), 'bad DATABASE_URL', /DATABASE_URL/)
  fails(t, await cli(['users', 'list'], { DATABASE_URL, ACCESS_TOKEN_TTL: '0' }), 'bad ACCESS_TOKEN_TTL', /ACCESS_TOKEN_TTL/)
})

t.test('help: gatehouse --help, per command, --version; plain text, exit 0, nothing opened', async (t) => {
  const env = { DATABASE_URL: 'mysql://not-even-valid' } // help never reads the configuration
  for (const args of [['--help'], ['-h'], ['help'], []]) {
    const run = await cli(args, env)
    t.equal(run.code, 0, `${args.join(' ') || '(no arguments)'}: exit 0`)
    t.match(run.stdout, /^usage: gatehouse COMMAND/, 'the usage first')
    for (const group of ['users', 'clients', 'keys', 'openapi']) t.match(run.stdout, new RegExp(`gatehouse ${group}`), `names ${group}`)
    t.equal(run.stderr, '')
  }
  for (const args of [['users', '--help'], ['users', 'add', '--help'], ['clients', 'add', '-h'], ['keys', '--help']]) {
    const run = await cli(args, env)
    t.equal(run.code, 0, `${args.join(' ')}: exit 0`)
    t.match(run.stdout, new RegExp(`^gatehouse ${args[0]}: `), `${args.join(' ')}: that command's help`)
    t.notMatch(run.stdout, /^usage:/m, 'not the whole usage')
  }
  t.match((await cli(['users', 'add', '--help'], env)).stdout, /--password-stdin/, 'users add --help lists its options')
  const version = await cli(['--version'], env)
  t.equal(version.code, 0)
  t.match(version.stdout, /^gatehouse \d+\.\d+\.\d+\n$/, '--version: gatehouse X.Y.Z')
  fails(t, await cli(['frobnicate', '--help'], env), 'help for an unknown command', /unknown command: frobnicate.*gatehouse --help/)
})

t.test('the CLI from another folder: a relative DATABASE_URL that names no database yet is a warning, an absolute one is not', async (t) => {
  const elsewhere = t.testdir({})
  const relative = await cli(['users', 'list'], { DATABASE_URL: 'sqlite:./gatehouse.db' }, undefined, elsewhere)
  t.equal(relative.code, 0, 'the command still runs (a first users add is how an install starts)')
  t.same(JSON.parse(relative.stdout), [])
  t.match(relative.stderr, new RegExp(`^gatehouse: warning: no database at ${join(elsewhere, 'gatehouse.db').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} yet; creating a new, empty one`), 'names the absolute path it creates')
  const again = await cli(['users', 'list'], { DATABASE_URL: 'sqlite:./gatehouse.db' }, undefined, elsewhere)
  t.equal(again.stderr, '', 'once it exists: no warning')
  const absolute = await cli(['users', 'list'], { DATABASE_URL: tempDatabaseUrl(t) }, undefined, elsewhere)
  t.equal(absolute.stderr, '', 'an absolute path is what the operator meant: no warning')
})

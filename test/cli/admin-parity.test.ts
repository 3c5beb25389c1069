import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, FORM, form, ISSUER, sharedDatabaseUrl } from '../support/helper.js'
import { assertOAuthError, bearer, passwordGrant, runCli } from '../support/oauth.js'
import type { NewUserFactor } from '../../lib/stores/types.js'

// The commands issue 29 added so the CLI does what the admin API does (test/cli/coverage.test.ts checks that each
// admin operation has one): users get|update --scope|set-password|remove|factors-remove, users list --limit/--offset,
// clients get, providers get. Each answer is compared with the admin API's on the same database.

const CHEAP = { ARGON2_MEMORY_KIB: '64', ARGON2_TIME_COST: '1' }

interface Run { code: number | null, stdout: string, stderr: string }

function ok (t: Test, run: Run, label: string): any {
  t.equal(run.code, 0, `${label}: exit 0 (${run.stderr.trim()})`)
  t.equal(run.stderr, '', `${label}: nothing on stderr`)
  return JSON.parse(run.stdout || 'null')
}

function fails (t: Test, run: Run, label: string, message: RegExp): void {
  t.equal(run.code, 1, `${label}: exit 1`)
  t.equal(run.stdout, '', `${label}: nothing on stdout`)
  t.match(run.stderr, /^gatehouse: [^\n]+\n$/, `${label}: one line on stderr`)
  t.match(run.stderr, message, `${label}: says why`)
}

/** The app on the CLI's database and a token of `root` (scope admin) for its admin API. */
async function withAdmin (t: Test, DATABASE_URL: string): Promise<{ app: FastifyInstance, admin: (method: 'GET', url: string) => Promise<unknown> }> {
  ok(t, await runCli(['users', 'add', 'root', '--password-stdin', '--scope', 'admin'], { ...CHEAP, DATABASE_URL }, 'rootpw'), 'users add root')
  const app = await build(t, { DATABASE_URL })
  const token = (await passwordGrant(t, app, 'root', 'rootpw', { scope: 'admin' })).access_token
  return {
    app,
    admin: async (method, url) => {
      const res = await app.inject({ method, url, headers: bearer(token) })
      t.equal(res.statusCode, 200, `${method} ${url}: 200`)
      return res.json()
    }
  }
}

t.test('users get, update --scope and list --limit/--offset answer as the admin API does', async (t) => {
  const DATABASE_URL = await sharedDatabaseUrl(t)
  const env = { ...CHEAP, DATABASE_URL, ISSUER }
  const cli = (args: string[], input?: string) => runCli(args, env, input)
  ok(t, await cli(['users', 'add', 'alice', '--password-stdin', '--email', 'alice@example.test', '--scope', 'read'], 'pw'), 'users add alice')
  ok(t, await cli(['users', 'add', 'bob', '--password-stdin'], 'pw'), 'users add bob')
  const { admin } = await withAdmin(t, DATABASE_URL)

  const got = ok(t, await cli(['users', 'get', 'alice']), 'users get')
  t.same(got, await admin('GET', '/admin/users/alice'), 'users get is GET /admin/users/{username}')
  t.match(got, { username: 'alice', email: 'alice@example.test', scope: 'read', created_by: null })
  fails(t, await cli(['users', 'get', 'nobody']), 'an unknown user', /^gatehouse: no user nobody\n$/)
  fails(t, await cli(['users', 'get']), 'no USERNAME', /expected exactly one USERNAME/)

  t.equal(ok(t, await cli(['users', 'update', 'alice', '--scope', 'read  write read']), 'users update --scope').scope, 'read write', 'the scopes, normalised as the API stores them')
  t.equal((await admin('GET', '/admin/users/alice') as { scope: string }).scope, 'read write')
  t.equal(ok(t, await cli(['users', 'update', 'alice', '--scope', '']), 'users update --scope \'\'').scope, '', '\'\' removes them all')
  fails(t, await cli(['users', 'update', 'alice', '--scope', 'bad"scope']), 'a bad scope', /scope/)
  fails(t, await cli(['users', 'update', 'alice']), 'nothing to change', /needs --full-name, --email, --scope or --claims/)

  const all = ok(t, await cli(['users', 'list']), 'users list')
  t.same(all.map((u: { username: string }) => u.username), ['alice', 'bob', 'root'])
  t.same(all, await admin('GET', '/admin/users'), 'users list is GET /admin/users')
  t.same(ok(t, await cli(['users', 'list', '--limit', '1', '--offset', '1']), 'users list --limit 1 --offset 1'), await admin('GET', '/admin/users?limit=1&offset=1'))
  t.same(ok(t, await cli(['users', 'list', '--offset', '2']), 'users list --offset 2').map((u: { username: string }) => u.username), ['root'])
  fails(t, await cli(['users', 'list', '--limit', '0']), '--limit 0', /--limit: a whole number from 1/)
})

/**
 * The status of `/users/me` with `token`, asked again until it is `status` or 2 s have passed: a running server caches
 * a user's standing for up to 1 s, so a change made by another process (the CLI) lands within that (as cli.test.ts).
 */
async function meStatusWithin (app: FastifyInstance, token: string, status: number): Promise<number> {
  const since = Date.now()
  for (;;) {
    const answer = (await app.inject({ method: 'GET', url: '/users/me', headers: bearer(token) })).statusCode
    if (answer === status || Date.now() - since > 2000) return answer
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

t.test('users set-password: the new password from stdin works, the old one and every grant of the user stop', async (t) => {
  const DATABASE_URL = await sharedDatabaseUrl(t)
  const env = { ...CHEAP, DATABASE_URL, ISSUER }
  ok(t, await runCli(['users', 'add', 'alice', '--password-stdin'], env, 'old pw'), 'users add alice')
  ok(t, await runCli(['clients', 'add', 'app', '--public', '--grant', 'password,refresh_token'], env), 'clients add app')
  const { app } = await withAdmin(t, DATABASE_URL)
  const before = await passwordGrant(t, app, 'alice', 'old pw', { client_id: 'app' })
  t.ok(before.refresh_token, 'a refresh token to revoke')

  fails(t, await runCli(['users', 'set-password', 'alice'], env, 'new pw'), 'no --password-stdin', /needs --password-stdin/)
  fails(t, await runCli(['users', 'set-password', 'alice', '--password-stdin'], env, '\n'), 'an empty password', /password is empty/)
  fails(t, await runCli(['users', 'set-password', 'nobody', '--password-stdin'], env, 'new pw'), 'an unknown user', /no user nobody/)
  t.equal((await app.inject({ method: 'GET', url: '/users/me', headers: bearer(before.access_token) })).statusCode, 200, 'the failed attempts changed nothing')

  const changed = ok(t, await runCli(['users', 'set-password', 'alice', '--password-stdin'], env, 'new pw\n'), 'users set-password')
  t.match(changed, { username: 'alice', disabled: false })
  t.notOk(JSON.stringify(changed).includes('argon2'), 'no hash printed')
  const login = (password: string) => app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'password', username: 'alice', password, client_id: 'app' }) })
  assertOAuthError(t, await login('old pw'), 400, 'invalid_grant', undefined, 'the old password')
  assertOAuthError(t, await login('new pw\n'), 400, 'invalid_grant', undefined, 'the newline was stripped')
  t.equal((await login('new pw')).statusCode, 200, 'the new password')
  t.equal(await meStatusWithin(app, before.access_token, 401), 401, 'the access token issued before is refused (within the 1 s cache)')
  const refreshed = await app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'refresh_token', refresh_token: before.refresh_token!, client_id: 'app' }) })
  assertOAuthError(t, refreshed, 400, 'invalid_grant', undefined, 'the refresh token issued before is revoked')
})

t.test('users remove deletes the user and prints them as they were; their tokens stop', async (t) => {
  const DATABASE_URL = await sharedDatabaseUrl(t)
  const env = { ...CHEAP, DATABASE_URL, ISSUER }
  ok(t, await runCli(['users', 'add', 'alice', '--password-stdin', '--full-name', 'Alice'], env, 'pw'), 'users add alice')
  const { app, admin } = await withAdmin(t, DATABASE_URL)
  const shown = await admin('GET', '/admin/users/alice')
  const token = (await passwordGrant(t, app, 'alice', 'pw')).access_token

  t.same(ok(t, await runCli(['users', 'remove', 'alice'], env), 'users remove'), shown, 'the user as GET /admin/users/{username} showed them')
  fails(t, await runCli(['users', 'get', 'alice'], env), 'gone', /no user alice/)
  fails(t, await runCli(['users', 'remove', 'alice'], env), 'again', /no user alice/)
  t.equal(await meStatusWithin(app, token, 401), 401, 'their access token is refused (within the 1 s cache)')
  assertOAuthError(t, await app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'password', username: 'alice', password: 'pw' }) }), 400, 'invalid_grant')
  t.same(ok(t, await runCli(['users', 'list'], env), 'users list').map((u: { username: string }) => u.username), ['root'])
})

t.test('users factors-remove removes one factor by its id; the others and the recovery codes stay', async (t) => {
  const DATABASE_URL = await sharedDatabaseUrl(t)
  const env = { ...CHEAP, DATABASE_URL, ISSUER }
  ok(t, await runCli(['users', 'add', 'alice', '--password-stdin'], env, 'pw'), 'users add alice')
  const { app, admin } = await withAdmin(t, DATABASE_URL)
  const alice = (await app.storage.users.findByUsername('alice'))!
  const passkey = (id: string) => ({ credentialId: `cred-${id}`, publicKey: 'PK' })
  const factor = (id: string, kind: 'totp' | 'passkey'): NewUserFactor => ({
    ...{ id, userId: alice.id, kind, name: id, secret: kind === 'totp' ? 'SEALED' : null, credentialId: null, publicKey: null },
    ...(kind === 'passkey' ? passkey(id) : {}),
    ...{ counter: 0, data: null, createdAt: 1_767_224_700, confirmedAt: 1_767_224_700 }
  })
  await app.storage.factors.create(factor('t1', 'totp'), 10)
  await app.storage.factors.create(factor('p1', 'passkey'), 10)
  await app.storage.factors.replaceRecoveryCodes(alice.id, ['D1', 'D2'], 1_767_224_700)

  t.same(ok(t, await runCli(['users', 'factors-remove', 'alice', 't1'], env), 'users factors-remove'), { removed: 't1' })
  const left = ok(t, await runCli(['users', 'factors', 'alice'], env), 'users factors')
  t.same(left.factors.map((f: { id: string }) => f.id), ['p1'], 'the passkey stays')
  t.equal(left.recovery_codes_left, 2, 'the recovery codes stay')
  t.same(left, await admin('GET', '/admin/users/alice/factors'))
  fails(t, await runCli(['users', 'factors-remove', 'alice', 't1'], env), 'an id she no longer has', /^gatehouse: alice has no factor t1\n$/)
  fails(t, await runCli(['users', 'factors-remove', 'nobody', 'p1'], env), 'an unknown user', /no user nobody/)
  fails(t, await runCli(['users', 'factors-remove', 'alice'], env), 'no ID', /expected USERNAME and ID/)
})

t.test('clients get and providers get answer as GET /admin/clients/{id} and /admin/providers/{name}', async (t) => {
  const DATABASE_URL = await sharedDatabaseUrl(t)
  const env = { ...CHEAP, DATABASE_URL, ISSUER }
  const added = ok(t, await runCli(['clients', 'add', 'web', '--grant', 'authorization_code', '--redirect-uri', 'https://app.example/cb', '--skip-consent'], env), 'clients add web')
  ok(t, await runCli(['providers', 'add', 'corp', '--issuer', 'https://login.corp.example', '--client-id', 'gatehouse', '--client-secret-stdin'], env, 'PROVIDER-SECRET'), 'providers add corp')
  const { admin } = await withAdmin(t, DATABASE_URL)

  const client = ok(t, await runCli(['clients', 'get', 'web'], env), 'clients get')
  t.same(client, await admin('GET', '/admin/clients/web'), 'clients get is GET /admin/clients/{client_id}')
  t.match(client, { client_id: 'web', skip_consent: true, redirect_uris: ['https://app.example/cb'] })
  t.notOk(JSON.stringify(client).includes(added.client_secret), 'never the secret')
  fails(t, await runCli(['clients', 'get', 'nope'], env), 'an unknown client', /nope/)

  const provider = ok(t, await runCli(['providers', 'get', 'corp'], env), 'providers get')
  t.same(provider, await admin('GET', '/admin/providers/corp'), 'providers get is GET /admin/providers/{name}')
  t.match(provider, { name: 'corp', issuer: 'https://login.corp.example', client_id: 'gatehouse' })
  t.notOk(JSON.stringify(provider).includes('PROVIDER-SECRET'), 'never the client secret')
  fails(t, await runCli(['providers', 'get', 'nope'], env), 'an unknown provider', /no provider nope/)
})

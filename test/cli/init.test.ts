import t, { type Test } from 'tap'
import { build, sharedDatabaseUrl } from '../support/helper.js'
import { bearer, passwordGrant, runCli } from '../support/oauth.js'

// `gatehouse init` (issue 29, the first five minutes): the first admin, with a generated password printed once
// on stdout (JSON, as every command), and a refusal (exit 1, nothing changed) once an admin exists.

const CHEAP = { ARGON2_MEMORY_KIB: '64', ARGON2_TIME_COST: '1' }
const cli = (args: string[], env: Record<string, string>, input?: string) => runCli(args, { ...CHEAP, ...env }, input)

function printed (t: Test, run: { code: number | null, stdout: string, stderr: string }, label: string): any {
  t.equal(run.code, 0, `${label}: exit 0`)
  t.equal(run.stderr, '', `${label}: nothing on stderr`)
  return JSON.parse(run.stdout)
}

function refused (t: Test, run: { code: number | null, stdout: string, stderr: string }, label: string, message: RegExp): void {
  t.equal(run.code, 1, `${label}: exit 1`)
  t.equal(run.stdout, '', `${label}: nothing on stdout (no password)`)
  t.match(run.stderr, /^gatehouse: [^\n]+\n$/, `${label}: one line on stderr`)
  t.match(run.stderr, message, `${label}: says why`)
}

t.test('init creates the admin with a generated password, printed once, that signs in with the admin scope', async (t) => {
  const DATABASE_URL = await sharedDatabaseUrl(t)
  const admin = printed(t, await cli(['init'], { DATABASE_URL }), 'init')
  t.match(admin, { username: 'admin', scope: 'admin', disabled: false, full_name: null, email: null })
  t.same(Object.keys(admin).sort(), ['claims', 'disabled', 'email', 'full_name', 'password', 'scope', 'sub', 'username'], 'the /users/me shape plus the password')
  t.match(admin.password, /^[A-Za-z0-9_-]{24}$/, 'a 24-character generated password (144 random bits)')

  const app = await build(t, { DATABASE_URL })
  const token = await passwordGrant(t, app, 'admin', admin.password, { scope: 'admin' })
  t.equal(token.scope, 'admin', 'the password signs in, with the admin scope')
  const users = await app.inject({ method: 'GET', url: '/admin/users', headers: bearer(token.access_token) })
  t.equal(users.statusCode, 200, 'and the admin API answers')
  await app.close()

  refused(t, await cli(['init'], { DATABASE_URL }), 'init again', /an admin user already exists/)
  refused(t, await cli(['init', '--username', 'root'], { DATABASE_URL }), 'init again under another name', /an admin user already exists/)
  const list = printed(t, await cli(['users', 'list'], { DATABASE_URL }), 'users list')
  t.same(list.map((u: { username: string }) => u.username), ['admin'], 'the refusals created nobody')
})

t.test('init --username names the admin; users without the admin scope do not count, a disabled admin does', async (t) => {
  const DATABASE_URL = await sharedDatabaseUrl(t)
  printed(t, await cli(['users', 'add', 'alice', '--password-stdin', '--scope', 'items:read administrator'], { DATABASE_URL }, 'pw'), 'users add alice')
  const root = printed(t, await cli(['init', '--username', 'root'], { DATABASE_URL }), 'init --username root')
  t.match(root, { username: 'root', scope: 'admin' })
  printed(t, await cli(['users', 'disable', 'root'], { DATABASE_URL }), 'users disable root')
  refused(t, await cli(['init'], { DATABASE_URL }), 'init with only a disabled admin', /an admin user already exists/)
})

t.test('init refuses a bad username and arguments it does not take, creating nothing', async (t) => {
  const DATABASE_URL = await sharedDatabaseUrl(t)
  refused(t, await cli(['init', '--username', 'Not Valid'], { DATABASE_URL }), 'a bad username', /username: must match/)
  refused(t, await cli(['init', '--username', ''], { DATABASE_URL }), 'an empty username', /--username: empty/)
  refused(t, await cli(['init', 'admin'], { DATABASE_URL }), 'a positional argument', /Unexpected argument 'admin'/)
  const list = printed(t, await cli(['users', 'list'], { DATABASE_URL }), 'users list')
  t.same(list, [], 'nobody was created')
  printed(t, await cli(['init'], { DATABASE_URL }), 'init after the mistakes')
})

import t, { type Test } from 'tap'
import { build, sharedDatabaseUrl } from '../support/helper.js'
import { runCli } from '../support/oauth.js'
import { startUpstreamOp } from '../support/upstream/op.js'
import { startBadIssuers } from '../support/upstream/documents.js'

// `gatehouse providers …` and `clients … --providers` (issue 14): the secret from stdin, never printed again;
// --help; bad input → exit 1 with one line saying why. The server sees what the CLI registered.
const ISSUER = 'https://auth.example.com'
const SECRET = 'provider-client-secret-9f8e7d'

interface Run { code: number | null, stdout: string, stderr: string }

const cli = (args: string[], env: Record<string, string>, input?: string): Promise<Run> => runCli(args, { ISSUER, ...env }, input)

function ok (t: Test, run: Run, label: string): any {
  t.equal(run.code, 0, `${label}: exit 0`)
  t.equal(run.stderr, '', `${label}: nothing on stderr`)
  t.notOk(run.stdout.includes(SECRET), `${label}: the secret is not printed`)
  return JSON.parse(run.stdout)
}

function fails (t: Test, run: Run, label: string, message: RegExp): void {
  t.equal(run.code, 1, `${label}: exit 1`)
  t.equal(run.stdout, '', `${label}: nothing on stdout`)
  t.match(run.stderr, /^gatehouse: [^\n]+\n$/, `${label}: one line on stderr`)
  t.match(run.stderr, message, `${label}: says why`)
  t.notOk(run.stderr.includes(SECRET), `${label}: not the secret`)
}

t.test('providers add / list / update / remove: the secret from stdin, never shown; redirect_uri to register', async (t) => {
  const DATABASE_URL = await sharedDatabaseUrl(t)
  const env = { DATABASE_URL }
  const added = ok(t, await cli(['providers', 'add', 'corp', '--issuer', 'https://login.corp.example', '--client-id', 'gatehouse', '--client-secret-stdin',
    '--display-name', 'Corp SSO', '--link-by-email', '--link-linked-accounts'], env, `${SECRET}\n`), 'providers add')
  t.match(added, { name: 'corp', issuer: 'https://login.corp.example', client_id: 'gatehouse', scope: 'openid email profile', display_name: 'Corp SSO', link_by_email: true, link_linked_accounts: true, create_users: true, redirect_uri: `${ISSUER}/login/corp/callback` })
  t.notOk('client_secret' in added)
  const gh = ok(t, await cli(['providers', 'add', 'gh', '--issuer', 'https://github.com', '--client-id', 'Iv1.x', '--client-secret-stdin', '--no-create-users',
    '--authorization-endpoint', 'https://github.com/login/oauth/authorize', '--token-endpoint', 'https://github.com/login/oauth/access_token',
    '--userinfo-endpoint', 'https://api.github.com/user', '--subject-claim', 'id', '--username-claim', 'login', '--scope', 'read:user user:email'], env, SECRET), 'providers add (plain OAuth)')
  t.match(gh, { create_users: false, link_linked_accounts: false, claims: { subject: 'id', username: 'login', email: 'email', email_verified: null }, scope: 'read:user user:email' })
  const list = ok(t, await cli(['providers', 'list'], env), 'providers list')
  t.same(list.map((p: { name: string }) => p.name), ['corp', 'gh'])
  const updated = ok(t, await cli(['providers', 'update', 'corp', '--client-secret-stdin', '--no-link-by-email', '--no-link-linked-accounts'], env, 'another-secret'), 'providers update')
  t.equal(updated.link_by_email, false)
  t.equal(updated.link_linked_accounts, false, '22.6: --no-link-linked-accounts')

  // The server reads what the CLI wrote (the secret included, which it needs).
  const app = await build(t, { DATABASE_URL, ISSUER })
  t.equal((await app.storage.providers.find('corp'))?.clientSecret, 'another-secret', 'the new secret, stripped of nothing but a newline')
  t.equal((await app.storage.providers.find('gh'))?.clientSecret, SECRET)
  await app.close()

  const removed = ok(t, await cli(['providers', 'remove', 'gh'], env), 'providers remove')
  t.equal(removed.name, 'gh')
  t.same(ok(t, await cli(['providers', 'list'], env), 'list after remove').map((p: { name: string }) => p.name), ['corp'])
})

t.test('clients add/update --providers; the provider must exist', async (t) => {
  const env = { DATABASE_URL: await sharedDatabaseUrl(t) }
  ok(t, await cli(['providers', 'add', 'corp', '--issuer', 'https://login.corp.example', '--client-id', 'g', '--client-secret-stdin'], env, SECRET), 'providers add')
  fails(t, await cli(['clients', 'add', 'web', '--grant', 'authorization_code', '--redirect-uri', 'https://app.test/cb', '--providers', 'corp,nope'], env), 'unknown provider', /no provider nope/)
  const web = ok(t, await cli(['clients', 'add', 'web', '--grant', 'authorization_code', '--redirect-uri', 'https://app.test/cb', '--providers', 'corp'], env), 'clients add --providers')
  t.same(web.providers, ['corp'])
  t.equal(ok(t, await cli(['clients', 'update', 'web', '--providers', ''], env), 'clients update --providers ""').providers, null)
})

t.test('bad input: exit 1 with one line saying why; the secret never from argv', async (t) => {
  const env = { DATABASE_URL: await sharedDatabaseUrl(t) }
  const base = ['providers', 'add', 'corp', '--client-id', 'g']
  fails(t, await cli([...base, '--issuer', 'https://login.corp.example'], env, SECRET), 'no --client-secret-stdin', /--client-secret-stdin/)
  fails(t, await cli([...base, '--issuer', 'http://login.corp.example', '--client-secret-stdin'], env, SECRET), 'http issuer', /loopback/)
  fails(t, await cli(['providers', 'add', 'corp', '--client-id', 'g', '--client-secret-stdin'], env, SECRET), 'no issuer', /--issuer/)
  fails(t, await cli(['providers', 'add', 'Bad Name', '--issuer', 'https://x.example', '--client-id', 'g', '--client-secret-stdin'], env, SECRET), 'bad name', /provider name/)
  fails(t, await cli([...base, '--issuer', 'https://x.example', '--client-secret-stdin'], env, ''), 'empty secret', /client_secret/)
  fails(t, await cli([...base, '--issuer', 'https://x.example', '--client-secret-stdin', '--authorization-endpoint', 'https://x.example/a'], env, SECRET), 'half a plain provider', /plain OAuth 2.0 provider needs/)
  fails(t, await cli([...base, '--issuer', 'https://x.example', '--client-secret-stdin', '--client-secret', SECRET], env, SECRET), 'an unknown option', /Unknown option/)
  fails(t, await cli(['providers', 'remove', 'nope'], env), 'remove unknown', /no provider nope/)
  fails(t, await cli(['providers', 'frob'], env), 'unknown action', /unknown command: providers frob/)
})

t.test('providers add|update --check: the discovery document read before anything is stored', async (t) => {
  const env = { DATABASE_URL: await sharedDatabaseUrl(t) }
  const op = await startUpstreamOp({ redirectUris: `${ISSUER}/login/corp/callback`, clientSecret: SECRET })
  t.teardown(() => op.close())
  const bad = await startBadIssuers(t)
  const add = (issuer: string, ...more: string[]) => cli(['providers', 'add', 'corp', '--issuer', issuer, '--client-id', op.clientId, '--client-secret-stdin', ...more], env, SECRET)
  fails(t, await add(bad.dead, '--check'), 'a dead port', /^gatehouse: discovery failed: ECONNREFUSED \(GET http:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration\)\n$/)
  fails(t, await add(bad.wrongIssuer, '--check'), 'another issuer', /discovery failed: its issuer is .*\/elsewhere, not .*\/wrong/)
  fails(t, await add(bad.notJson, '--check'), 'not JSON', /discovery failed: .*OAUTH_RESPONSE_IS_NOT_JSON/)
  t.same(ok(t, await cli(['providers', 'list'], env), 'list').map((p: { name: string }) => p.name), [], 'nothing stored')
  const added = ok(t, await add(op.issuer, '--check'), 'a live provider')
  t.match(added, { name: 'corp', discovery: { discovered: true, issuer: op.issuer, token_endpoint: `${op.issuer}/token`, jwks_uri: `${op.issuer}/jwks` } })
  fails(t, await cli(['providers', 'update', 'corp', '--issuer', bad.wrongIssuer, '--check'], env), 'update to another issuer', /discovery failed: its issuer is/)
  t.equal(ok(t, await cli(['providers', 'list'], env), 'list')[0].issuer, op.issuer, 'unchanged')
  const unread = ok(t, await cli(['providers', 'update', 'corp', '--issuer', bad.dead], env), 'update without --check')
  t.equal(unread.issuer, bad.dead, 'saved unread')
  t.notOk('discovery' in unread)
  t.match(ok(t, await cli(['providers', 'update', 'corp', '--issuer', op.issuer, '--check'], env), 'update --check'), { issuer: op.issuer, discovery: { discovered: true } })
})

t.test('--help: the providers group and its options', async (t) => {
  for (const args of [['providers', '--help'], ['providers', 'add', '--help']]) {
    const run = await cli(args, {})
    t.equal(run.code, 0)
    t.match(run.stdout, /gatehouse providers add NAME --issuer URL --client-id ID --client-secret-stdin/)
    t.match(run.stdout, /--no-create-users/)
    t.match(run.stdout, /--link-linked-accounts/)
    t.match(run.stdout, /--authorization-endpoint URL --token-endpoint URL --userinfo-endpoint URL/)
  }
  const all = await cli(['--help'], {})
  t.match(all.stdout, /gatehouse providers list/)
})

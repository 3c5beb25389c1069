import t from 'tap'
import { ISSUER, build, sharedDatabaseUrl } from '../support/helper.js'
import { runCli } from '../support/oauth.js'
import { startSmtp } from '../support/smtp.js'

// `gatehouse users invite | invitations | uninvite`: the CLI queues the message in the database's outbox; a server
// built on the same database (it has the sender) delivers it to a real SMTP server.

const cli = (args: string[], env: Record<string, string>) => runCli(args, { ISSUER, ...env })

t.test('users invite prints {email, expires_at} and queues the message; a server on the same database sends it', async (t) => {
  const env = { DATABASE_URL: await sharedDatabaseUrl(t) }
  const before = Math.floor(Date.now() / 1000)
  const invited = await cli(['users', 'invite', 'bob@example.test', '--scope', 'items:read'], env)
  t.equal(invited.code, 0, invited.stderr)
  t.equal(invited.stderr, '')
  const printed = JSON.parse(invited.stdout)
  t.same(Object.keys(printed), ['email', 'expires_at'], 'CONTRACT.md: {"email","expires_at"}')
  t.equal(printed.email, 'bob@example.test')
  t.ok(printed.expires_at >= before + 7 * 86400 && printed.expires_at <= before + 7 * 86400 + 60, '7 days')

  const listed = await cli(['users', 'invitations'], env)
  t.equal(listed.code, 0)
  const [pending, ...others] = JSON.parse(listed.stdout)
  t.same(others, [])
  t.match(pending, { id: String, email: 'bob@example.test', scope: 'items:read', expires_at: printed.expires_at })

  const smtp = await startSmtp(t)
  const app = await build(t, { ...env, SMTP_URL: smtp.url })
  await app.mail.run()
  const [message] = await smtp.waitFor(1)
  t.same(message!.to && 'value' in message!.to ? message!.to.value.map((a) => a.address) : [], ['bob@example.test'])
  const link = new RegExp(`${ISSUER}/invitation\\?token=[A-Za-z0-9_-]{43}`).exec(message!.text ?? '')?.[0]
  t.ok(link, 'the link, whole, in the text part')
  const path = link!.slice(ISSUER.length)
  t.equal((await app.inject({ url: path })).statusCode, 200, 'it opens the invitation form')

  const uninvited = await cli(['users', 'uninvite', pending.id], env)
  t.equal(uninvited.code, 0)
  t.same(JSON.parse(uninvited.stdout), { revoked: pending.id })
  t.equal((await app.inject({ url: path })).statusCode, 400, 'revoked: the link no longer works')
  const twice = await cli(['users', 'uninvite', pending.id], env)
  t.equal(twice.code, 1)
  t.match(twice.stderr, /^gatehouse: no pending invitation with this id\n$/)
})

t.test('users invite refuses a user\'s address, a bad address and a bad scope, with one line and exit 1; nothing queued', async (t) => {
  const env = { DATABASE_URL: await sharedDatabaseUrl(t) }
  t.equal((await runCli(['users', 'add', 'alice', '--password-stdin', '--email', 'alice@example.test'], { ...env, ARGON2_MEMORY_KIB: '64', ARGON2_TIME_COST: '1' }, 'pw')).code, 0)
  for (const [args, message] of [
    [['alice@example.test'], /a user has this e-mail/],
    [['not-an-address'], /email/],
    [['carol@example.test', '--scope', 'a\\b'], /scope/],
    [[], /expected exactly one EMAIL/]
  ] as Array<[string[], RegExp]>) {
    const run = await cli(['users', 'invite', ...args], env)
    t.equal(run.code, 1, args.join(' '))
    t.equal(run.stdout, '')
    t.match(run.stderr, message)
  }
  t.same(JSON.parse((await cli(['users', 'invitations'], env)).stdout), [], 'nothing pending')
})

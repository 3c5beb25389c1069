import t from 'tap'
import { openStorage } from '../../lib/stores/index.js'
import { build, ISSUER, sharedDatabaseUrl } from '../support/helper.js'
import { runCli } from '../support/oauth.js'
import { InjectBrowser } from '../support/browser.js'
import { NEW_PASSWORD, resetPath, resetThrough, signsIn } from '../support/password-reset.js'
import { startSmtp } from '../support/smtp.js'

// `gatehouse users reset-password USERNAME`: the CLI runs without a server, so it only queues the message in the
// outbox (in the database); a server started later on the same database delivers it.

const CHEAP = { ARGON2_MEMORY_KIB: '64', ARGON2_TIME_COST: '1' }

t.test('users reset-password queues the link; a server on the same database sends it; the link resets the password', async (t) => {
  const DATABASE_URL = await sharedDatabaseUrl(t)
  const env = { ...CHEAP, DATABASE_URL, ISSUER }
  t.equal((await runCli(['users', 'add', 'alice', '--password-stdin', '--email', 'alice@example.test'], env, 'first passphrase of alice')).code, 0)
  const before = Math.floor(Date.now() / 1000)
  const run = await runCli(['users', 'reset-password', 'alice'], env)
  t.equal(run.code, 0, run.stderr)
  t.equal(run.stderr, '')
  const printed = JSON.parse(run.stdout) as { email: string, expires_at: number }
  t.same(Object.keys(printed).sort(), ['email', 'expires_at'])
  t.equal(printed.email, 'alice@example.test')
  t.ok(printed.expires_at >= before + 1800 && printed.expires_at <= Math.floor(Date.now() / 1000) + 1800, 'expires in 30 minutes')

  // No server yet: the message waits in the outbox.
  const storage = await openStorage(DATABASE_URL)
  t.equal(await storage.outbox.pending('mail'), 1, 'queued')
  await storage.close()

  const smtp = await startSmtp(t)
  const app = await build(t, { DATABASE_URL, SMTP_URL: smtp.url, MAIL_POLL_MS: '60000' })
  await app.mail.run()
  const [message] = await smtp.waitFor(1)
  t.equal(message!.to && 'value' in message!.to ? message!.to.value[0]!.address : '', 'alice@example.test')
  const res = await resetThrough(new InjectBrowser(app), resetPath(ISSUER, message!), NEW_PASSWORD)
  t.equal(res.statusCode, 200)
  t.ok(await signsIn(app, 'alice', NEW_PASSWORD), 'the new password works')
  t.notOk(await signsIn(app, 'alice', 'first passphrase of alice'), 'the old one does not')
})

t.test('users reset-password: an unknown user, one without an e-mail, a disabled one: exit 1 saying why, nothing queued', async (t) => {
  const DATABASE_URL = await sharedDatabaseUrl(t)
  const env = { ...CHEAP, DATABASE_URL, ISSUER }
  await runCli(['users', 'add', 'nomail', '--password-stdin'], env, 'pw')
  await runCli(['users', 'add', 'off', '--password-stdin', '--email', 'off@example.test'], env, 'pw')
  await runCli(['users', 'disable', 'off'], env)
  for (const [username, why] of [['nobody', /no user nobody/], ['nomail', /no e-mail address/], ['off', /disabled/]] as const) {
    const run = await runCli(['users', 'reset-password', username], env)
    t.equal(run.code, 1, `${username}: exit 1`)
    t.equal(run.stdout, '')
    t.match(run.stderr, /^gatehouse: [^\n]+\n$/, `${username}: one line on stderr`)
    t.match(run.stderr, why)
  }
  t.match((await runCli(['users', 'reset-password'], env)).stderr, /expected exactly one USERNAME/)
  const storage = await openStorage(DATABASE_URL)
  t.equal(await storage.outbox.pending(), 0, 'nothing queued')
  await storage.close()
})

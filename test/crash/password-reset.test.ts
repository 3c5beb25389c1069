import t, { type Test } from 'tap'
import { join } from 'node:path'
import { openStorage } from '../../lib/stores/index.js'
import { freePort, sharedDatabaseUrl } from '../support/helper.js'
import { DIST } from '../support/paths.js'
import { field } from '../support/browser.js'
import { NEW_PASSWORD, resetPath } from '../support/password-reset.js'
import { parseExposition, sampleValue } from '../support/prometheus.js'
import { formPost, runCli, startServer, stopServer } from '../support/server-process.js'
import { startSmtp } from '../support/smtp.js'
import { CookieJar } from '../support/upstream/jar.js'
import { KILL_AFTER_ANSWER_ENV } from '../fixtures/mail-plugin/index.js'

// A forgotten password survives a kill -9 between the request and the send (issue 24): `node dist/server.js` takes
// a real POST /forgot-password (CSRF cookie and field from the page) while the SMTP server refuses (451), so nothing
// can leave; the process is killed; a new one on the same database and port, with the SMTP server accepting, sends
// the reset message, and its link sets a password that signs in. Two moments of the kill: once the message is
// queued (the outbox row of the mail), and the instant the answer is out (only the stored request exists then).

const OLD_PASSWORD = 'first passphrase of alice'
/** How long a start may take: inside `npm test` the machine is shared, and only a hung start is this test's concern. */
const START_MS = 30_000

async function setUp (t: Test) {
  const smtp = await startSmtp(t)
  smtp.refuseWith = 451
  const port = await freePort()
  const issuer = `http://127.0.0.1:${port}`
  // MAIL_POLL_MS long in the first process: only the rounds the request itself starts run there.
  const env = { DATABASE_URL: await sharedDatabaseUrl(t), ISSUER: issuer, SMTP_URL: smtp.url, MAIL_POLL_MS: '60000', PLUGINS_DIR: join(DIST, 'test', 'fixtures', 'mail-plugin') }
  await runCli(['users', 'add', 'alice', '--password-stdin', '--email', 'alice@example.test'], env, OLD_PASSWORD)
  /** The outbox as the database holds it: unfinished rows of each kind. */
  const outbox = async () => {
    const storage = await openStorage(env.DATABASE_URL)
    try {
      return { requests: await storage.outbox.pending('password-reset-request'), mail: await storage.outbox.pending('mail') }
    } finally {
      await storage.close()
    }
  }
  /** A new server process on the same database and port, the SMTP server accepting; its rounds every 200 ms. */
  const restart = async () => {
    smtp.refuseWith = undefined
    const server = await startServer({ ...env, MAIL_POLL_MS: '200' }, port, START_MS)
    t.teardown(() => stopServer(server))
    return server
  }
  return { smtp, port, issuer, env, outbox, restart }
}

/** The forgotten-password page as a browser uses it: GET for the CSRF cookie and field, then POST the e-mail. */
async function forgotPassword (url: string, email: string): Promise<Response> {
  const jar = new CookieJar()
  const page = await jar.fetch(`${url}/forgot-password`)
  if (page.status !== 200) throw new Error(`forgot-password page: ${page.status}`)
  return jar.fetch(`${url}/forgot-password`, { form: { csrf: field(await page.text(), 'csrf'), email } })
}

/** Opens the mailed link in a new browser and sets `password` there; the answer's status. */
async function resetOverHttp (issuer: string, path: string, password: string): Promise<number> {
  const jar = new CookieJar()
  const page = await jar.fetch(`${issuer}${path}`)
  if (page.status !== 200) return page.status
  const html = await page.text()
  const done = await jar.fetch(`${issuer}/reset-password`, { form: { csrf: field(html, 'csrf'), token: field(html, 'token'), password, password_confirmation: password } })
  return done.status
}

const signsIn = async (url: string, password: string) =>
  (await formPost(`${url}/token`, { grant_type: 'password', username: 'alice', password })).status === 200

/** Attempts of the mail sender that have ended in a failure and been recorded (tried again later, or given up). */
async function failedAttempts (url: string): Promise<number> {
  const e = parseExposition(await (await fetch(`${url}/metrics`)).text())
  return ['retried', 'failed'].reduce((sum, result) => sum + (sampleValue(e, 'gatehouse_mail_messages_total', { result }) ?? 0), 0)
}

t.test('kill -9 once the reset message is queued, unsent (451): the restarted server sends it and its link works', async (t) => {
  const { smtp, port, issuer, env, outbox, restart } = await setUp(t)
  const first = await startServer(env, port, START_MS)
  t.teardown(() => stopServer(first))
  const answer = await forgotPassword(first.url, 'alice@example.test')
  t.equal(answer.status, 200)
  t.match(await answer.text(), 'If an account uses this address, we sent it a link')

  // The request is answered into a mail row, and the SMTP server has refused its first attempt (the row is
  // rescheduled, its claim let go): the moment between the request and the send.
  const deadline = Date.now() + 15_000
  while (await failedAttempts(first.url) < 1) {
    if (Date.now() > deadline) throw new Error(`the message was never tried: ${first.output()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.same(await outbox(), { requests: 0, mail: 1 }, 'the request answered; its message waits in the outbox')
  t.ok(smtp.refused.length >= 1, 'the SMTP server refused it')
  t.equal(smtp.messages.length, 0, 'nothing sent')

  first.child.kill('SIGKILL')
  t.equal(await first.exited, 'SIGKILL', 'killed')

  const second = await restart()
  // Due again 10 s after the refused attempt (lib/ops/outbox.ts OUTBOX_BACKOFF_SECONDS).
  const [mail] = await smtp.waitFor(1, 40_000)
  t.match(JSON.stringify(mail!.to), 'alice@example.test')
  t.equal(await resetOverHttp(issuer, resetPath(issuer, mail!), NEW_PASSWORD), 200, 'the link works')
  t.ok(await signsIn(second.url, NEW_PASSWORD), 'the new password signs in')
  t.notOk(await signsIn(second.url, OLD_PASSWORD), 'the old one does not')
  t.same(await outbox(), { requests: 0, mail: 0 })
  t.equal(smtp.messages.length, 1, 'sent once')
})

t.test('kill -9 the instant the answer is out: the stored request is answered by the restarted server', async (t) => {
  const { smtp, port, issuer, env, outbox, restart } = await setUp(t)
  const first = await startServer({ ...env, [KILL_AFTER_ANSWER_ENV]: '/forgot-password' }, port, START_MS)
  t.teardown(() => stopServer(first))
  const answer = await forgotPassword(first.url, 'alice@example.test')
  t.equal(answer.status, 200, 'the person got the answer')
  t.match(await answer.text(), 'If an account uses this address, we sent it a link')
  t.equal(await first.exited, 'SIGKILL', 'killed right after answering')
  t.same(await outbox(), { requests: 1, mail: 0 }, 'the request was stored before the answer; nothing after it ran')
  t.same([smtp.messages.length, smtp.refused.length], [0, 0], 'nothing tried')

  const second = await restart()
  const [mail] = await smtp.waitFor(1, 20_000)
  t.match(JSON.stringify(mail!.to), 'alice@example.test')
  t.equal(await resetOverHttp(issuer, resetPath(issuer, mail!), NEW_PASSWORD), 200, 'the link works')
  t.ok(await signsIn(second.url, NEW_PASSWORD), 'the new password signs in')
  t.same(await outbox(), { requests: 0, mail: 0 })
  t.equal(smtp.messages.length, 1, 'sent once')
})

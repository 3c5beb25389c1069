import t from 'tap'
import { join } from 'node:path'
import { sharedDatabaseUrl } from '../support/helper.js'
import { DIST } from '../support/paths.js'
import { startServer, stopServer } from '../support/server-process.js'
import { startSmtp } from '../support/smtp.js'
import { SEND_MAIL_PATH } from '../fixtures/mail-plugin/index.js'

// The outbox survives a kill -9 between the request and the send (issue 24): the server process queues a message
// and is killed at once (test/fixtures/mail-plugin, through PLUGINS_DIR); the restarted process sends it.

t.test('a message queued just before a kill -9 is sent by the restarted server', async (t) => {
  const smtp = await startSmtp(t)
  const env = {
    DATABASE_URL: await sharedDatabaseUrl(t),
    SMTP_URL: smtp.url,
    PLUGINS_DIR: join(DIST, 'test', 'fixtures', 'mail-plugin'),
    MAIL_POLL_MS: '60000'
  }
  const first = await startServer(env)
  t.teardown(() => stopServer(first))
  const answer = await fetch(`${first.url}${SEND_MAIL_PATH}?then=die`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ to: 'eve@example.test', token: 'after-crash' })
  }).then((r) => r.status, (err: Error) => err.message)
  t.equal(await first.exited, 'SIGKILL', 'killed')
  t.not(answer, 200, 'no answer: it died in the request')
  t.equal(smtp.messages.length, 0, 'nothing was sent before the kill')

  const second = await startServer(env)
  t.teardown(() => stopServer(second))
  const [mail] = await smtp.waitFor(1, 15_000)
  t.match(mail!.text, '/verify-email?token=after-crash')
  t.equal(smtp.messages.length, 1)
})

import t from 'tap'
import { readFileSync } from 'node:fs'
import { simpleParser } from 'mailparser'
import { build, freePort, ISSUER, manualClock, sharedDatabaseUrl } from '../support/helper.js'
import { parseExposition, sampleValue } from '../support/prometheus.js'
import { startSmtp } from '../support/smtp.js'

// plugins/mail.ts against a real SMTP server (smtp-server) started here, read with mailparser: nothing mocked.
// The rules alone: test/lib/ops/outbox.test.ts, test/lib/mail/. On SQLite here; test/postgres/ runs it again.
// MAIL_POLL_MS is long so that only the rounds a test runs (and the one `send` starts) happen.

const SLOW_POLL = { MAIL_POLL_MS: '60000' }

async function counts (app: Awaited<ReturnType<typeof build>>) {
  const e = parseExposition((await app.inject({ url: '/metrics' })).body)
  const mail = (result: string) => sampleValue(e, 'gatehouse_mail_messages_total', { result }) ?? 0
  return { sent: mail('sent'), retried: mail('retried'), failed: mail('failed'), mailFailedEvents: sampleValue(e, 'gatehouse_security_events_total', { type: 'mail_failed' }) ?? 0 }
}

t.test('a message arrives at the SMTP server with its headers, and links on ISSUER only', async (t) => {
  const smtp = await startSmtp(t)
  const app = await build(t, { ...SLOW_POLL, SMTP_URL: smtp.url, MAIL_FROM: 'Acme Login <login@acme.test>' })
  t.equal(app.mail.transport, 'smtp')
  const id = await app.mail.send('reset-password', 'ann@example.test', { token: 'tok-123', username: 'ann' })
  const [mail] = await smtp.waitFor(1)
  t.equal(mail!.from?.text, '"Acme Login" <login@acme.test>')
  t.equal(mail!.to && !Array.isArray(mail!.to) ? mail!.to.text : '', 'ann@example.test')
  t.equal(mail!.subject, 'Reset your Gatehouse password')
  t.equal(mail!.messageId, `<${id}@acme.test>`, 'the Message-ID names the outbox row: a resend is the same message')
  t.match(mail!.text, `${ISSUER}/reset-password?token=tok-123`)
  t.match(String(mail!.html), `<a href="${ISSUER}/reset-password?token=tok-123">`)
  const hrefs = [...String(mail!.html).matchAll(/href="([^"]+)"/g)].map((m) => m[1])
  t.ok(hrefs.every((h) => h!.startsWith(`${ISSUER}/`)), 'every link on the issuer')
  t.match(await counts(app), { sent: 1, retried: 0, failed: 0 })
  t.equal(await app.storage.outbox.pending(), 0)
})

t.test('no SMTP_URL: the message is written as an .eml file a mail client reads', async (t) => {
  const dir = t.testdir({})
  const app = await build(t, { ...SLOW_POLL, MAIL_DIR: dir })
  t.equal(app.mail.transport, 'file')
  await app.mail.send('verify-email', 'bob@example.test', { token: 'v-1' })
  const [outcome] = await app.mail.run()
  t.equal(outcome?.result, 'sent')
  const file = (outcome as { detail: { file: string } }).detail.file
  t.ok(file.startsWith(dir) && file.endsWith('.eml'), file)
  const raw = readFileSync(file, 'utf8')
  t.match(raw, /\r\n\r\n/, 'CRLF line ends (RFC 5322)')
  const mail = await simpleParser(raw)
  t.equal(mail.from?.text, '"Gatehouse" <no-reply@gatehouse.test>', 'MAIL_FROM by default: Gatehouse <no-reply@HOST of ISSUER>')
  t.equal(mail.subject, 'Confirm your e-mail address for Gatehouse')
  t.match(mail.text, `${ISSUER}/verify-email?token=v-1`)
})

t.test('an SMTP server refusing with 451 for a while: retried with backoff, delivered once it accepts', async (t) => {
  const smtp = await startSmtp(t)
  smtp.refuseWith = 451
  const clock = manualClock()
  const app = await build(t, { ...SLOW_POLL, SMTP_URL: smtp.url }, { clock })
  await app.mail.send('verify-email', 'cat@example.test', { token: 'x' })
  t.match(await app.mail.run(), [{ result: 'retried' }])
  t.same(await app.mail.run(), [], 'not due again before its backoff')
  clock.advance(10)
  t.match(await app.mail.run(), [{ result: 'retried' }], 'still refused at the second attempt')
  smtp.refuseWith = undefined
  clock.advance(59)
  t.same(await app.mail.run(), [], 'the second wait is a minute')
  clock.advance(1)
  t.match(await app.mail.run(), [{ result: 'sent' }])
  t.equal((await smtp.waitFor(1)).length, 1)
  t.equal(smtp.refused.length, 2)
  t.match(await counts(app), { sent: 1, retried: 2, failed: 0 })
})

t.test('an SMTP server that is down: send returns at once; the message waits for it', async (t) => {
  const port = await freePort()
  const app = await build(t, { ...SLOW_POLL, SMTP_URL: `smtp://127.0.0.1:${port}` })
  const started = Date.now()
  await app.mail.send('verify-email', 'dan@example.test', { token: 'x' })
  t.ok(Date.now() - started < 500, `send took ${Date.now() - started} ms`)
  const outcomes = await app.mail.run()
  t.match(outcomes, [{ result: 'retried', error: /ECONNREFUSED|connect/ }])
  t.equal(await app.storage.outbox.pending('mail'), 1, 'still queued')
})

t.test('a recipient refused for good (550): given up at once, a mail_failed event and the failed count', async (t) => {
  const smtp = await startSmtp(t)
  smtp.refuseWith = 550
  const app = await build(t, { ...SLOW_POLL, SMTP_URL: smtp.url })
  await app.mail.send('verify-email', 'nobody@example.test', { token: 'x' })
  t.match(await app.mail.run(), [{ result: 'failed', error: /550|no such mailbox/ }])
  t.match(await counts(app), { sent: 0, failed: 1, mailFailedEvents: 1 })
  t.equal(await app.storage.outbox.pending(), 0)
})

t.test('send refuses a bad recipient before anything is queued', async (t) => {
  const app = await build(t, { ...SLOW_POLL, MAIL_DIR: t.testdir({}) })
  await t.rejects(app.mail.send('verify-email', 'a@example.test\r\nBcc: eve@evil.test', { token: 'x' }), { name: 'MailMessageError' })
  t.equal(await app.storage.outbox.pending(), 0)
})

t.test('two instances on one database send each message once', async (t) => {
  const smtp = await startSmtp(t)
  const url = await sharedDatabaseUrl(t)
  const env = { ...SLOW_POLL, SMTP_URL: smtp.url, DATABASE_URL: url }
  const [a, b] = await Promise.all([build(t, env), build(t, env)])
  const ids = []
  for (let i = 0; i < 24; i++) ids.push(await (i % 2 === 0 ? a : b).mail.send('verify-email', `u${i}@example.test`, { token: String(i) }))
  for (let round = 0; round < 10 && (await a.storage.outbox.pending()) > 0; round++) await Promise.all([a.mail.run(), b.mail.run(), a.mail.run(), b.mail.run()])
  const mails = await smtp.waitFor(24)
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(smtp.messages.length, 24, 'no message twice')
  t.same(new Set(mails.map((m) => m.messageId)), new Set(ids.map((id) => `<${id}@gatehouse.test>`)))
})

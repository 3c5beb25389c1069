import t from 'tap'
import { buildMessage, issuerLink } from '../../../lib/mail/message.js'
import { MailTemplates } from '../../../lib/mail/templates.js'
import { defaultMailFrom, isMailAddress, parseMailbox } from '../../../lib/mail/addresses.js'
import { parseSmtpUrl, redactSmtpUrl } from '../../../lib/mail/smtp-url.js'
import { loadConfig } from '../../../lib/config.js'

const templates = new MailTemplates()
const base = { kind: 'verify-email', to: 'ann@example.test', data: { token: 'tok', username: 'ann' }, from: 'Gatehouse <no-reply@id.example>', issuer: 'https://id.example', issuerName: 'Acme' }

t.test('a message from its templates: subject, text and HTML, the link on ISSUER', async (t) => {
  const m = buildMessage(templates, base)
  t.match(m, { kind: 'verify-email', to: 'ann@example.test', from: 'Gatehouse <no-reply@id.example>', subject: 'Confirm your e-mail address for Acme' })
  t.match(m.text, 'https://id.example/verify-email?token=tok\n')
  t.match(m.html, '<a href="https://id.example/verify-email?token=tok">')
  for (const kind of ['reset-password', 'invitation']) t.ok(buildMessage(templates, { ...base, kind }).text.includes(`https://id.example/${kind}?token=tok`), kind)
})

t.test('VIEWS_DIR/mail: a template the operator has wins; the others come from the built-in folder', async (t) => {
  const dir = t.testdir({ mail: { 'verify-email.subject.eta': 'Please confirm, <%= it.username %>' } })
  const m = buildMessage(new MailTemplates(dir), base)
  t.equal(m.subject, 'Please confirm, ann', 'the operator\'s subject')
  t.match(m.text, 'https://id.example/verify-email?token=tok\n', 'the built-in text part')
  t.match(m.html, '<a href="https://id.example/verify-email?token=tok">', 'the built-in HTML part and layout')
  t.equal(buildMessage(new MailTemplates(t.testdir({})), base).subject, 'Confirm your e-mail address for Acme', 'a VIEWS_DIR without mail/: every part built in')
})

t.test('header injection: a recipient or subject with CR/LF, a list or a name is refused', async (t) => {
  for (const to of ['ann@example.test\r\nBcc: eve@evil.test', 'ann@example.test\nBcc: eve@evil.test', 'ann@example.test, eve@evil.test', 'Eve <eve@evil.test>', 'ann', '']) {
    t.throws(() => buildMessage(templates, { ...base, to }), { name: 'MailMessageError' }, JSON.stringify(to))
  }
  // The data reaches the subject of reset-password through issuerName; a value with a line break must not pass.
  t.throws(() => buildMessage(templates, { ...base, issuerName: 'Acme\r\nBcc: eve@evil.test' }), { name: 'MailMessageError' })
  t.throws(() => buildMessage(templates, { ...base, from: 'x@y.test\r\nBcc: eve@evil.test' }), { name: 'MailMessageError' })
  t.throws(() => buildMessage(templates, { ...base, kind: '../layout' }), /mail kind/)
})

t.test('links: from ISSUER and an absolute path only (U5)', async (t) => {
  t.equal(issuerLink('https://id.example/base/', '/reset-password', { token: 'a b&c' }), 'https://id.example/base/reset-password?token=a+b%26c')
  for (const path of ['//evil.test/x', 'https://evil.test', '/\\evil.test', 'relative', '/x?y=1']) t.throws(() => issuerLink('https://id.example', path), { name: 'MailMessageError' }, path)
})

t.test('addresses and MAIL_FROM', async (t) => {
  t.equal(defaultMailFrom('http://localhost:3000'), 'Gatehouse <no-reply@localhost>')
  t.same(parseMailbox('Acme Login <login@acme.test>'), { name: 'Acme Login', address: 'login@acme.test' })
  t.same(parseMailbox('login@acme.test'), { name: '', address: 'login@acme.test' })
  t.equal(parseMailbox('A <a@b.test>\r\nBcc: e@e.test'), undefined)
  t.notOk(isMailAddress('a@b.test.'))
  t.equal(loadConfig({ ISSUER: 'https://id.example:8443' }).mailFrom, 'Gatehouse <no-reply@id.example>')
  t.throws(() => loadConfig({ MAIL_FROM: 'not an address' }), /MAIL_FROM/)
})

t.test('SMTP_URL: parsed, TLS required off loopback, its password never in an error', async (t) => {
  t.match(parseSmtpUrl('smtp://127.0.0.1:2525'), { host: '127.0.0.1', port: 2525, secure: false, requireTls: false, auth: undefined })
  t.match(parseSmtpUrl('smtp://relay.example'), { port: 587, requireTls: true })
  t.match(parseSmtpUrl('smtps://u%40x:p%3Ass@relay.example'), { port: 465, secure: true, requireTls: false, auth: { user: 'u@x', pass: 'p:ss' } })
  t.equal(redactSmtpUrl('smtps://user:hunter2@relay.example:465'), 'smtps://user:***@relay.example:465')
  for (const bad of ['smtps://user:hunter2@relay.example/path', 'http://user:hunter2@relay.example', 'smtps://user:hunter2@']) {
    const err = t.throws(() => loadConfig({ SMTP_URL: bad })) as Error
    t.match(err.message, /SMTP_URL/)
    t.notMatch(err.message, /hunter2/, `no password in: ${err.message}`)
  }
})

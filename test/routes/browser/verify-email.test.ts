import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { ISSUER, build, manualClock } from '../../support/helper.js'
import { InjectBrowser, authorizeThrough, browserFixtures, exchange, webRequest } from '../../support/browser.js'
import { startSmtp } from '../../support/smtp.js'
import { sendVerification } from '../../../lib/accounts/verification.js'
import { updateUser } from '../../../lib/admin/users.js'

// GET /verify-email: the link a user is mailed (read from a real SMTP server), single use, 24 h; email_verified in
// the ID token and /userinfo follows it. The link rules alone: test/lib/accounts/links.test.ts.

async function setUp (t: Test) {
  const smtp = await startSmtp(t)
  const clock = manualClock()
  const app = await build(t, { SMTP_URL: smtp.url, MAIL_POLL_MS: '60000' }, { clock })
  const fixtures = await browserFixtures(app, { skipConsent: true })
  const send = (kind: string, to: string, data?: Record<string, unknown>) => app.mail.send(kind, to, data)
  /** Sends alice a verification link; the link as the message's text part holds it. */
  const mailLink = async (): Promise<string> => {
    const alice = (await app.storage.users.findByUsername('alice'))!
    t.ok(await sendVerification({ storage: app.storage, send }, alice, clock.now()))
    const messages = await smtp.waitFor(smtp.messages.length + 1)
    const text = messages.at(-1)!.text ?? ''
    const link = new RegExp(`${ISSUER}/verify-email\\?token=[A-Za-z0-9_-]+`).exec(text)?.[0]
    if (link === undefined) throw new Error(`no link in ${text}`)
    return link.slice(ISSUER.length)
  }
  return { app, clock, smtp, mailLink, ...fixtures }
}

async function emailVerifiedClaims (app: FastifyInstance, webAuth: string) {
  const browser = new InjectBrowser(app)
  // Scope claims go to /userinfo; the ID token carries email_verified when the claims parameter asks (OIDC Core §5.4, §5.5).
  const req = webRequest({ scope: 'openid email', claims: JSON.stringify({ id_token: { email_verified: null } }) })
  const code = await authorizeThrough(browser, req.url)
  const body = (await exchange(app, { code, code_verifier: req.verifier }, webAuth)).json() as { access_token: string, id_token: string }
  const idToken = JSON.parse(Buffer.from(body.id_token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>
  const userinfo = (await app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${body.access_token}` } })).json() as Record<string, unknown>
  return { idToken: idToken.email_verified, userinfo: userinfo.email_verified }
}

t.test('the mailed link verifies the address once; email_verified follows in the ID token and /userinfo', async (t) => {
  const { app, mailLink, webAuth } = await setUp(t)
  t.same(await emailVerifiedClaims(app, webAuth), { idToken: false, userinfo: false }, 'not verified before')
  const link = await mailLink()
  const res = await app.inject({ url: link })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /text\/html/)
  t.match(res.body, 'Your e-mail address is verified')
  t.same(await emailVerifiedClaims(app, webAuth), { idToken: true, userinfo: true }, 'verified after')
  const again = await app.inject({ url: link })
  t.equal(again.statusCode, 400, 'a link works once')
  t.match(again.body, 'This link does not work')
})

t.test('bad links: expired after 24 h, replaced by a newer one, tampered, missing, for an address changed since', async (t) => {
  const { app, clock, mailLink } = await setUp(t)
  const verified = async () => (await app.storage.users.findByUsername('alice'))!.emailVerified
  const expired = await mailLink()
  clock.advance(24 * 3600)
  t.equal((await app.inject({ url: expired })).statusCode, 400, 'expired')
  const older = await mailLink()
  const newer = await mailLink()
  t.equal((await app.inject({ url: older })).statusCode, 400, 'the older link is void')
  const token = newer.split('token=')[1]!
  const tampered = `/verify-email?token=${token[0] === 'A' ? 'B' : 'A'}${token.slice(1)}`
  for (const url of [tampered, '/verify-email', '/verify-email?token=', `/verify-email?token=${token}&token=${token}`]) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 400, url)
    t.match(res.headers['content-type'], /text\/html/)
  }
  t.equal(await verified(), false, 'nothing changed')
  await updateUser({ storage: app.storage, passwords: app.passwords, clock: app.clock, config: app.config }, 'alice', { email: 'other@example.test' })
  t.equal((await app.inject({ url: newer })).statusCode, 400, 'a link for the old address proves nothing about the new one')
  t.equal(await verified(), false)
  const fresh = await mailLink()
  t.equal((await app.inject({ url: fresh })).statusCode, 200)
  t.equal(await verified(), true)
  await updateUser({ storage: app.storage, passwords: app.passwords, clock: app.clock, config: app.config }, 'alice', { email: 'third@example.test' })
  t.equal(await verified(), false, 'an administrator changing the address unverifies it')
})

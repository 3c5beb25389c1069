import t from 'tap'
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { EMAIL_MESSAGES } from '../../lib/accounts/limits.js'
import { addUser, build, FORM, form, sharedDatabaseUrl } from '../support/helper.js'
import { field } from '../support/browser.js'
import { startSmtp } from '../support/smtp.js'

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** One /forgot-password as a browser at `address` does it: the page (its CSRF cookie and field), then the post. */
async function forgot (app: FastifyInstance, address: string, email: string): Promise<number> {
  const page = await app.inject({ method: 'GET', url: '/forgot-password', remoteAddress: address })
  const cookie = ([] as string[]).concat(page.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ')
  const res = await app.inject({ method: 'POST', url: '/forgot-password', remoteAddress: address, headers: { ...FORM, cookie }, payload: form({ csrf: field(page.body, 'csrf'), email }) })
  return res.statusCode
}

/**
 * CONTRACT.md, Accounts: the limits on self-service messages are "shared through Redis when set", so they hold for
 * a deployment, not per instance. Two instances on one database and one Redis take turns answering requests for one
 * e-mail address from ever new client addresses: together they send what the per-e-mail limit allows, no more. The
 * same two instances without Redis each count alone (twice the messages): what the shared counters are for.
 */
for (const withRedis of [true, false]) {
  t.test(`per-e-mail limit across two instances ${withRedis ? 'sharing Redis: held by the deployment' : 'without Redis: held by each instance'}`, async (t) => {
    const smtp = await startSmtp(t)
    const env: Record<string, string> = {
      DATABASE_URL: await sharedDatabaseUrl(t),
      SMTP_URL: smtp.url,
      MAIL_POLL_MS: '100',
      ...(withRedis ? { REDIS_URL: redisUrl, REDIS_TIMEOUT_MS: '1000', REDIS_PREFIX: `gh-test-${randomUUID()}:` } : {})
    }
    const a = await build(t, env)
    const b = await build(t, env)
    await addUser(a, 'alice', 'correct horse battery staple', { email: 'alice@example.test' })

    const tries = 3 * EMAIL_MESSAGES.max
    const statuses: number[] = []
    for (let i = 0; i < tries; i++) statuses.push(await forgot(i % 2 === 0 ? a : b, `127.30.${i}.1`, 'alice@example.test'))
    t.notOk(statuses.some((s) => s >= 500), 'no 5xx')
    const expected = withRedis ? EMAIL_MESSAGES.max : 2 * EMAIL_MESSAGES.max
    t.equal(statuses.filter((s) => s === 200).length, expected, `${expected} answered, the rest told to try later`)
    t.equal(statuses.filter((s) => s === 429).length, tries - expected)

    // Count at the SMTP server: every accepted request's message arrives, and nothing more.
    await smtp.waitFor(expected, 20_000)
    await new Promise((resolve) => setTimeout(resolve, 500))
    t.equal(smtp.messages.length, expected, 'messages counted at the SMTP server')
  })
}

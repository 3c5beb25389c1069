import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { loadConfig } from '../../lib/config.js'
import { baseOptions } from '../../lib/http/server-options.js'
import { newSecret } from '../../lib/browser/cookies.js'
import browserSession from '../../plugins/browser-session.js'
import clientAddress from '../../plugins/client-address.js'
import clientMetadataDocuments from '../../plugins/client-metadata-documents.js'
import events from '../../plugins/events.js'
import metrics from '../../plugins/metrics.js'
import throttle from '../../plugins/throttle.js'
import clock from '../../plugins/clock.js'
import config from '../../plugins/config.js'
import errorHandler from '../../plugins/error-handler.js'
import formbody from '../../plugins/formbody.js'
import idTokens from '../../plugins/id-tokens.js'
import redis from '../../plugins/redis.js'
import secrets from '../../plugins/secrets.js'
import signingKeys from '../../plugins/signing-keys.js'
import storage from '../../plugins/storage.js'
import { FAST_HASH, form, FORM, freshDatabase, ISSUER } from '../support/helper.js'

// plugins/browser-session.ts on a Fastify of its own (config, clock, storage, formbody, error-handler, and the ID tokens that
// check a pending request's id_token_hint; no pages, no app): the
// route flag it requires, the CSRF check it adds to forms, which cookie of a name it reads, and its memos.
// The pages that use it: test/routes/browser/, test/security/browser.test.ts.

async function bare (t: Test, routes: (fastify: FastifyInstance) => void): Promise<FastifyInstance> {
  const database = await freshDatabase(t)
  const fastify = Fastify({ logger: false, ...baseOptions })
  t.teardown(async () => {
    await fastify.close()
    await database.drop()
  })
  const env = { ISSUER, ...FAST_HASH, DATABASE_URL: database.url }
  // browser-session's dependencies (it resolves clients through the Client ID Metadata Document lookup too).
  for (const plugin of [config, clock, redis, storage, secrets, signingKeys, idTokens, formbody, errorHandler, clientAddress, metrics, events, throttle, clientMetadataDocuments]) await fastify.register(plugin, { config: loadConfig(env) })
  await fastify.register(async (browser) => {
    await browser.register(browserSession)
    routes(browser)
  })
  return fastify
}

t.test('a route beside the pages without config.browser is refused at startup', async (t) => {
  await t.rejects(bare(t, (browser) => { browser.get('/unmarked', async () => 'hi') }), /GET \/unmarked: a browser route says config.browser: 'page' or 'form'/)
})

t.test('a `form` route is CSRF-checked before its handler; a `page` route is not', async (t) => {
  let handled = 0
  const app = await bare(t, (browser) => {
    browser.post('/form', { config: { browser: 'form' } }, async () => { handled++; return 'posted' })
    browser.get('/page', { config: { browser: 'page' } }, async (_request, reply) => reply.csrfToken())
  })
  const page = await app.inject('/page')
  const token = page.body
  const cookie = `gatehouse-csrf=${token}`
  t.match(String(page.headers['set-cookie']), /^gatehouse-csrf=[A-Za-z0-9_-]{43};/, 'the page sets the token it renders')
  t.equal((await app.inject({ method: 'POST', url: '/form', headers: { ...FORM, cookie }, payload: form({ csrf: token }) })).statusCode, 200)
  t.equal(handled, 1)
  for (const [label, headers, fields] of [
    ['no token', { ...FORM, cookie }, {}],
    ['no cookie', FORM, { csrf: token }],
    ['another token', { ...FORM, cookie }, { csrf: newSecret() }],
    ['another site', { ...FORM, cookie, origin: 'https://evil.test' }, { csrf: token }]
  ] as Array<[string, Record<string, string>, Record<string, string>]>) {
    t.equal((await app.inject({ method: 'POST', url: '/form', headers, payload: form(fields) })).statusCode, 403, label)
  }
  const json = await app.inject({ method: 'POST', url: '/form', headers: { cookie, 'content-type': 'application/json' }, payload: { csrf: token } })
  t.equal(json.statusCode, 403, 'a JSON body is no form: refused')
  t.equal(handled, 1, 'no refused post reached the handler')
})

t.test('the first cookie of a name wins (browsers send the most specific first); a malformed value counts as none', async (t) => {
  const app = await bare(t, (browser) => {
    browser.get('/binding', { config: { browser: 'page' } }, async (request) => ({ binding: request.upstreamBinding() ?? null }))
  })
  const [first, second] = [newSecret(), newSecret()]
  const binding = async (cookie: string) => (await app.inject({ url: '/binding', headers: { cookie } })).json().binding
  t.equal(await binding(`gatehouse-upstream=${first}; gatehouse-upstream=${second}`), first)
  t.equal(await binding(`other=1; gatehouse-upstream=${second};gatehouse-upstream=${first}`), second)
  t.equal(await binding('gatehouse-upstream=short'), null)
  t.equal(await binding(`__Host-gatehouse-upstream=${first}`), null, 'an http issuer reads the plain name only')
})

t.test('the session and the pending authorization request are read once per request', async (t) => {
  const app = await bare(t, (browser) => {
    browser.get('/memo', { config: { browser: 'page' } }, async (request) => {
      const [session, pending] = [request.browserSession(), request.pendingAuthorization()]
      return { session: session === request.browserSession(), pending: pending === request.pendingAuthorization(), none: (await session) ?? null }
    })
    browser.post('/needs-request', { config: { browser: 'form' } }, async (request) => request.pendingAuthorization({ required: true }))
  })
  t.same((await app.inject('/memo')).json(), { session: true, pending: true, none: null })
  const page = await app.inject({ method: 'GET', url: '/memo', headers: { cookie: `gatehouse-session=${newSecret()}` } })
  t.equal(page.json().none, null, 'a session id the store does not know: nobody')
  const token = newSecret()
  const missing = await app.inject({ method: 'POST', url: '/needs-request', headers: { ...FORM, cookie: `gatehouse-csrf=${token}` }, payload: form({ csrf: token }) })
  t.equal(missing.statusCode, 400, '{ required: true } and no return_to: refused')
  t.match(missing.json(), { error: 'invalid_request', error_description: 'the form has no authorization request' })
})

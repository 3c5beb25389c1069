import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build } from '../../support/helper.js'
import { assertOAuthError } from '../../support/oauth.js'
import { addRegistrationToken } from '../../../lib/admin/registration-tokens.js'

/** RFC 7591 POST /register and RFC 7592 GET/PUT/DELETE /register/{client_id} through inject, in every REGISTRATION mode. */

const JSON_TYPE = { 'content-type': 'application/json' }
const register = (app: FastifyInstance, body: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/register', headers: { ...JSON_TYPE, ...headers }, payload: JSON.stringify(body) })
const manage = (app: FastifyInstance, method: 'GET' | 'PUT' | 'DELETE', id: string, token: string, body?: unknown) =>
  app.inject({ method, url: `/register/${encodeURIComponent(id)}`, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : JSON_TYPE) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) })

const NATIVE = { redirect_uris: ['http://127.0.0.1:8123/cb', 'com.example.app:/cb'], token_endpoint_auth_method: 'none', client_name: 'Example App' }

test('REGISTRATION=off: no /register (404), no registration_endpoint', async (t) => {
  const app = await build(t)
  const res = await register(app, NATIVE)
  t.equal(res.statusCode, 404)
  t.equal(res.json().error, 'not_found')
  t.equal((await manage(app, 'GET', 'x', 'y')).statusCode, 404)
  const metadata = (await app.inject('/.well-known/openid-configuration')).json()
  t.equal(metadata.registration_endpoint, undefined)
})

test('REGISTRATION=open: a public client registers, reads, updates and deletes itself', async (t) => {
  const app = await build(t, { REGISTRATION: 'open' })
  const metadata = (await app.inject('/.well-known/openid-configuration')).json()
  t.equal(metadata.registration_endpoint, 'http://gatehouse.test/register')

  const res = await register(app, { ...NATIVE, unknown_field: 'ignored', contacts: ['dev@example.test'] })
  t.equal(res.statusCode, 201, res.body)
  t.match(res.headers['cache-control'], /no-store/)
  const reg = res.json()
  t.match(reg.client_id, /^dyn\./)
  t.equal(reg.client_secret, undefined, 'a public client has no secret')
  t.equal(reg.token_endpoint_auth_method, 'none')
  t.same(reg.grant_types, ['authorization_code'])
  t.same(reg.response_types, ['code'])
  t.same(reg.redirect_uris, NATIVE.redirect_uris)
  t.equal(reg.scope, 'openid profile email address phone')
  t.equal(reg.registration_client_uri, `http://gatehouse.test/register/${reg.client_id}`)
  t.equal(reg.unknown_field, undefined)
  t.same(reg.contacts, ['dev@example.test'])

  const stored = await app.storage.clients.find(reg.client_id)
  t.equal(stored?.registration, 'open')
  t.equal(stored?.clientName, 'Example App')
  t.equal(stored?.skipConsent, false)
  t.equal(stored?.registeredBy, '127.0.0.1')
  t.not(stored?.registrationTokenHash, reg.registration_access_token, 'only a digest is stored')

  const read = await manage(app, 'GET', reg.client_id, reg.registration_access_token)
  t.equal(read.statusCode, 200)
  t.same(read.json(), reg)

  const wrong = await manage(app, 'GET', reg.client_id, reg.registration_access_token.slice(0, -2) + 'xx')
  t.equal(wrong.statusCode, 401)
  t.equal(wrong.json().error, 'invalid_token')
  t.match(wrong.headers['www-authenticate'], /^Bearer realm=/)
  t.equal((await app.inject({ method: 'GET', url: `/register/${reg.client_id}` })).statusCode, 401, 'no token')

  const updated = await manage(app, 'PUT', reg.client_id, reg.registration_access_token, { client_id: reg.client_id, redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'none', client_name: 'Renamed' })
  t.equal(updated.statusCode, 200, updated.body)
  t.equal(updated.json().client_name, 'Renamed')
  t.same(updated.json().redirect_uris, ['https://app.example/cb'])
  t.equal(updated.json().contacts, undefined, 'PUT replaces the metadata')
  const otherId = await manage(app, 'PUT', reg.client_id, reg.registration_access_token, { client_id: 'someone-else', redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'none' })
  t.equal(otherId.json().error, 'invalid_client_metadata')
  const toConfidential = await manage(app, 'PUT', reg.client_id, reg.registration_access_token, { client_id: reg.client_id, redirect_uris: ['https://app.example/cb'] })
  t.equal(toConfidential.json().error, 'invalid_client_metadata', 'public stays public')

  const admins = (await app.storage.clients.list({ limit: 10, offset: 0 })).filter((c) => c.id === reg.client_id)
  t.equal(admins.length, 1, 'admins see it as any other client')

  const deleted = await manage(app, 'DELETE', reg.client_id, reg.registration_access_token)
  t.equal(deleted.statusCode, 204)
  t.equal(await app.storage.clients.find(reg.client_id), undefined)
  t.equal((await manage(app, 'GET', reg.client_id, reg.registration_access_token)).statusCode, 401, 'gone')
})

test('a confidential client gets a secret, may keep it on PUT or be given a new one', async (t) => {
  const app = await build(t, { REGISTRATION: 'open' })
  const reg = (await register(app, { redirect_uris: ['https://app.example/cb'], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'client_secret_post' })).json()
  t.type(reg.client_secret, 'string')
  t.equal(reg.client_secret_expires_at, 0)
  const body = { client_id: reg.client_id, redirect_uris: ['https://app.example/cb'], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'client_secret_post' }
  const kept = (await manage(app, 'PUT', reg.client_id, reg.registration_access_token, { ...body, client_secret: reg.client_secret })).json()
  t.equal(kept.client_secret, reg.client_secret)
  const bad = await manage(app, 'PUT', reg.client_id, reg.registration_access_token, { ...body, client_secret: 'nope' })
  t.equal(bad.json().error, 'invalid_client_metadata')
  const rotated = (await manage(app, 'PUT', reg.client_id, reg.registration_access_token, body)).json()
  t.type(rotated.client_secret, 'string')
  t.not(rotated.client_secret, reg.client_secret)
  const token = await app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `grant_type=refresh_token&refresh_token=x&client_id=${encodeURIComponent(reg.client_id)}&client_secret=${encodeURIComponent(reg.client_secret)}` })
  assertOAuthError(t, token, 401, 'invalid_client', undefined, 'the old secret stopped working')
})

test('metadata errors: RFC 7591 §3.2.2 codes, nothing stored', async (t) => {
  const app = await build(t, { REGISTRATION: 'open' })
  const cases: Array<[unknown, string, string]> = [
    [{ redirect_uris: ['javascript:alert(1)'], token_endpoint_auth_method: 'none' }, 'invalid_redirect_uri', 'javascript:'],
    [{ redirect_uris: ['data:text/html,x'], token_endpoint_auth_method: 'none' }, 'invalid_redirect_uri', 'data:'],
    [{ redirect_uris: ['https://x.example/cb#f'] }, 'invalid_redirect_uri', 'a fragment'],
    [{ redirect_uris: ['http://evil.test/cb'] }, 'invalid_redirect_uri', 'http not on loopback'],
    [{ redirect_uris: [] }, 'invalid_redirect_uri', 'no redirect URI for the code flow'],
    [{ redirect_uris: 'https://x.example/cb' }, 'invalid_redirect_uri', 'not a list'],
    [{ redirect_uris: ['https://x.example/cb'], token_endpoint_auth_method: 'private_key_jwt' }, 'invalid_client_metadata', 'private_key_jwt'],
    [{ redirect_uris: ['https://x.example/cb'], grant_types: ['password'] }, 'invalid_client_metadata', 'password grant'],
    [{ redirect_uris: ['https://x.example/cb'], grant_types: ['client_credentials'] }, 'invalid_client_metadata', 'client_credentials in open mode'],
    [{ redirect_uris: ['https://x.example/cb'], response_types: ['token'] }, 'invalid_client_metadata', 'implicit'],
    [{ redirect_uris: ['https://x.example/cb'], scope: 'admin' }, 'invalid_client_metadata', 'admin scope'],
    [{ redirect_uris: ['https://x.example/cb'], scope: 'openid made:up' }, 'invalid_client_metadata', 'unknown scope'],
    [{ redirect_uris: ['https://x.example/cb'], logo_uri: 'http://x.example/logo.png' }, 'invalid_client_metadata', 'http logo'],
    [{ redirect_uris: ['https://x.example/cb'], client_name: 'evil\u202eppa' }, 'invalid_client_metadata', 'a bidi override in the name'],
    [{ redirect_uris: ['https://x.example/cb'], client_name: 5 }, 'invalid_client_metadata', 'a name that is not a string'],
    [[1, 2], 'invalid_client_metadata', 'an array body']
  ]
  for (const [body, error, label] of cases) {
    const res = await register(app, body)
    t.equal(res.statusCode, 400, label)
    t.equal(res.json().error, error, label)
  }
  const form = await app.inject({ method: 'POST', url: '/register', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'redirect_uris=https://x.example/cb' })
  t.equal(form.statusCode, 400, 'a form body')
  const big = await register(app, { redirect_uris: ['https://x.example/cb'], client_name: 'x'.repeat(100 * 1024) })
  t.equal(big.statusCode, 413, 'a 100 KB body')
  t.same(await app.storage.clients.list({ limit: 100, offset: 0 }), [], 'nothing stored')
})

test('REGISTRATION=token: an initial access token is needed, spent atomically, and allows client_credentials', async (t) => {
  const app = await build(t, { REGISTRATION: 'token' })
  const none = await register(app, NATIVE)
  t.equal(none.statusCode, 401)
  t.equal(none.json().error, 'invalid_token')
  t.match(none.headers['www-authenticate'], /^Bearer /)
  t.equal((await register(app, NATIVE, { authorization: 'Bearer not-a-token' })).statusCode, 401)

  const { token } = await addRegistrationToken(app.storage, app.clock, { maxUses: 2 })
  const auth = { authorization: `Bearer ${token}` }
  const badMetadata = await register(app, { redirect_uris: ['http://evil.test/cb'] }, auth)
  t.equal(badMetadata.json().error, 'invalid_redirect_uri', 'refused metadata spends no use')
  const service = await register(app, { grant_types: ['client_credentials'], scope: 'openid' }, auth)
  t.equal(service.statusCode, 201, service.body)
  t.same(service.json().response_types, [])
  const second = await Promise.all([register(app, NATIVE, auth), register(app, NATIVE, auth)])
  t.same(second.map((r) => r.statusCode).sort(), [201, 401], 'two uses in all, even at once')
  t.equal((await app.storage.registrationTokens.list())[0]?.uses, 2)
  t.equal((await app.storage.clients.find(service.json().client_id))?.registration, 'token')

  const cc = await app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `grant_type=client_credentials&client_id=${encodeURIComponent(service.json().client_id)}&client_secret=${encodeURIComponent(service.json().client_secret)}` })
  t.equal(cc.statusCode, 200, cc.body)
  t.not((await app.storage.clients.find(service.json().client_id))?.firstUsedAt, null, 'its first use is marked')
})

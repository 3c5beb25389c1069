import t from 'tap'
import { createClient } from '../../../lib/admin/clients.js'
import { OAuthError } from '../../../lib/errors.js'
import { authenticateClient, clientForGrant, DEFAULT_CLIENT, readClientCredentials, requireClient } from '../../../lib/oauth/client-auth.js'
import { openStorage } from '../../../lib/stores/index.js'
import { tempDatabaseUrl } from '../../support/helper.js'

// Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3), on a real SQLite
// store: the routes reach the same rules through an app.

/** HTTP Basic as RFC 6749 §2.3.1 builds it: id and secret form-encoded, then joined by ':' and Base64'd. */
const basic = (id: string, secret: string) => 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')
const raw = (text: string) => 'Basic ' + Buffer.from(text).toString('base64')

/** The OAuthError `fn` throws (or the test fails), for its code, status and headers. */
async function refusal (fn: () => unknown): Promise<OAuthError> {
  try {
    await fn()
  } catch (err) {
    if (err instanceof OAuthError) return err
    throw err
  }
  throw new Error('expected a refusal')
}

t.test('Basic: id and secret are form-decoded (§2.3.1), the scheme name in any case', async (t) => {
  t.same(readClientCredentials(basic('svc:one', 'p@ss word+:/'), {}), { method: 'client_secret_basic', clientId: 'svc:one', secret: 'p@ss word+:/' })
  t.same(readClientCredentials(raw('a+b:c+d'), {}), { method: 'client_secret_basic', clientId: 'a b', secret: 'c d' }, "'+' is a space in form encoding")
  t.same(readClientCredentials('bAsIc ' + Buffer.from('svc:s').toString('base64'), {}), { method: 'client_secret_basic', clientId: 'svc', secret: 's' })
  t.same(readClientCredentials(raw('svc:'), {}), { method: 'client_secret_basic', clientId: 'svc', secret: '' }, 'an empty secret is still Basic')
  t.same(readClientCredentials(basic('svc', 's'), { client_id: 'svc' }), { method: 'client_secret_basic', clientId: 'svc', secret: 's' }, 'client_id in the body may repeat the Basic id')
})

t.test('malformed Basic is invalid_client with the Basic challenge', async (t) => {
  for (const [header, why] of [['Basic ***', 'not Base64'], [raw('no-colon'), 'no colon'], [raw(':secret'), 'no id'], [raw('%zz:s'), 'a bad percent-escape']] as const) {
    const err = await refusal(() => readClientCredentials(header, {}))
    t.equal(err.error, 'invalid_client', why)
    t.equal(err.statusCode, 401)
    t.equal(err.headers['www-authenticate'], 'Basic realm="gatehouse"')
  }
})

t.test('Basic with an empty id and secret (Swagger UI\'s `Basic Og==`) counts as not sent', async (t) => {
  t.equal(readClientCredentials('Basic Og==', {}), undefined)
  t.same(readClientCredentials('Basic Og==', { client_id: 'spa' }), { method: 'none', clientId: 'spa' })
})

t.test('two methods at once are refused: invalid_request', async (t) => {
  const both = await refusal(() => readClientCredentials(basic('svc', 's'), { client_secret: 's' }))
  t.equal(both.error, 'invalid_request')
  t.equal(both.message, 'the client authenticated with more than one method')
  const mismatch = await refusal(() => readClientCredentials(basic('svc', 's'), { client_id: 'other' }))
  t.equal(mismatch.error, 'invalid_request')
  t.equal(mismatch.message, 'client_id does not match the authenticated client')
})

t.test('the body: client_secret_post, client_id alone (a public client), or nothing', async (t) => {
  t.same(readClientCredentials(undefined, { client_id: 'svc', client_secret: 's' }), { method: 'client_secret_post', clientId: 'svc', secret: 's' })
  t.same(readClientCredentials(undefined, { client_id: 'spa' }), { method: 'none', clientId: 'spa' })
  t.equal(readClientCredentials(undefined, {}), undefined)
  t.equal(readClientCredentials('Bearer abc', {}), undefined, 'another scheme is not client authentication')
  const orphan = await refusal(() => readClientCredentials(undefined, { client_secret: 's' }))
  t.equal(orphan.error, 'invalid_client')
  t.notOk('www-authenticate' in orphan.headers, 'no Basic challenge when Basic was not used')
})

t.test('checked against the store: unknown, wrong secret and a method the client may not use all answer invalid_client', async (t) => {
  const storage = await openStorage(tempDatabaseUrl(t))
  t.teardown(() => storage.close())
  const { secret } = await createClient(storage, 'svc', { isPublic: false, grantTypes: ['client_credentials'], scope: 'orders:read', redirectUris: [] })
  await createClient(storage, 'spa', { isPublic: true, grantTypes: ['authorization_code'], scope: null, redirectUris: ['https://spa.example/cb'] })

  t.equal((await authenticateClient({ method: 'client_secret_basic', clientId: 'svc', secret: secret! }, storage.clients)).id, 'svc')
  t.equal((await authenticateClient({ method: 'client_secret_post', clientId: 'svc', secret: secret! }, storage.clients)).id, 'svc')
  t.equal((await authenticateClient({ method: 'none', clientId: 'spa' }, storage.clients)).id, 'spa')
  t.equal(await authenticateClient({ method: 'none', clientId: 'default' }, storage.clients), DEFAULT_CLIENT)

  const cases = [
    [{ method: 'client_secret_basic', clientId: 'svc', secret: 'wrong' }, 'a wrong secret', true],
    [{ method: 'client_secret_post', clientId: 'nobody', secret: 'x' }, 'an unknown client', false],
    [{ method: 'none', clientId: 'svc' }, 'a confidential client without its secret', false],
    [{ method: 'client_secret_basic', clientId: 'spa', secret: 'x' }, 'a public client with a secret', true],
    [{ method: 'client_secret_basic', clientId: 'default', secret: '' }, 'the built-in client with a secret', true],
    [{ method: 'client_secret_post', clientId: 'x'.repeat(100_000), secret: 'x' }, 'an id longer than any client\'s (not looked up)', false]
  ] as const
  for (const [credentials, why, usedBasic] of cases) {
    const err = await refusal(() => authenticateClient(credentials, storage.clients))
    t.same([err.error, err.message, 'www-authenticate' in err.headers], ['invalid_client', 'client authentication failed', usedBasic], why)
  }

  const none = await refusal(() => requireClient(undefined, {}, storage.clients))
  t.same([none.error, none.message], ['invalid_client', 'client authentication is required'], 'revocation and introspection need a client')
})

t.test('the client of a token request: anonymous only where the grant allows it, and only a grant it was given', async (t) => {
  const storage = await openStorage(tempDatabaseUrl(t))
  t.teardown(() => storage.close())
  const { secret } = await createClient(storage, 'svc', { isPublic: false, grantTypes: ['client_credentials'], scope: null, redirectUris: [] })
  const password = { grantType: 'password', allowsAnonymous: true } as const
  const clientCredentials = { grantType: 'client_credentials', allowsAnonymous: false } as const

  t.equal(await clientForGrant(undefined, {}, password, storage.clients), DEFAULT_CLIENT, 'no credentials: the built-in client')
  t.equal((await clientForGrant(basic('svc', secret!), {}, clientCredentials, storage.clients)).id, 'svc')
  const anonymous = await refusal(() => clientForGrant(undefined, {}, clientCredentials, storage.clients))
  t.same([anonymous.error, anonymous.message], ['invalid_client', 'client authentication is required'])
  const notGiven = await refusal(() => clientForGrant(basic('svc', secret!), {}, password, storage.clients))
  t.same([notGiven.error, notGiven.message], ['unauthorized_client', 'this client may not use the password grant'])
})

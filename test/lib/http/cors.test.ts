import t, { type Test } from 'tap'
import { CorsPolicy, originOf, parseOrigins } from '../../../lib/http/cors.js'
import { createClient } from '../../../lib/admin/clients.js'
import { openStorage } from '../../../lib/stores/index.js'
import { manualClock, tempDatabaseUrl } from '../../support/helper.js'

// The CORS origin policy: exactly the origins of public clients' redirect URIs, plus CORS_ORIGINS; never `*`,
// never a reflected stranger. Against a real SQLite store.

t.test('parseOrigins: scheme://host[:port] as browsers send it, nothing else', async (t) => {
  t.same(parseOrigins(' https://app.test, http://127.0.0.1:5173 ,'), ['https://app.test', 'http://127.0.0.1:5173'])
  t.same(parseOrigins(''), [])
  for (const bad of ['https://app.test/', 'https://app.test/cb', 'https://APP.test', 'https://app.test:443', '*', 'null', 'ftp://files.test', 'app.test', 'https://app.test?x=1']) {
    t.throws(() => parseOrigins(bad), /not an origin/, bad)
  }
})

t.test('originOf: the origin of a URI, undefined for what has none', async (t) => {
  t.equal(originOf('https://spa.test/cb?x=1#f'), 'https://spa.test')
  t.equal(originOf('http://127.0.0.1:8080/cb'), 'http://127.0.0.1:8080')
  t.equal(originOf('https://spa.test:443/cb'), 'https://spa.test', 'the default port is no part of it')
  t.equal(originOf('com.example.app:/cb'), undefined, 'a private-use scheme has no origin')
  t.equal(originOf('not a uri'), undefined)
})

async function setup (t: Test, extraOrigins: string[] = []) {
  const storage = await openStorage(tempDatabaseUrl(t))
  t.teardown(() => storage.close())
  const clock = manualClock()
  await createClient(storage, 'spa', { isPublic: true, grantTypes: ['authorization_code'], scope: null, redirectUris: ['https://spa.test/cb', 'http://127.0.0.1/cb'] })
  await createClient(storage, 'web', { isPublic: false, grantTypes: ['authorization_code'], scope: null, redirectUris: ['https://web.test/cb'] })
  return { storage, clock, policy: new CorsPolicy({ clients: storage.clients, extraOrigins, clock }) }
}

t.test('the origins of public clients\' redirect URIs and CORS_ORIGINS; not a confidential client\'s, not a stranger', async (t) => {
  const { policy } = await setup(t, ['https://admin.test'])
  t.ok(await policy.allows('https://spa.test'))
  t.ok(await policy.allows('http://127.0.0.1'))
  t.ok(await policy.allows('https://admin.test'))
  t.notOk(await policy.allows('https://web.test'), 'a confidential client keeps its secret on a server: no CORS')
  for (const stranger of ['https://evil.test', 'https://spa.test.evil.test', 'http://spa.test', 'https://spa.test:8443', 'null', '*']) {
    t.notOk(await policy.allows(stranger), stranger)
  }
})

t.test('the list is read again after 5 s: a client registered or removed counts from then on', async (t) => {
  const { storage, clock, policy } = await setup(t)
  t.notOk(await policy.allows('https://new.test'))
  await createClient(storage, 'new', { isPublic: true, grantTypes: ['authorization_code'], scope: null, redirectUris: ['https://new.test/cb'] })
  await storage.clients.delete('spa')
  clock.advance(4)
  t.notOk(await policy.allows('https://new.test'), 'within 5 s: the list read before')
  t.ok(await policy.allows('https://spa.test'))
  clock.advance(1)
  t.ok(await policy.allows('https://new.test'), 'at 5 s: read again')
  t.notOk(await policy.allows('https://spa.test'), 'the removed client\'s origin is gone')
})

t.test('a store that fails keeps the last list, and is asked again on the next request', async (t) => {
  const { storage, clock, policy } = await setup(t)
  t.ok(await policy.allows('https://spa.test'))
  await storage.close()
  clock.advance(5)
  t.ok(await policy.allows('https://spa.test'), 'the last list, while the store fails')
  t.notOk(await policy.allows('https://evil.test'))
})

t.test('concurrent checks share one read', async (t) => {
  const { storage, clock, policy } = await setup(t)
  let reads = 0
  const read = storage.clients.publicRedirectUris.bind(storage.clients)
  storage.clients.publicRedirectUris = async () => { reads++; return read() }
  const answers = await Promise.all(Array.from({ length: 10 }, () => policy.allows('https://spa.test')))
  t.same(answers, Array(10).fill(true))
  t.equal(reads, 1)
  clock.advance(5)
  await Promise.all([policy.allows('https://spa.test'), policy.allows('https://x.test')])
  t.equal(reads, 2)
})

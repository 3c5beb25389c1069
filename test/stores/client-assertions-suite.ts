import type { Test } from 'tap'
import type { Storage } from '../../lib/stores/types.js'

/** Client keys and the client assertions' jti (RFC 7523): one behavioural suite run unchanged against SQLite and PostgreSQL. */
export function clientAssertionStoreSuite (t: Test, open: () => Promise<Storage>): void {
  const now = 1_800_000_000
  async function setup (t: Test): Promise<Storage> {
    const s = await open()
    t.teardown(() => s.close())
    return s
  }

  t.test('a client\'s keys: none by default, set at creation and by an update, read back as written', async (t) => {
    const s = await setup(t)
    const plain = await s.clients.create({ id: 'svc', secretHash: 'sh', isPublic: false, grantTypes: ['client_credentials'], scope: null, redirectUris: [] })
    t.match(plain, { jwks: null, jwksUri: null, tokenEndpointAuthMethod: null })
    const jwks = { keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k1' }] }
    const keyed = await s.clients.create({ id: 'kj', secretHash: null, isPublic: false, grantTypes: ['client_credentials'], scope: null, redirectUris: [], jwks, tokenEndpointAuthMethod: 'private_key_jwt' })
    t.match(keyed, { jwks, jwksUri: null, tokenEndpointAuthMethod: 'private_key_jwt' })
    t.same(await s.clients.find('kj'), keyed, 'read back as written')
    const moved = await s.clients.update('kj', { jwks: null, jwksUri: 'https://keys.example/jwks.json' })
    t.match(moved, { jwks: null, jwksUri: 'https://keys.example/jwks.json', tokenEndpointAuthMethod: 'private_key_jwt' })
    t.same(await s.clients.find('kj'), moved)
    t.match(await s.clients.update('kj', { tokenEndpointAuthMethod: null, jwksUri: null }), { jwksUri: null, tokenEndpointAuthMethod: null }, 'cleared')
  })

  t.test('a jti is used once until it expires, per client; expired ones are taken over and swept', async (t) => {
    const s = await setup(t)
    t.equal(await s.clientAssertions.use('svc', 'j1', now + 60, now), true, 'first use')
    t.equal(await s.clientAssertions.use('svc', 'j1', now + 120, now + 30), false, 'replayed while live')
    t.equal(await s.clientAssertions.use('other', 'j1', now + 60, now), true, 'another client\'s jti is another entry')
    const together = await Promise.all(Array.from({ length: 8 }, () => s.clientAssertions.use('svc', 'j2', now + 60, now)))
    t.equal(together.filter(Boolean).length, 1, 'of eight uses at once, exactly one wins')
    t.equal(await s.clientAssertions.use('svc', 'j1', now + 200, now + 60), true, 'past its expiry the jti may be recorded again')
    t.equal(await s.clientAssertions.use('svc', 'j1', now + 200, now + 61), false)
    t.equal(await s.clientAssertions.purgeExpired(now + 60), 2, 'other/j1 and svc/j2 expired')
    t.equal(await s.clientAssertions.purgeExpired(now + 60), 0)
    t.equal(await s.clientAssertions.use('svc', 'j2', now + 300, now + 61), true, 'swept: new again')
  })
}

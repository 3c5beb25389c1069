import type { Test } from 'tap'
import type { NewProvider, Storage, UpstreamTransaction } from '../../lib/stores/types.js'

/**
 * The upstream-provider stores (providers, identities, pending sign-ins, a client's `providers`): one
 * behavioural suite run unchanged against SQLite and PostgreSQL.
 */
export function upstreamStoreSuite (t: Test, open: () => Promise<Storage>, openTwice?: () => Promise<[Storage, Storage]>): void {
  const now = 1_800_000_000
  const provider = (over: Partial<NewProvider> = {}): NewProvider => ({
    name: 'op',
    issuer: 'https://op.example',
    clientId: 'gatehouse',
    clientSecret: 's3cret',
    scope: 'openid email profile',
    displayName: 'Example',
    linkByEmail: false,
    linkLinkedAccounts: false,
    createUsers: true,
    authorizationEndpoint: null,
    tokenEndpoint: null,
    userinfoEndpoint: null,
    claims: { subject: 'sub', email: 'email', emailVerified: 'email_verified', name: 'name', username: 'preferred_username' },
    ...over
  })
  const transaction = (over: Partial<UpstreamTransaction> = {}): UpstreamTransaction => ({
    idHash: 'state-hash',
    bindingHash: 'binding-hash',
    provider: 'op',
    nonce: 'n-1',
    codeVerifier: 'v'.repeat(43),
    returnTo: '/authorize?client_id=web',
    createdAt: now,
    expiresAt: now + 600,
    ...over
  })

  t.test('providers: create (name unique), find, list by name, update, delete', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const created = await s.providers.create(provider())
    t.match(created, { ...provider(), claims: provider().claims })
    t.type(created.createdAt, 'number')
    t.same(await s.providers.find('op'), created)
    await t.rejects(s.providers.create(provider({ issuer: 'https://other.example' })), { name: 'ConflictError' })
    const plain = await s.providers.create(provider({
      name: 'gh',
      issuer: 'https://github.com',
      linkByEmail: true,
      createUsers: false,
      authorizationEndpoint: 'https://github.com/login/oauth/authorize',
      tokenEndpoint: 'https://github.com/login/oauth/access_token',
      userinfoEndpoint: 'https://api.github.com/user',
      claims: { subject: 'id', email: 'email', emailVerified: null, name: 'name', username: 'login' }
    }))
    t.same(plain.claims, { subject: 'id', email: 'email', emailVerified: null, name: 'name', username: 'login' })
    t.equal(plain.linkByEmail, true)
    t.equal(plain.createUsers, false)
    t.same((await s.providers.list()).map((p) => p.name), ['gh', 'op'])
    const updated = await s.providers.update('op', { clientSecret: 'new', displayName: 'Renamed', createUsers: false, tokenEndpoint: null })
    t.match(updated, { name: 'op', clientSecret: 'new', displayName: 'Renamed', createUsers: false, issuer: 'https://op.example' })
    t.equal(await s.providers.update('nope', { displayName: 'x' }), undefined)
    t.equal(await s.providers.find('op\u0000'), undefined, 'NUL finds nothing')
    t.match(await s.providers.delete('op'), { name: 'op' })
    t.equal(await s.providers.delete('op'), undefined)
    t.equal(await s.providers.find('op'), undefined)
  })

  t.test('22.6: a provider\'s link_linked_accounts: off unless set, and changed by an update', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    t.equal((await s.providers.create(provider())).linkLinkedAccounts, false)
    t.equal((await s.providers.create(provider({ name: 'b', linkByEmail: true, linkLinkedAccounts: true }))).linkLinkedAccounts, true)
    t.equal((await s.providers.find('b'))?.linkLinkedAccounts, true, 'stored')
    t.equal((await s.providers.update('op', { linkLinkedAccounts: true }))?.linkLinkedAccounts, true)
    t.equal((await s.providers.update('op', { displayName: 'x' }))?.linkLinkedAccounts, true, 'kept by an update that does not name it')
    t.equal((await s.providers.update('op', { linkLinkedAccounts: false }))?.linkLinkedAccounts, false)
  })

  t.test('identities: keyed by provider, issuer and subject; listed per user; unlinked per provider; gone with the user', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const alice = await s.users.create({ username: 'alice', passwordHash: null })
    const bob = await s.users.create({ username: 'bob', passwordHash: null })
    const link = await s.identities.link({ provider: 'a', issuer: 'https://a.example', subject: '42', userId: alice.id, email: 'alice@a.example', linkedAt: now })
    t.same(link, { provider: 'a', issuer: 'https://a.example', subject: '42', userId: alice.id, email: 'alice@a.example', linkedAt: now })
    t.same(await s.identities.find('a', 'https://a.example', '42'), link)
    // F2: another provider (or the same name for another issuer) asserting the same subject finds nothing.
    t.equal(await s.identities.find('b', 'https://a.example', '42'), undefined)
    t.equal(await s.identities.find('a', 'https://b.example', '42'), undefined)
    t.equal(await s.identities.find('a', 'https://a.example', '42\u0000'), undefined)
    await t.rejects(s.identities.link({ ...link, userId: bob.id }), { name: 'ConflictError' }, 'one local user per (provider, issuer, subject)')
    await s.identities.link({ provider: 'b', issuer: 'https://b.example', subject: '42', userId: alice.id, email: null, linkedAt: now + 1 })
    await s.identities.link({ provider: 'a', issuer: 'https://a.example', subject: '7', userId: bob.id, email: null, linkedAt: now })
    t.same((await s.identities.listForUser(alice.id)).map((i) => i.provider), ['a', 'b'])
    await s.identities.touch('a', 'https://a.example', '42', 'new@a.example')
    t.equal((await s.identities.find('a', 'https://a.example', '42'))?.email, 'new@a.example')
    t.equal(await s.identities.unlink(alice.id, 'a'), 1)
    t.equal(await s.identities.unlink(alice.id, 'a'), 0)
    t.equal(await s.identities.find('a', 'https://a.example', '42'), undefined)
    t.equal((await s.identities.find('a', 'https://a.example', '7'))?.userId, bob.id, 'other users keep theirs')
    await s.users.delete('bob')
    t.equal(await s.identities.find('a', 'https://a.example', '7'), undefined, 'deleting the user deletes its links')
  })

  t.test('pending sign-ins: consumed once, only by the browser that started them, not after expiry; purge', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    await s.upstreamTransactions.create(transaction())
    await s.upstreamTransactions.create(transaction({ idHash: 'expiring', expiresAt: now + 10 }))
    await s.upstreamTransactions.create(transaction({ idHash: 'no-return', returnTo: null }))
    t.equal(await s.upstreamTransactions.consume('state-hash', 'other-browser', now), undefined, 'another browser cannot consume it')
    t.same(await s.upstreamTransactions.consume('state-hash', 'binding-hash', now), transaction(), 'stored as given')
    t.equal(await s.upstreamTransactions.consume('state-hash', 'binding-hash', now), undefined, 'single use')
    t.equal(await s.upstreamTransactions.consume('expiring', 'binding-hash', now + 10), undefined, 'expired at expiresAt')
    t.equal((await s.upstreamTransactions.consume('no-return', 'binding-hash', now))?.returnTo, null)
    t.equal(await s.upstreamTransactions.consume('x\u0000', 'binding-hash', now), undefined)
    t.equal(await s.upstreamTransactions.purgeExpired(now + 10), 1)
  })

  t.test('pending sign-ins: consumed concurrently, exactly one wins (across connections too)', async (t) => {
    const [a, b] = openTwice ? await openTwice() : [await open(), undefined]
    t.teardown(async () => { await a.close(); await b?.close() })
    await a.upstreamTransactions.create(transaction())
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 1 && b ? b : a).upstreamTransactions.consume('state-hash', 'binding-hash', now)))
    t.equal(results.filter((r) => r !== undefined).length, 1)
  })

  t.test('users by e-mail: case-insensitive, at most `limit`, none for NUL', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    await s.users.create({ username: 'a', passwordHash: null, email: 'Shared@Example.test' })
    await s.users.create({ username: 'b', passwordHash: null, email: 'shared@example.test' })
    await s.users.create({ username: 'c', passwordHash: null, email: 'own@example.test' })
    t.same((await s.users.findByEmail('SHARED@example.TEST', 5)).map((u) => u.username), ['a', 'b'])
    t.equal((await s.users.findByEmail('shared@example.test', 1)).length, 1)
    t.same((await s.users.findByEmail('own@example.test', 2)).map((u) => u.username), ['c'])
    t.same(await s.users.findByEmail('nobody@example.test', 2), [])
    t.same(await s.users.findByEmail('own@example.test\u0000', 2), [])
  })

  t.test('clients: providers is null until set, then a list; set back to null', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const base = { secretHash: null, isPublic: true, grantTypes: ['authorization_code' as const], scope: null, redirectUris: ['https://app.test/cb'] }
    t.equal((await s.clients.create({ id: 'web', ...base })).providers, null)
    t.same((await s.clients.create({ id: 'sso', ...base, providers: ['op', 'gh'] })).providers, ['op', 'gh'])
    t.same((await s.clients.find('sso'))?.providers, ['op', 'gh'])
    t.same((await s.clients.update('web', { providers: ['op'] }))?.providers, ['op'])
    t.equal((await s.clients.update('web', { providers: null }))?.providers, null)
  })
}

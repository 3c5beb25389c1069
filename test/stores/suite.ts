import type { Test } from 'tap'
import { randomUUID } from 'node:crypto'
import type { RefreshToken, Storage } from '../../lib/stores/types.js'
import { denyEntry } from '../../lib/stores/deny-list.js'
import { createGrant } from './grant-fixture.js'

/**
 * After a store opened a database made before migration 2 with keys ka (activated 100), kb and kc (200; kc
 * created later): the keys get sequence numbers in activation order, new ones continue it, and a key can
 * lose its private part.
 */
export async function checkKeysAfterMigration2 (t: Test, s: Storage): Promise<void> {
  const keys = await s.keys.list()
  t.same(keys.map((k) => [k.kid, k.seq]), [['ka', 1], ['kb', 2], ['kc', 3]], 'ordered as before: activation, then creation')
  const next = await s.keys.insert({ kid: 'kd', alg: 'ES256', privateKey: 'pem-d', publicJwk: '{}', createdAt: 300, activatesAt: 300 })
  t.equal(next.seq, 4, 'the sequence continues after them')
  await s.keys.deletePrivateKeys(['ka'])
  t.equal((await s.keys.list())[0]!.privateKey, null)
}

/**
 * One behavioural suite for every Storage backend. Each backend's test file calls it with a factory
 * that opens a fresh, empty store; nothing here knows which database is behind it.
 */
export function storeSuite (t: Test, open: () => Promise<Storage>): void {
  const now = Math.floor(Date.now() / 1000)
  const deny = { now, denyUntil: now + 900 }
  const token = (grantId: string, over: Partial<RefreshToken> = {}): RefreshToken => ({
    hash: randomUUID(), grantId, scope: 'read', issuedAt: now, expiresAt: now + 3600, consumedAt: null, ...over
  })

  t.test('users: create, find, update, list, delete', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const alice = await s.users.create({ username: 'alice', passwordHash: 'h1', fullName: 'Alice A', email: 'a@x.test', scope: 'read write' })
    t.match(alice, { username: 'alice', fullName: 'Alice A', email: 'a@x.test', scope: 'read write', disabled: false, passwordHash: 'h1' })
    t.match(alice.id, /^[0-9a-f-]{36}$/)
    await t.rejects(s.users.create({ username: 'alice', passwordHash: 'x' }), { name: 'ConflictError' })
    t.same(await s.users.findById(alice.id), alice)
    t.same(await s.users.findByUsername('alice'), alice)
    t.equal(await s.users.findByUsername('Alice'), undefined, 'lookups are exact')
    t.equal(await s.users.findByUsername("' OR '1'='1"), undefined)
    const disabled = await s.users.update('alice', { disabled: true, fullName: null })
    t.equal(disabled?.disabled, true)
    t.equal(disabled?.fullName, null)
    t.equal(disabled?.email, 'a@x.test', 'fields not in the patch are kept')
    t.equal(await s.users.update('nobody', { disabled: true }), undefined)
    await s.users.create({ username: 'bob', passwordHash: null })
    t.same((await s.users.list({ limit: 10, offset: 0 })).map((u) => u.username), ['alice', 'bob'])
    t.same((await s.users.list({ limit: 1, offset: 1 })).map((u) => u.username), ['bob'])
    t.equal(await s.users.count(), 2)
    t.equal((await s.users.delete('bob'))?.username, 'bob')
    t.equal(await s.users.delete('bob'), undefined)
    t.equal(await s.users.count(), 1)
    await s.users.create({ username: 'carol', passwordHash: null, scope: 'read write' })
    await s.users.create({ username: 'dan', passwordHash: null, scope: 'read write' })
    t.same((await s.users.scopeLists()).sort(), ['read write'], 'distinct, non-empty scope lists')
  })

  t.test('clients: create, find, update, delete', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const c = await s.clients.create({ id: 'c1', secretHash: 'sh', isPublic: false, grantTypes: ['client_credentials', 'password'], scope: 'read', redirectUris: ['https://app.test/cb'] })
    t.match(c, { id: 'c1', secretHash: 'sh', isPublic: false, grantTypes: ['client_credentials', 'password'], scope: 'read', redirectUris: ['https://app.test/cb'] })
    await t.rejects(s.clients.create({ ...c }), { name: 'ConflictError' })
    t.same(await s.clients.find('c1'), c)
    t.equal(await s.clients.find('nope'), undefined)
    const updated = await s.clients.update('c1', { scope: null, grantTypes: ['password'] })
    t.equal(updated?.scope, null)
    t.same(updated?.grantTypes, ['password'])
    t.same(updated?.redirectUris, ['https://app.test/cb'])
    t.match(c, { pkce: 'required', idTokenAlg: null, userinfoAlg: null, backchannelLogoutUri: null }, 'the OpenID settings default')
    const oidc = await s.clients.update('c1', { pkce: 'optional', idTokenAlg: 'ES256', userinfoAlg: 'RS256', backchannelLogoutUri: 'https://app.test/bc' })
    t.match(oidc, { pkce: 'optional', idTokenAlg: 'ES256', userinfoAlg: 'RS256', backchannelLogoutUri: 'https://app.test/bc', scope: null })
    t.same(await s.clients.find('c1'), oidc, 'read back as written')
    t.match(await s.clients.update('c1', { idTokenAlg: null, userinfoAlg: null, backchannelLogoutUri: null }), { pkce: 'optional', idTokenAlg: null, userinfoAlg: null, backchannelLogoutUri: null })
    t.match(c, { requireMfa: false, passwordGrantSkipsMfa: false }, 'the second-factor flags default off')
    t.match(await s.clients.update('c1', { requireMfa: true }), { requireMfa: true, passwordGrantSkipsMfa: false })
    t.match(await s.clients.update('c1', { passwordGrantSkipsMfa: true }), { requireMfa: true, passwordGrantSkipsMfa: true })
    t.match(await s.clients.find('c1'), { requireMfa: true, passwordGrantSkipsMfa: true }, 'read back as written')
    t.match(await s.clients.create({ id: 'mfa', secretHash: null, isPublic: true, grantTypes: ['password'], scope: null, redirectUris: [], requireMfa: true, passwordGrantSkipsMfa: true }), { requireMfa: true, passwordGrantSkipsMfa: true }, 'set at creation')
    await s.clients.delete('mfa')
    t.match(c, { exchangeSources: [], exchangeTargets: [] }, 'token exchange: no sources, no targets by default')
    const exchange = await s.clients.update('c1', { exchangeSources: ['https://a.test'], exchangeTargets: ['https://b.test', 'https://c.test'] })
    t.match(exchange, { exchangeSources: ['https://a.test'], exchangeTargets: ['https://b.test', 'https://c.test'] })
    t.same(await s.clients.find('c1'), exchange, 'read back as written')
    t.match(await s.clients.create({ id: 'tx', secretHash: 'sh', isPublic: false, grantTypes: ['client_credentials'], scope: null, redirectUris: [], exchangeTargets: ['https://b.test'] }), { exchangeSources: [], exchangeTargets: ['https://b.test'] }, 'set at creation')
    await s.clients.delete('tx')
    await s.clients.update('c1', { exchangeSources: [], exchangeTargets: [] })
    t.equal((await s.clients.list({ limit: 5, offset: 0 })).length, 1)
    await s.clients.create({ id: 'c2', secretHash: null, isPublic: true, grantTypes: ['password'], scope: 'admin', redirectUris: [] })
    t.same(await s.clients.scopeLists(), ['admin'], 'null scopes are not listed')
    await s.clients.create({ id: 'spa', secretHash: null, isPublic: true, grantTypes: ['authorization_code'], scope: null, redirectUris: ['https://spa.test/cb', 'http://127.0.0.1/cb'] })
    t.same((await s.clients.publicRedirectUris()).sort(), ['http://127.0.0.1/cb', 'https://spa.test/cb'], 'redirect URIs of public clients only')
    await s.clients.delete('spa')
    await s.clients.delete('c2')
    t.equal((await s.clients.delete('c1'))?.id, 'c1')
    t.equal(await s.clients.find('c1'), undefined)
  })

  t.test('grants: rotation is single-use and reuse revokes the family', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const grantId = randomUUID()
    const rt1 = token(grantId)
    await createGrant(s, { id: grantId, clientId: 'c1', userId: 'u1', scope: 'read', createdAt: now, expiresAt: now + 86400 }, rt1)
    const found = await s.grants.findToken(rt1.hash)
    t.same(found?.token, rt1)
    t.equal(found?.grant.revokedAt, null)

    const rt2 = token(grantId)
    const rotated = await s.grants.rotate(rt1.hash, rt2, deny)
    t.equal(rotated.outcome, 'rotated')
    t.equal((await s.grants.findToken(rt1.hash))?.token.consumedAt, now)
    t.notOk(await s.revocations.anyRevoked([denyEntry.grant(grantId)]))

    const replay = await s.grants.rotate(rt1.hash, token(grantId), deny)
    t.equal(replay.outcome, 'reused')
    t.ok((await s.grants.findGrant(grantId))?.revokedAt, 'the grant is revoked')
    t.ok(await s.revocations.anyRevoked([denyEntry.grant(grantId)]), 'its access tokens are denied')
    t.equal((await s.grants.rotate(rt2.hash, token(grantId), deny)).outcome, 'reused', 'the live descendant died too')
    t.equal((await s.grants.rotate('no-such-hash', token(grantId), deny)).outcome, 'unknown')
  })

  t.test('grants: concurrent rotation has exactly one winner', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    for (let round = 0; round < 5; round++) {
      const grantId = randomUUID()
      const rt = token(grantId)
      await createGrant(s, { id: grantId, clientId: 'c1', userId: 'u1', scope: 'read', createdAt: now, expiresAt: now + 86400 }, rt)
      const results = await Promise.all(Array.from({ length: 20 }, () => s.grants.rotate(rt.hash, token(grantId), deny)))
      t.equal(results.filter((r) => r.outcome === 'rotated').length, 1, `round ${round}: one winner`)
      t.equal(results.filter((r) => r.outcome === 'reused').length, 19)
    }
  })

  t.test('grants: expiry, revocation by user and client, purge', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const expired = randomUUID()
    const rtOld = token(expired, { expiresAt: now - 1 })
    await createGrant(s, { id: expired, clientId: 'c1', userId: 'u1', scope: 'read', createdAt: now - 100, expiresAt: now + 100 }, rtOld)
    t.equal((await s.grants.rotate(rtOld.hash, token(expired), deny)).outcome, 'expired')
    t.equal((await s.grants.findToken(rtOld.hash))?.token.consumedAt, null, 'an expired token is not consumed')

    const g = async (clientId: string, userId: string, expiresAt = now + 1000) => {
      const id = randomUUID()
      await createGrant(s, { id, clientId, userId, scope: '', createdAt: now, expiresAt }, token(id))
      return id
    }
    const a = await g('c1', 'u2')
    const b = await g('c2', 'u2')
    const c = await g('c2', 'u3')
    const d = await g('c1', 'u3')
    t.same(await s.grants.revokeForUser('u3', deny, 'c1'), [d], 'one client\'s grants of the user only')
    t.same(await s.grants.revokeForUser('u3', deny, 'c1'), [], 'not counted again')
    t.ok(await s.revocations.anyRevoked([denyEntry.grant(d)]), 'its access tokens are refused')
    t.same((await s.grants.revokeForUser('u2', deny)).sort(), [a, b].sort(), 'the ids of the grants revoked')
    t.same(await s.grants.revokeForUser('u2', deny), [], 'already revoked grants are not counted again')
    t.ok(await s.revocations.anyRevoked([denyEntry.grant(a)]))
    t.ok(await s.revocations.anyRevoked([denyEntry.grant(b)]))
    t.notOk(await s.revocations.anyRevoked([denyEntry.grant(c)]))
    t.same(await s.grants.revokeForClient('c2', deny), [c])
    t.ok(await s.revocations.anyRevoked([denyEntry.token('none'), denyEntry.grant(c)]))
    t.equal((await s.grants.revoke('missing', deny)), undefined)

    const old = await g('c9', 'u9', now - 10)
    t.equal(await s.grants.purgeExpired(now), 1)
    t.equal(await s.grants.findGrant(old), undefined)
  })

  t.test('revocations: deny-list add, lookup, since, purge', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    t.notOk(await s.revocations.anyRevoked([]))
    await s.revocations.add([denyEntry.token('a'), denyEntry.token('b')], now + 60)
    await s.revocations.add([denyEntry.token('a')], now + 30)
    t.ok(await s.revocations.anyRevoked([denyEntry.token('a')]))
    t.ok(await s.revocations.anyRevoked([denyEntry.token('x'), denyEntry.token('b')]))
    t.ok(await s.revocations.anyRevoked([denyEntry.token('x'), denyEntry.token('y'), denyEntry.token('b')]))
    t.notOk(await s.revocations.anyRevoked([denyEntry.token('x')]))
    const since = await s.revocations.listSince(now - 5)
    t.same(since.map((r) => r.id).sort(), [denyEntry.token('a'), denyEntry.token('b')])
    t.equal(since.find((r) => r.id === denyEntry.token('a'))?.expiresAt, now + 60, 'a second add never shortens the entry')
    await s.revocations.add([denyEntry.token('old')], now - 5)
    t.equal(await s.revocations.purgeExpired(now), 1)
    t.notOk(await s.revocations.anyRevoked([denyEntry.token('old')]))
  })

  t.test('keys: insertFirstOfAlg is single-winner per algorithm; list is in sequence order, even for keys of the same second', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const key = (kid: string, activatesAt: number, alg: 'ES256' | 'RS256' = 'ES256') => ({ kid, alg, privateKey: 'pem-' + kid, publicJwk: '{}', createdAt: now, activatesAt })
    // Starters racing: each tries both algorithms; one key of each wins, an ES256 key does not stop an RS256 one.
    const won = await Promise.all(['a', 'b', 'c'].flatMap((who) => [s.keys.insertFirstOfAlg(key(`es-${who}`, now)), s.keys.insertFirstOfAlg(key(`rs-${who}`, now, 'RS256'))]))
    t.same(won.filter(Boolean).length, 2, 'two winners')
    t.same((await s.keys.list()).map((k) => k.alg).sort(), ['ES256', 'RS256'], 'exactly one key of each algorithm')
    t.equal(await s.keys.insertFirstOfAlg(key('rs-late', now, 'RS256')), false, 'a later starter adds nothing')
    // Same second, same activation, kids that sort the other way: only the sequence orders them.
    const inserted = []
    for (const kid of ['kz', 'ky', 'kx']) inserted.push(await s.keys.insert(key(kid, now + 30)))
    t.same(inserted.map((k) => k.kid), ['kz', 'ky', 'kx'])
    t.ok(inserted[0]!.seq < inserted[1]!.seq && inserted[1]!.seq < inserted[2]!.seq, 'insert returns increasing sequence numbers')
    const listed = await s.keys.list()
    t.same(listed.map((k) => k.kid).slice(2), ['kz', 'ky', 'kx'], 'listed in sequence order')
    t.same(listed.slice(2), inserted, 'as inserted')
    t.equal(listed[2]!.privateKey, 'pem-kz')
    const parallel = await Promise.all(['p1', 'p2', 'p3', 'p4'].map((kid) => s.keys.insert(key(kid, now + 30))))
    t.equal(new Set(parallel.map((k) => k.seq)).size, 4, 'concurrent inserts get distinct sequence numbers')
    await s.keys.delete(['kz', 'p1', 'p2', 'p3', 'p4', 'no-such-kid'])
    t.same((await s.keys.list()).map((k) => k.kid).slice(2), ['ky', 'kx'])
    await s.keys.deletePrivateKeys(['ky'])
    const [, , ky, kx] = await s.keys.list()
    t.equal(ky!.privateKey, null, 'the private part is gone')
    t.equal(ky!.publicJwk, '{}', 'the public part stays')
    t.equal(kx!.privateKey, 'pem-kx', 'other keys keep theirs')
    const next = await s.keys.insert(key('kw', now + 60))
    t.ok(next.seq > kx!.seq, 'a new key still comes after every existing one')
  })

  t.test('keys: the agreed publish delay is the largest of the instances seen lately', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    t.equal(await s.keys.agreedPublishDelay(now - 120), undefined, 'no instance: no agreed delay')
    await s.keys.heartbeat('a', 50, now, now - 120)
    await s.keys.heartbeat('b', 45, now, now - 120)
    t.equal(await s.keys.agreedPublishDelay(now - 120), 50, 'the largest')
    await s.keys.heartbeat('b', 20, now + 1, now - 119)
    t.equal(await s.keys.agreedPublishDelay(now + 1), 20, 'only instances seen since `since` count; the latest heartbeat is what counts')
    t.equal(await s.keys.agreedPublishDelay(now - 120), 50)
    await s.keys.heartbeat('b', 20, now + 200, now + 80)
    t.equal(await s.keys.agreedPublishDelay(now - 120), 20, 'a row older than `staleBefore` is purged by a heartbeat')
    await s.keys.leave('b')
    t.equal(await s.keys.agreedPublishDelay(now - 120), undefined, 'a stopped instance leaves')
    await s.keys.leave('b')
  })

  t.test('users: the standard claims are kept as given, replaced by an update, {} when none; importBatch sets and updates them', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const claims = { given_name: 'Alice', address: { locality: 'Oxford', country: 'GB' }, phone_number_verified: true }
    const alice = await s.users.create({ username: 'alice', passwordHash: null, claims })
    t.same(alice.claims, claims)
    t.same((await s.users.findById(alice.id))?.claims, claims)
    t.same((await s.users.create({ username: 'bob', passwordHash: null })).claims, {}, 'none: {}')
    t.same((await s.users.update('alice', { claims: { locale: 'en-GB' } }))?.claims, { locale: 'en-GB' }, 'an update replaces the set')
    t.same((await s.users.update('alice', { email: 'a@x.test' }))?.claims, { locale: 'en-GB' }, 'kept when the patch does not name them')
    await s.users.importBatch([{ username: 'carol', passwordHash: null, claims: { nickname: 'C' } }, { username: 'alice', passwordHash: null, claims: { nickname: 'A' } }], { update: true })
    t.same((await s.users.findByUsername('carol'))?.claims, { nickname: 'C' })
    t.same((await s.users.findByUsername('alice'))?.claims, { nickname: 'A' })
    t.same(await s.users.importBatch([{ username: 'alice', passwordHash: null, claims: { nickname: 'A' } }], { update: true }), [{ outcome: 'skipped' }], 'equal claims: nothing to update')
  })

  t.test('users: email_verified is its own column: said outright or inside claims, never kept in claims, set by a patch', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const alice = await s.users.create({ username: 'alice', passwordHash: null, email: 'a@x.test', claims: { nickname: 'A', email_verified: true } })
    t.equal(alice.emailVerified, true, 'from the claims given')
    t.same(alice.claims, { nickname: 'A' }, 'not kept in the claims')
    t.equal((await s.users.create({ username: 'bob', passwordHash: null })).emailVerified, false, 'false by default')
    t.equal((await s.users.create({ username: 'dan', passwordHash: null, emailVerified: true })).emailVerified, true)
    t.equal((await s.users.update('alice', { fullName: 'Alice' }))?.emailVerified, true, 'kept by a patch that does not name it')
    t.equal((await s.users.update('alice', { emailVerified: false }))?.emailVerified, false)
    t.equal((await s.users.update('alice', { claims: { email_verified: true } }))?.emailVerified, true, 'a new claims set says it')
    t.equal((await s.users.update('alice', { claims: {} }))?.emailVerified, false, 'a new claims set without it clears it')
    await s.users.update('alice', { emailVerified: true })
    await s.users.importBatch([{ username: 'alice', passwordHash: null, email: 'new@x.test' }, { username: 'carol', passwordHash: null, claims: { email_verified: true } }], { update: true })
    t.equal((await s.users.findByUsername('alice'))?.emailVerified, false, 'an import that changes the address unverifies it')
    t.equal((await s.users.findByUsername('carol'))?.emailVerified, true, 'an import may say it')
    t.same((await s.users.findByUsername('carol'))?.claims, {})
  })

  t.test('grants: the claims parameter\'s names are kept with the family and come back with its tokens', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const grantId = randomUUID()
    const rt = token(grantId)
    await createGrant(s, { id: grantId, clientId: 'c1', userId: 'u1', scope: 'openid', claims: { userinfo: ['name'], idToken: [] }, createdAt: now, expiresAt: now + 86400 }, rt)
    t.same((await s.grants.findGrant(grantId))?.claims, { userinfo: ['name'], idToken: [] })
    t.same((await s.grants.findToken(rt.hash))?.grant.claims, { userinfo: ['name'], idToken: [] })
    const rotated = await s.grants.rotate(rt.hash, token(grantId), deny)
    t.same(rotated.outcome === 'rotated' && rotated.grant.claims, { userinfo: ['name'], idToken: [] }, 'and from a rotation')
    const plain = randomUUID()
    await createGrant(s, { id: plain, clientId: 'c1', userId: 'u1', scope: 'openid', createdAt: now, expiresAt: now + 86400 }, token(plain))
    t.equal((await s.grants.findGrant(plain))?.claims, null, 'none asked for: null')
  })

  t.test('DPoP (RFC 9449): a client\'s dpop_bound_access_tokens, a family\'s key (from find, findToken and rotate), none by default', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    await s.clients.create({ id: 'c1', secretHash: 'sh', isPublic: false, grantTypes: ['client_credentials'], scope: null, redirectUris: [] })
    t.equal((await s.clients.find('c1'))?.dpopBoundAccessTokens, false, 'off by default')
    t.equal((await s.clients.update('c1', { dpopBoundAccessTokens: true }))?.dpopBoundAccessTokens, true)
    t.equal((await s.clients.find('c1'))?.dpopBoundAccessTokens, true, 'read back as written')
    t.equal((await s.clients.create({ id: 'dpop', secretHash: null, isPublic: true, grantTypes: ['password'], scope: null, redirectUris: [], dpopBoundAccessTokens: true })).dpopBoundAccessTokens, true, 'set at creation')
    const grantId = randomUUID()
    const rt = token(grantId)
    await createGrant(s, { id: grantId, clientId: 'c1', userId: 'u1', scope: 'openid', dpopJkt: 'jkt-1', createdAt: now, expiresAt: now + 86400 }, rt)
    t.equal((await s.grants.findGrant(grantId))?.dpopJkt, 'jkt-1')
    t.equal((await s.grants.findToken(rt.hash))?.grant.dpopJkt, 'jkt-1')
    const rotated = await s.grants.rotate(rt.hash, token(grantId), deny)
    t.equal(rotated.outcome === 'rotated' && rotated.grant.dpopJkt, 'jkt-1', 'and from a rotation')
    const plain = randomUUID()
    await createGrant(s, { id: plain, clientId: 'c1', userId: 'u1', scope: 'openid', createdAt: now, expiresAt: now + 86400 }, token(plain))
    t.equal((await s.grants.findGrant(plain))?.dpopJkt, null, 'unbound: null')
  })

  t.test('users: list order compares bytes, whatever the locale', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    for (const username of ['zed', 'émile', 'alice', 'Bob']) await s.users.create({ username, passwordHash: null })
    t.same((await s.users.list({ limit: 10, offset: 0 })).map((u) => u.username), ['Bob', 'alice', 'zed', 'émile'])
  })

  t.test('lookups by a key containing NUL find nothing and change nothing', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const alice = await s.users.create({ username: 'alice', passwordHash: 'h' })
    await s.clients.create({ id: 'c1', secretHash: null, isPublic: true, grantTypes: ['password'], scope: null, redirectUris: [] })
    const grantId = randomUUID()
    const rt = token(grantId)
    await createGrant(s, { id: grantId, clientId: 'c1', userId: alice.id, scope: 'read', createdAt: now, expiresAt: now + 86400 }, rt)
    await s.revocations.add([denyEntry.token('a')], now + 60)
    const nul = '\u0000'
    t.equal(await s.users.findByUsername(`alice${nul}`), undefined)
    t.equal(await s.users.findById(`${alice.id}${nul}`), undefined)
    t.equal(await s.users.update(`alice${nul}`, { disabled: true }), undefined)
    t.equal(await s.users.delete(`alice${nul}`), undefined)
    t.equal(await s.clients.find(`c1${nul}`), undefined)
    t.equal(await s.clients.update(`c1${nul}`, { scope: 'x' }), undefined)
    t.equal(await s.clients.delete(`c1${nul}`), undefined)
    t.equal(await s.grants.findGrant(`${grantId}${nul}`), undefined)
    t.equal(await s.grants.findToken(`${rt.hash}${nul}`), undefined)
    t.equal((await s.grants.rotate(`${rt.hash}${nul}`, token(grantId), deny)).outcome, 'unknown')
    t.equal(await s.grants.revoke(`${grantId}${nul}`, deny), undefined)
    t.same(await s.grants.revokeForUser(`${alice.id}${nul}`, deny), [])
    t.same(await s.grants.revokeForClient(`c1${nul}`, deny), [])
    t.notOk(await s.revocations.anyRevoked([denyEntry.token(`a${nul}`)]))
    t.ok(await s.revocations.anyRevoked([denyEntry.token(`a${nul}`), denyEntry.token('a')]), 'the other ids are still checked')
    t.same(await s.users.findByUsername('alice'), alice, 'the real rows are untouched')
    t.equal((await s.users.findByUsername('alice'))?.disabled, false)
    t.ok(await s.clients.find('c1'))
    t.equal((await s.grants.findGrant(grantId))?.revokedAt, null)
  })

  t.test('grants: revoke is idempotent and keeps the first revocation time', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const grantId = randomUUID()
    await createGrant(s, { id: grantId, clientId: 'c1', userId: 'u1', scope: 'read', createdAt: now, expiresAt: now + 86400 }, token(grantId))
    t.equal((await s.grants.revoke(grantId, deny))?.revokedAt, now)
    const again = await s.grants.revoke(grantId, { now: now + 5, denyUntil: now + 2000 })
    t.equal(again?.revokedAt, now, 'still the first time')
    const entry = (await s.revocations.listSince(0)).find((r) => r.id === denyEntry.grant(grantId))
    t.equal(entry?.expiresAt, now + 2000, 'the deny-list entry is extended to the later end')
  })

  t.test('revocations: the same id twice in one add', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    await s.revocations.add([denyEntry.token('d'), denyEntry.token('d'), denyEntry.token('e')], now + 60)
    t.same((await s.revocations.listSince(0)).map((r) => r.id).sort(), [denyEntry.token('d'), denyEntry.token('e')])
  })

  t.test('users: importBatch inserts new usernames, skips or updates existing ones, keeps given ids, all in input order', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const carolId = randomUUID()
    await s.users.create({ username: 'alice', passwordHash: 'h-alice', fullName: 'Alice', scope: 'read' })
    const outcomes = await s.users.importBatch([
      { username: 'bob', passwordHash: '$2b$04$bob', email: 'bob@x.test', scope: 'read write', disabled: true },
      { username: 'alice', passwordHash: 'h-other' },
      { username: 'carol', passwordHash: null, id: carolId }
    ], { update: false })
    t.match(outcomes, [{ outcome: 'created' }, { outcome: 'skipped' }, { outcome: 'created', id: carolId }])
    const bob = await s.users.findByUsername('bob')
    t.match(bob, { username: 'bob', passwordHash: '$2b$04$bob', email: 'bob@x.test', fullName: null, scope: 'read write', disabled: true })
    t.equal(outcomes[0]?.outcome === 'created' && outcomes[0].id, bob?.id, 'the created id is the stored one')
    t.match(bob?.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a time-ordered UUID (v7): appended to the key index, not scattered over it')
    t.equal((await s.users.findById(carolId))?.username, 'carol', 'a given id is kept')
    t.equal((await s.users.findByUsername('alice'))?.passwordHash, 'h-alice', 'an existing user is never overwritten without update')

    const again = await s.users.importBatch([
      { username: 'dave', passwordHash: 'h-dave', id: carolId },
      { username: 'carol', passwordHash: null, id: randomUUID() },
      { username: 'erin', passwordHash: 'h-erin' }
    ], { update: false })
    t.match(again, [{ outcome: 'id-conflict' }, { outcome: 'id-conflict' }, { outcome: 'created' }], 'an id that is another user\'s, or not this user\'s')
    t.equal(await s.users.findByUsername('dave'), undefined)

    const updated = await s.users.importBatch([
      { username: 'alice', passwordHash: 'h-alice' }, // the same hash, nothing else named: unchanged
      { username: 'bob', passwordHash: '$2b$04$bob', disabled: false, fullName: 'Bob' }, // enabled, named: no revocation
      { username: 'erin', passwordHash: 'h-erin-2' }, // a new password: revoke
      { username: 'carol', passwordHash: null, disabled: true, id: carolId }, // disabled: revoke
      { username: 'frank', passwordHash: 'h-frank' }
    ], { update: true })
    t.match(updated, [
      { outcome: 'skipped' },
      { outcome: 'updated', id: bob!.id, revoke: false },
      { outcome: 'updated', revoke: true },
      { outcome: 'updated', id: carolId, revoke: true },
      { outcome: 'created' }
    ])
    t.match(await s.users.findByUsername('alice'), { fullName: 'Alice', scope: 'read', passwordHash: 'h-alice' }, 'fields not imported are kept')
    t.match(await s.users.findByUsername('bob'), { fullName: 'Bob', email: 'bob@x.test', disabled: false })
    t.equal((await s.users.findByUsername('erin'))?.passwordHash, 'h-erin-2')
    t.equal(await s.users.count(), 5)
    t.same(await s.users.importBatch([], { update: false }), [])
  })

  t.test('22.6: users an upstream provider created keep their mark, and importBatch never writes over them, with or without update', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const vera = await s.users.create({ username: 'vera', passwordHash: '!upstream', email: 'v@x.test', createdBy: 'provider:corp' })
    t.equal(vera.createdBy, 'provider:corp')
    t.equal((await s.users.findByUsername('vera'))?.createdBy, 'provider:corp', 'stored')
    t.equal((await s.users.create({ username: 'alice', passwordHash: 'h' })).createdBy, null, 'null for everyone else')
    for (const update of [false, true]) {
      const outcomes = await s.users.importBatch([
        { username: 'vera', passwordHash: '$2b$04$imported', email: 'imported@x.test', scope: 'admin' },
        { username: 'new-one', passwordHash: null }
      ], { update })
      t.match(outcomes, [{ outcome: 'created-by-provider', createdBy: 'provider:corp' }, { outcome: update ? 'skipped' : 'created' }], `update ${update}: refused`)
      t.match(await s.users.findByUsername('vera'), { passwordHash: '!upstream', email: 'v@x.test', scope: '', createdBy: 'provider:corp', credentialVersion: vera.credentialVersion }, `update ${update}: untouched`)
    }
    t.equal((await s.users.findByUsername('new-one'))?.createdBy, null, 'an imported user is not marked')
  })

  t.test('users: replacePasswordHash changes the hash only while it is still the expected one', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    await s.users.create({ username: 'alice', passwordHash: 'h1' })
    t.equal(await s.users.replacePasswordHash('alice', 'h1', 'h2'), true)
    t.equal((await s.users.findByUsername('alice'))?.passwordHash, 'h2')
    t.equal(await s.users.replacePasswordHash('alice', 'h1', 'h3'), false, 'changed meanwhile: left alone')
    t.equal((await s.users.findByUsername('alice'))?.passwordHash, 'h2')
    t.equal(await s.users.replacePasswordHash('nobody', 'h2', 'h3'), false)
  })

  t.test('users: importBatch is one transaction', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    // A NOT NULL violation (a bug upstream) in the last row takes the whole batch with it.
    await t.rejects(s.users.importBatch([
      { username: 'a1', passwordHash: 'h' },
      { username: 'a2', passwordHash: 'h', scope: null as unknown as string, fullName: 'x' },
      { username: null as unknown as string, passwordHash: 'h' }
    ], { update: false }))
    t.equal(await s.users.count(), 0, 'nothing of it was written')
  })

  t.test('users: listAfter pages through every user in username order', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const names = ['b', 'a', 'B', 'c.d', 'c', 'z9', 'z10']
    await s.users.importBatch(names.map((username) => ({ username, passwordHash: null })), { update: false })
    const seen: string[] = []
    let after: string | null = null
    for (let page = 0; page < 10; page++) {
      const users: Array<{ username: string }> = await s.users.listAfter(after, 3)
      if (users.length === 0) break
      seen.push(...users.map((u) => u.username))
      after = users[users.length - 1]!.username
    }
    t.same(seen, [...names].sort(), 'byte order, each once')
    t.same(await s.users.listAfter('z9', 3), [])
  })

  t.test('users: a new password or disabling bumps the credential version; grants are created only under the current one', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const alice = await s.users.create({ username: 'alice', passwordHash: 'h1' })
    t.equal(alice.credentialVersion, 0)
    const grant = (version: number, id = randomUUID()) => s.grants.create({ id, clientId: 'c1', userId: alice.id, scope: '', credentialVersion: version, createdAt: now, expiresAt: now + 100 }, token(id))
    t.equal(await grant(0), true, 'under the current version')
    t.equal((await s.users.update('alice', { fullName: 'A', scope: 'read', disabled: false }))?.credentialVersion, 0, 'other changes keep it')
    t.equal(await s.users.replacePasswordHash('alice', 'h1', 'h1-rehashed'), true)
    t.equal((await s.users.findById(alice.id))?.credentialVersion, 0, 'the rehash at sign-in (same password) keeps it')
    t.equal((await s.users.update('alice', { passwordHash: 'h2' }))?.credentialVersion, 1, 'a new password bumps it')
    const stale = randomUUID()
    t.equal(await grant(0, stale), false, 'a grant under the old version is refused')
    t.equal(await s.grants.findGrant(stale), undefined, 'and nothing was written')
    t.equal(await grant(1), true)
    t.equal((await s.users.update('alice', { disabled: true }))?.credentialVersion, 2, 'disabling bumps it')
    t.equal(await grant(2), false, 'no grant for a disabled user')
    t.equal((await s.users.update('alice', { disabled: false }))?.credentialVersion, 2, 'enabling does not')
    const [updated] = await s.users.importBatch([{ username: 'alice', passwordHash: 'h3' }], { update: true })
    t.same(updated, { outcome: 'updated', id: alice.id, revoke: true })
    t.equal((await s.users.findById(alice.id))?.credentialVersion, 3, 'an import with a new hash bumps it')
    const current = randomUUID()
    const first = token(current)
    t.equal(await s.grants.create({ id: current, clientId: 'c1', userId: alice.id, scope: '', credentialVersion: 3, createdAt: now, expiresAt: now + 100 }, first), true)
    t.equal((await s.grants.findToken(first.hash))?.grant.credentialVersion, 3, 'the grant keeps its version')
    await s.users.delete('alice')
    t.equal(await grant(3), false, 'no grant for a deleted user')
  })

  t.test('users: a deleted user leaves a tombstone; one imported again under its sub starts above its credential version', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const alice = await s.users.create({ username: 'alice', passwordHash: 'h1' })
    await s.users.update('alice', { passwordHash: 'h2' })
    await s.users.update('alice', { disabled: true })
    t.equal((await s.users.delete('alice'))?.credentialVersion, 2)
    t.equal(await s.users.delete('alice'), undefined, 'deleting again: nothing')
    t.match(await s.users.importBatch([{ id: alice.id, username: 'alice', passwordHash: 'h2' }], { update: false }), [{ outcome: 'created', id: alice.id }])
    const back = await s.users.findById(alice.id)
    t.equal(back?.credentialVersion, 3, 'restored under the same sub: above every version the old user had')
    t.match(await s.users.importBatch([{ id: alice.id, username: 'alice2', passwordHash: 'h' }, { username: 'bob', passwordHash: 'h' }], { update: false }),
      [{ outcome: 'id-conflict' }, { outcome: 'created' }])
    t.equal((await s.users.findByUsername('bob'))?.credentialVersion, 0, 'a new sub starts at 0')
    t.equal((await s.users.create({ username: 'carol', passwordHash: 'h' })).credentialVersion, 0)
    await s.users.delete('alice')
    await s.users.importBatch([{ id: alice.id, username: 'alice', passwordHash: 'h2' }], { update: false })
    t.equal((await s.users.findById(alice.id))?.credentialVersion, 4, 'deleted again: the tombstone moves up with it')
  })

  t.test('clients: each registration has its own generation', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const input = { id: 'c1', secretHash: null, isPublic: true, grantTypes: ['password' as const], scope: null, redirectUris: [] }
    const first = await s.clients.create(input)
    t.match(first.generation, /^[0-9a-f-]{36}$/)
    t.equal((await s.clients.update('c1', { scope: 'read' }))?.generation, first.generation, 'an update keeps it')
    await s.clients.delete('c1')
    const again = await s.clients.create(input)
    t.not(again.generation, first.generation, 'a client re-created under the same id is another generation')
  })

  t.test('clients: a Client ID Metadata Document client is marked cimd, adds no scope, and is swept when never used', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const doc = { secretHash: null, isPublic: true, grantTypes: ['authorization_code' as const, 'refresh_token' as const], scope: 'openid invented', redirectUris: ['https://app.test/cb'], registration: 'cimd' as const }
    const created = await s.clients.create({ id: 'https://app.test/a.json', ...doc })
    t.equal(created.registration, 'cimd')
    t.equal((await s.clients.find('https://app.test/a.json'))?.registration, 'cimd', 'read back as cimd')
    t.equal((await s.clients.update('https://app.test/a.json', { clientName: 'Agent' }))?.registration, 'cimd', 'an update keeps it')
    await s.clients.create({ id: 'https://app.test/b.json', ...doc })
    await s.clients.markUsed('https://app.test/b.json', 1)
    await s.clients.create({ id: 'admin-made', secretHash: null, isPublic: true, grantTypes: ['password'], scope: null, redirectUris: [] })
    t.notOk((await s.clients.scopeLists()).includes('openid invented'), 'its scope is not a scope that exists')
    t.equal(await s.clients.purgeUnusedRegistrations(Number.MAX_SAFE_INTEGER), 1, 'the unused one is swept')
    t.same((await s.clients.list({ limit: 10, offset: 0 })).map((c) => c.id).sort(), ['admin-made', 'https://app.test/b.json'], 'the used one and the administrator\'s stay')
  })

  t.test('ping answers while open', async (t) => {
    const s = await open()
    await t.resolves(s.ping())
    await s.close()
  })
}

import type { Test } from 'tap'
import { randomUUID } from 'node:crypto'
import type { AuthorizationCode, Storage } from '../../lib/stores/types.js'

/**
 * The browser-flow stores (sessions, consents, authorization codes, the client fields of the browser flows):
 * one behavioural suite run unchanged against SQLite and PostgreSQL.
 */
export function browserStoreSuite (t: Test, open: () => Promise<Storage>, openTwice?: () => Promise<[Storage, Storage]>): void {
  const now = 1_800_000_000
  const code = (over: Partial<AuthorizationCode> = {}): AuthorizationCode => ({
    hash: randomUUID(),
    clientId: 'web',
    userId: 'u1',
    redirectUri: 'https://app.test/cb',
    codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    nonce: null,
    scope: 'openid profile',
    authTime: now - 5,
    createdAt: now,
    expiresAt: now + 60,
    redeemedAt: null,
    issued: null,
    ...over
  })

  t.test('sessions: create, find (not after expiry), list and delete per user, purge', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    await s.sessions.create({ idHash: 'h1', userId: 'u1', authTime: now, createdAt: now, expiresAt: now + 100 })
    await s.sessions.create({ idHash: 'h2', userId: 'u1', authTime: now + 1, createdAt: now + 1, expiresAt: now + 100 })
    await s.sessions.create({ idHash: 'h3', userId: 'u2', authTime: now, createdAt: now, expiresAt: now + 10 })
    t.same(await s.sessions.find('h1', now), { idHash: 'h1', userId: 'u1', authTime: now, createdAt: now, expiresAt: now + 100 })
    t.equal(await s.sessions.find('h3', now + 10), undefined, 'expired at expiresAt')
    t.equal(await s.sessions.find('nope', now), undefined)
    t.equal(await s.sessions.find('h1\u0000', now), undefined, 'NUL finds nothing')
    t.same((await s.sessions.listForUser('u1', now)).map((x) => x.idHash), ['h2', 'h1'], 'newest first')
    t.equal(await s.sessions.delete('h2'), true)
    t.equal(await s.sessions.delete('h2'), false)
    t.equal(await s.sessions.deleteForUser('u1'), 1)
    t.same(await s.sessions.listForUser('u1', now), [])
    t.equal(await s.sessions.purgeExpired(now + 10), 1)
    t.equal(await s.sessions.find('h3', now), undefined)
  })

  t.test('consents: granted scopes accumulate as a sorted set; revoke one client or all', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    t.equal(await s.consents.find('u1', 'web'), undefined)
    t.match(await s.consents.grant('u1', 'web', ['profile', 'openid'], now), { userId: 'u1', clientId: 'web', scope: 'openid profile', createdAt: now })
    t.match(await s.consents.grant('u1', 'web', ['email', 'openid'], now + 5), { scope: 'email openid profile', createdAt: now, updatedAt: now + 5 })
    await s.consents.grant('u1', 'spa', ['openid'], now)
    await s.consents.grant('u2', 'web', ['openid'], now)
    t.same((await s.consents.listForUser('u1')).map((c) => [c.clientId, c.scope]), [['spa', 'openid'], ['web', 'email openid profile']])
    t.equal(await s.consents.revoke('u1', 'spa'), 1)
    t.equal(await s.consents.revoke('u1', 'spa'), 0)
    t.equal(await s.consents.revoke('u1'), 1)
    t.same(await s.consents.listForUser('u1'), [])
    t.equal((await s.consents.find('u2', 'web'))?.scope, 'openid', 'other users keep theirs')
    await Promise.all([s.consents.grant('u3', 'web', ['a'], now), s.consents.grant('u3', 'web', ['b'], now)])
    t.equal((await s.consents.find('u3', 'web'))?.scope, 'a b', 'two grants at once: the union')
  })

  t.test('authorization codes: stored as given, redeemed once, then replayed; issued tokens recorded', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const c = code({ nonce: 'n-1' })
    await s.codes.create(c)
    t.same(await s.codes.find(c.hash), c)
    t.equal(await s.codes.find('nope'), undefined)
    const issued = { grantId: 'g1', jti: 'j1', exp: now + 900 }
    t.same(await s.codes.redeem('nope', now, issued), { outcome: 'unknown' })
    const first = await s.codes.redeem(c.hash, now + 1, issued)
    t.equal(first.outcome, 'redeemed')
    t.same(first.outcome === 'redeemed' && first.code, { ...c, redeemedAt: now + 1, issued })
    const second = await s.codes.redeem(c.hash, now + 2, { jti: 'j2', exp: now + 901 })
    t.equal(second.outcome, 'replayed')
    t.same(second.outcome === 'replayed' && second.code.issued, issued, 'what the winner issued, not the replay\'s')
    t.equal(second.outcome === 'replayed' && second.code.redeemedAt, now + 1, 'the first redemption time is kept')
    t.same(await s.codes.redeem('x\u0000', now, issued), { outcome: 'unknown' })
    await s.codes.create(code({ hash: 'old', expiresAt: now - 1 }))
    t.equal(await s.codes.purgeExpired(now), 1)
    t.equal(await s.codes.find('old'), undefined)
    t.ok(await s.codes.find(c.hash), 'live ones stay')
  })

  t.test('authorization codes: one issued without a PKCE challenge reads back without one, redeemed or not', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const c = code({ codeChallenge: null })
    await s.codes.create(c)
    t.same(await s.codes.find(c.hash), c, 'codeChallenge: null, not an empty challenge')
    const redeemed = await s.codes.redeem(c.hash, now + 1, { jti: 'j1', exp: now + 900 })
    t.equal(redeemed.outcome === 'redeemed' && redeemed.code.codeChallenge, null)
  })

  t.test('authorization codes: 20 concurrent redemptions of one code, exactly one wins', async (t) => {
    const [a, b] = openTwice ? await openTwice() : [await open(), undefined]
    t.teardown(async () => { await a.close(); await b?.close() })
    for (let round = 0; round < 5; round++) {
      const c = code()
      await a.codes.create(c)
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 1 && b ? b : a).codes.redeem(c.hash, now, { jti: `j${i}`, exp: now })))
      t.equal(results.filter((r) => r.outcome === 'redeemed').length, 1, `round ${round}: one winner`)
      t.equal(results.filter((r) => r.outcome === 'replayed').length, 19)
      const winner = results.find((r) => r.outcome === 'redeemed')
      t.same((await a.codes.find(c.hash))?.issued, winner?.outcome === 'redeemed' ? winner.code.issued : null, 'the winner\'s ids are recorded')
    }
  })

  t.test('clients: post-logout redirect URIs and skip-consent are stored, patched and default empty/false', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const plain = await s.clients.create({ id: 'c1', secretHash: 'sh', isPublic: false, grantTypes: ['authorization_code'], scope: null, redirectUris: ['https://app.test/cb'] })
    t.same(plain.postLogoutRedirectUris, [])
    t.equal(plain.skipConsent, false)
    const web = await s.clients.create({ id: 'c2', secretHash: null, isPublic: true, grantTypes: ['authorization_code'], scope: null, redirectUris: ['https://app.test/cb'], postLogoutRedirectUris: ['https://app.test/bye'], skipConsent: true })
    t.same(web.postLogoutRedirectUris, ['https://app.test/bye'])
    t.equal(web.skipConsent, true)
    const patched = await s.clients.update('c1', { postLogoutRedirectUris: ['https://app.test/out'], skipConsent: true })
    t.same(patched?.postLogoutRedirectUris, ['https://app.test/out'])
    t.equal(patched?.skipConsent, true)
    t.same(patched?.redirectUris, ['https://app.test/cb'], 'other fields kept')
    t.same((await s.clients.find('c1'))?.postLogoutRedirectUris, ['https://app.test/out'])
  })
}

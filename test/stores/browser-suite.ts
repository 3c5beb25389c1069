import type { Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { BACKCHANNEL_LOGOUT_KIND, type AuthorizationCode, type LogoutMessage, type Session, type Storage } from '../../lib/stores/types.js'

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
    claims: null,
    authTime: now - 5,
    sessionHash: null,
    sid: null,
    amr: [],
    credentialVersion: 0,
    resources: [],
    dpopJkt: null,
    createdAt: now,
    expiresAt: now + 60,
    redeemedAt: null,
    issued: null,
    ...over
  })

  /** A session of `userId` at credential version 0, through the password form. */
  const session = (idHash: string, userId: string, over: Partial<Session> = {}): Session =>
    ({ idHash, userId, authTime: now, createdAt: now, expiresAt: now + 100, credentialVersion: 0, provider: null, amr: ['pwd'], sid: null, userAgent: null, ...over })

  t.test('sessions: create, find (not after expiry), list and delete per user, purge', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const u1 = (await s.users.create({ username: 'u1', passwordHash: null })).id
    const u2 = (await s.users.create({ username: 'u2', passwordHash: null })).id
    t.equal(await s.sessions.create(session('h1', u1)), true)
    await s.sessions.create(session('h2', u1, { authTime: now + 1, createdAt: now + 1 }))
    await s.sessions.create(session('h3', u2, { expiresAt: now + 10 }))
    t.same(await s.sessions.find('h1', now), session('h1', u1))
    t.equal(await s.sessions.find('h3', now + 10), undefined, 'expired at expiresAt')
    t.equal(await s.sessions.find('nope', now), undefined)
    t.equal(await s.sessions.find('h1\u0000', now), undefined, 'NUL finds nothing')
    t.same((await s.sessions.listForUser(u1, now)).map((x) => x.idHash), ['h2', 'h1'], 'newest first')
    t.equal(await s.sessions.delete('h2'), true)
    t.equal(await s.sessions.delete('h2'), false)
    t.equal(await s.sessions.deleteForUser(u1), 1)
    t.same(await s.sessions.listForUser(u1, now), [])
    t.equal(await s.sessions.purgeExpired(now + 10), 1)
    t.equal(await s.sessions.find('h3', now), undefined)
  })

  t.test('sessions: extend moves a live session\'s expiry, never revives an expired or ended one', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const u1 = (await s.users.create({ username: 'u1', passwordHash: null })).id
    await s.sessions.create(session('live', u1, { expiresAt: now + 10 }))
    await s.sessions.create(session('gone', u1, { expiresAt: now + 10 }))
    t.equal(await s.sessions.extend('live', now + 500, now + 5), true)
    t.equal((await s.sessions.find('live', now + 400))?.expiresAt, now + 500, 'found past its first expiry')
    t.equal(await s.sessions.extend('gone', now + 500, now + 10), false, 'expired at its expiry: stays expired')
    t.equal(await s.sessions.find('gone', now + 11), undefined)
    await s.sessions.delete('live')
    t.equal(await s.sessions.extend('live', now + 900, now), false, 'ended: stays ended')
    t.equal(await s.sessions.extend('live\u0000', now + 900, now), false, 'NUL names nothing')
  })

  t.test('sessions: the User-Agent at sign-in is kept (null when none)', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const alice = await s.users.create({ username: 'alice', passwordHash: 'h' })
    const ua = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
    t.equal(await s.sessions.create(session('with', alice.id, { userAgent: ua })), true)
    t.equal(await s.sessions.create(session('without', alice.id)), true)
    t.equal((await s.sessions.find('with', now))?.userAgent, ua)
    t.equal((await s.sessions.find('without', now))?.userAgent, null)
    t.same((await s.sessions.listForUser(alice.id, now)).map((x) => x.userAgent).sort(), [ua, null].sort())
  })

  t.test('sessions: created only while the user exists, is enabled and holds the credential version; how it was signed in is kept', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const alice = await s.users.create({ username: 'alice', passwordHash: 'h' })
    const upstream = session('up', alice.id, { provider: 'corp', amr: ['mfa', 'otp'] })
    t.equal(await s.sessions.create(upstream), true)
    t.same(await s.sessions.find('up', now), upstream, 'the provider and its amr come back')
    t.equal(await s.sessions.create(session('nobody', 'no-such-user')), false, 'no such user: nothing written')
    t.equal(await s.sessions.find('nobody', now), undefined)
    const changed = await s.users.update('alice', { passwordHash: 'h2' })
    t.equal(changed?.credentialVersion, 1)
    t.equal(await s.sessions.create(session('old', alice.id)), false, 'a version read before a password change: nothing written')
    t.equal(await s.sessions.create(session('new', alice.id, { credentialVersion: 1 })), true, 'the current version')
    t.match(await s.sessions.find('new', now), { credentialVersion: 1 })
    await s.users.update('alice', { disabled: true })
    await s.users.update('alice', { disabled: false })
    t.equal(await s.sessions.create(session('after', alice.id, { credentialVersion: 1 })), false, 'disabling moved the version on, so re-enabling does not take it back')
    await s.users.update('alice', { disabled: true })
    t.equal(await s.sessions.create(session('disabled', alice.id, { credentialVersion: 3 })), false, 'a disabled user: nothing written')
    t.same((await s.sessions.listForUser(alice.id, now)).map((x) => x.idHash).sort(), ['new', 'up'])
  })

  t.test('authorization codes: the credential version of their session is kept', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const c = code({ credentialVersion: 7 })
    await s.codes.create(c)
    t.equal((await s.codes.find(c.hash))?.credentialVersion, 7)
  })

  t.test('authorization codes: the session\'s amr is kept, in order ([] when none was written)', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const two = code({ amr: ['pwd', 'otp', 'mfa'] })
    await s.codes.create(two)
    t.same((await s.codes.find(two.hash))?.amr, ['pwd', 'otp', 'mfa'])
    const none = code()
    delete none.amr
    await s.codes.create(none)
    t.same((await s.codes.find(none.hash))?.amr, [])
    const redeemed = await s.codes.redeem(two.hash, now, { jti: 'j', exp: now + 60 })
    t.same(redeemed.outcome === 'redeemed' && redeemed.code.amr, ['pwd', 'otp', 'mfa'], 'and given back by the redemption')
  })

  t.test('authorization codes: the claims parameter\'s names are kept (null when none were asked for)', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const asked = code({ claims: { userinfo: ['name', 'email'], idToken: ['given_name'] } })
    await s.codes.create(asked)
    t.same((await s.codes.find(asked.hash))?.claims, { userinfo: ['name', 'email'], idToken: ['given_name'] })
    const none = code()
    await s.codes.create(none)
    t.equal((await s.codes.find(none.hash))?.claims, null)
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

  t.test('authorization codes: the resources (RFC 8707) they were issued for, in order; none reads back as []', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const two = code({ resources: ['https://b.test/api', 'https://a.test/mcp'] })
    await s.codes.create(two)
    t.same((await s.codes.find(two.hash))?.resources, ['https://b.test/api', 'https://a.test/mcp'])
    const none = code()
    delete none.resources
    await s.codes.create(none)
    t.same((await s.codes.find(none.hash))?.resources, [])
    const redeemed = await s.codes.redeem(two.hash, now, { jti: 'j', exp: now + 60 })
    t.same(redeemed.outcome === 'redeemed' && redeemed.code.resources, ['https://b.test/api', 'https://a.test/mcp'], 'and given back by the redemption')
  })

  t.test('authorization codes: the dpop_jkt (RFC 9449 §10) they are bound to; none reads back as null', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const bound = code({ dpopJkt: 'jkt-1' })
    await s.codes.create(bound)
    t.equal((await s.codes.find(bound.hash))?.dpopJkt, 'jkt-1')
    const none = code()
    delete none.dpopJkt
    await s.codes.create(none)
    t.equal((await s.codes.find(none.hash))?.dpopJkt, null)
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

  t.test('sessions: endOldestForUser keeps the newest, in insertion order within one second; other users untouched', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const u1 = (await s.users.create({ username: 'u1', passwordHash: null })).id
    const u2 = (await s.users.create({ username: 'u2', passwordHash: null })).id
    for (let i = 0; i < 8; i++) t.equal(await s.sessions.create(session(`s${i}`, u1)), true)
    await s.sessions.create(session('older', u1, { authTime: now - 50, createdAt: now - 50 }))
    await s.sessions.create(session('other', u2, { authTime: now - 60, createdAt: now - 60 }))
    t.equal(await s.sessions.endOldestForUser(u1, 5), 4, 'nine sessions, five kept')
    t.same((await s.sessions.listForUser(u1, now)).map((x) => x.idHash).sort(), ['s3', 's4', 's5', 's6', 's7'], 'the oldest created first, then the first inserted')
    t.equal(await s.sessions.endOldestForUser(u1, 5), 0, 'at the bound: nothing')
    t.ok(await s.sessions.find('other', now), 'another user\'s older session stays')
    t.equal(await s.sessions.endOldestForUser(`${u1}\u0000`, 5), 0)
  })

  t.test('authorization codes: endOldestForSession ends the oldest unredeemed codes of that session only', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const mine = Array.from({ length: 6 }, (_, i) => code({ hash: `c${i}`, sessionHash: 'sess-a' }))
    for (const c of mine) await s.codes.create(c)
    await s.codes.create(code({ hash: 'early', sessionHash: 'sess-a', createdAt: now - 30 }))
    await s.codes.create(code({ hash: 'theirs', sessionHash: 'sess-b', createdAt: now - 40 }))
    await s.codes.create(code({ hash: 'legacy', sessionHash: null, createdAt: now - 40 }))
    t.equal((await s.codes.redeem('c0', now, { jti: 'j', exp: now + 900 })).outcome, 'redeemed')
    t.equal(await s.codes.endOldestForSession('sess-a', 3), 3, 'six unredeemed, three kept')
    const left = await Promise.all(['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'early', 'theirs', 'legacy'].map(async (h) => [h, (await s.codes.find(h)) !== undefined]))
    t.same(Object.fromEntries(left), { c0: true, c1: false, c2: false, c3: true, c4: true, c5: true, early: false, theirs: true, legacy: true },
      'the redeemed one stays (a replay is still recognised); the earliest and first-issued go; other sessions\' stay')
    t.equal((await s.codes.find('c3'))?.sessionHash, 'sess-a', 'a code knows its session')
  })

  t.test('authorization codes: purgeExpired deletes unredeemed codes at their lifetime, redeemed ones after the replay window', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    await s.codes.create(code({ hash: 'unredeemed', expiresAt: now + 60 }))
    await s.codes.create(code({ hash: 'redeemed', expiresAt: now + 60 }))
    await s.codes.redeem('redeemed', now + 1, { jti: 'j', exp: now + 900 })
    t.equal(await s.codes.purgeExpired(now + 59, 3600), 0, 'before the lifetime: nothing')
    t.equal(await s.codes.purgeExpired(now + 60, 3600), 1, 'at the lifetime: the unredeemed one')
    t.equal(await s.codes.find('unredeemed'), undefined)
    t.ok(await s.codes.find('redeemed'), 'the redeemed one is kept for replay detection')
    t.equal(await s.codes.purgeExpired(now + 60 + 3599, 3600), 0)
    t.equal(await s.codes.purgeExpired(now + 60 + 3600, 3600), 1, 'then it goes too')
  })

  t.test('housekeeping: one claim per round, across instances; table rows counted', async (t) => {
    const [a, b] = openTwice ? await openTwice() : [await open(), undefined]
    t.teardown(async () => { await a.close(); await b?.close() })
    const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 1 && b ? b : a).housekeeping.claim('sweep', now, 30)))
    t.equal(claims.filter(Boolean).length, 1, 'ten claims at once: one wins')
    t.equal(await a.housekeeping.claim('sweep', now + 29, 30), false, 'too soon')
    t.equal(await a.housekeeping.claim('other-job', now + 29, 30), true, 'jobs are separate')
    t.equal(await (b ?? a).housekeeping.claim('sweep', now + 30, 30), true, 'the next round')
    t.equal(await a.housekeeping.claim('sweep', now + 30, 30), false)
    t.same(await a.housekeeping.tableRows(), { sessions: 0, session_clients: 0, authorization_codes: 0, upstream_transactions: 0, consents: 0, grants: 0, refresh_tokens: 0, revocations: 0, outbox: 0, account_links: 0, passkey_challenges: 0, device_codes: 0, pushed_requests: 0, security_events: 0 })
    const u1 = (await a.users.create({ username: 'u1', passwordHash: null })).id
    t.equal(await a.sessions.create(session('h1', u1)), true)
    await a.codes.create(code())
    await a.codes.create(code())
    await a.consents.grant('u1', 'web', ['openid'], now)
    t.match(await a.housekeeping.tableRows(), { sessions: 1, authorization_codes: 2, consents: 1, upstream_transactions: 0 })
  })

  t.test('back-channel logout: a session keeps its sid and (bounded) its clients; its codes keep the sid', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const u1 = (await s.users.create({ username: 'u1', passwordHash: null })).id
    t.equal(await s.sessions.create(session('h1', u1, { sid: 'sid-1' })), true)
    t.equal((await s.sessions.find('h1', now))?.sid, 'sid-1')
    t.equal(await s.sessions.addClient('h1', 'web', 3), true)
    t.equal(await s.sessions.addClient('h1', 'web', 3), false, 'idempotent')
    t.equal(await s.sessions.addClient('h1', 'api', 3), true)
    t.equal(await s.sessions.addClient('h1', 'cli', 3), true)
    t.equal(await s.sessions.addClient('h1', 'fourth', 3), false, 'bounded per session')
    t.same(await s.sessions.clients('h1'), ['api', 'cli', 'web'])
    const c = code({ sessionHash: 'h1', sid: 'sid-1' })
    await s.codes.create(c)
    t.equal((await s.codes.find(c.hash))?.sid, 'sid-1')
    const old = code()
    await s.codes.create(old)
    t.equal((await s.codes.find(old.hash))?.sid, null, 'no sid: null')
  })

  t.test('back-channel logout: every way a session ends queues one message per client with a back-channel URI, in the same change', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const base = { secretHash: 'sh', isPublic: false, grantTypes: ['authorization_code' as const], scope: null, redirectUris: ['https://app.test/cb'] }
    await s.clients.create({ ...base, id: 'rp1', backchannelLogoutUri: 'https://rp1.test/bc' })
    await s.clients.create({ ...base, id: 'rp2', backchannelLogoutUri: 'https://rp2.test/bc' })
    await s.clients.create({ ...base, id: 'plain' })
    const u1 = (await s.users.create({ username: 'u1', passwordHash: null })).id
    const u2 = (await s.users.create({ username: 'u2', passwordHash: null })).id
    const signIn = async (hash: string, userId: string, over: Partial<Session> = {}, clients = ['rp1', 'rp2', 'plain']) => {
      await s.sessions.create(session(hash, userId, { sid: `sid-${hash}`, ...over }))
      for (const client of clients) await s.sessions.addClient(hash, client, 50)
    }
    const drain = async () => {
      const claimed = await s.outbox.claim(BACKCHANNEL_LOGOUT_KIND, now, 100, 60, 'me')
      for (const m of claimed) await s.outbox.complete(m.id, 'me', now)
      return claimed.map((m) => m.payload as LogoutMessage).map((m) => `${m.clientId} ${m.uri} ${m.sub === u1 ? 'u1' : 'u2'} ${m.sid}`)
    }

    await signIn('a', u1)
    t.equal(await s.sessions.delete('a'), true)
    t.same(await drain(), ['rp1 https://rp1.test/bc u1 sid-a', 'rp2 https://rp2.test/bc u1 sid-a'], 'sign-out: the clients with a URI')
    t.same(await s.sessions.clients('a'), [], 'its clients are forgotten')

    await signIn('b', u1)
    await signIn('c', u1, {}, ['rp1'])
    await signIn('d', u2, {}, ['rp2'])
    t.equal(await s.sessions.deleteForUser(u1), 2)
    t.same((await drain()).sort(), ['rp1 https://rp1.test/bc u1 sid-b', 'rp1 https://rp1.test/bc u1 sid-c', 'rp2 https://rp2.test/bc u1 sid-b'], 'every session of the user; not another user\'s')

    await signIn('e', u2, { createdAt: now + 1 }, ['rp1'])
    t.equal(await s.sessions.endOldestForUser(u2, 1), 1)
    t.same(await drain(), ['rp2 https://rp2.test/bc u2 sid-d'], 'the oldest session ended past the bound')

    await signIn('f', u2, { expiresAt: now + 5 }, ['rp2'])
    t.equal(await s.sessions.purgeExpired(now + 5), 1)
    t.same(await drain(), ['rp2 https://rp2.test/bc u2 sid-f'], 'expiry')

    await signIn('nosid', u2, { sid: null }, ['rp1'])
    await s.sessions.delete('nosid')
    t.same(await drain(), [], 'a session from before sids: nothing to say')
    t.same(await s.sessions.clients('nosid'), [])
  })

  t.test('back-channel logout: the queued messages are outbox messages: leased once across instances, the oldest dropped past the bound', async (t) => {
    const [a, b] = openTwice ? await openTwice() : [await open(), undefined]
    t.teardown(async () => { await b?.close(); await a.close() })
    await a.clients.create({ id: 'rp', secretHash: 'sh', isPublic: false, grantTypes: ['authorization_code'], scope: null, redirectUris: ['https://app.test/cb'], backchannelLogoutUri: 'https://rp.test/bc' })
    const u1 = (await a.users.create({ username: 'u1', passwordHash: null })).id
    for (let i = 0; i < 30; i++) {
      await a.sessions.create(session(`s${i}`, u1, { sid: `sid-${i}` }))
      await a.sessions.addClient(`s${i}`, 'rp', 50)
    }
    t.equal(await a.sessions.deleteForUser(u1), 30)
    t.equal(await a.outbox.pending(BACKCHANNEL_LOGOUT_KIND), 30)
    t.equal(await a.outbox.pending('mail'), 0, 'of its own kind')
    // Two instances claiming at once never get the same message.
    const claims = await Promise.all([a, b ?? a, a, b ?? a].map((store, i) => store.outbox.claim(BACKCHANNEL_LOGOUT_KIND, now, 10, 30, `owner-${i}`)))
    const ids = claims.flat().map((m) => m.id)
    t.equal(ids.length, 30, 'every message claimed once')
    t.equal(new Set(ids).size, 30, 'no message twice')
    t.match(claims.flat()[0], { kind: BACKCHANNEL_LOGOUT_KIND, attempts: 1, payload: { clientId: 'rp', uri: 'https://rp.test/bc', sub: u1 } })
    t.same(await a.outbox.claim(BACKCHANNEL_LOGOUT_KIND, now + 29, 100, 30, 'other'), [], 'leased: nobody else takes them')
    t.equal(await a.outbox.dropOldest(BACKCHANNEL_LOGOUT_KIND, 10, now, 'dropped'), 20, 'the oldest go past the bound')
    t.equal(await a.outbox.pending(BACKCHANNEL_LOGOUT_KIND), 10)
    const kept = await a.outbox.claim(BACKCHANNEL_LOGOUT_KIND, now + 30, 100, 30, 'other')
    t.same(kept.map((m) => (m.payload as LogoutMessage).sid).sort(), Array.from({ length: 10 }, (_, i) => `sid-${20 + i}`).sort(), 'the newest are kept')
    t.equal(await a.outbox.dropOldest(BACKCHANNEL_LOGOUT_KIND, 10, now, 'dropped'), 0)
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

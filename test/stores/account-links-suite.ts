import type { Test } from 'tap'
import type { AccountLink, Storage } from '../../lib/stores/types.js'

/** The account-link store: one behavioural suite run unchanged against SQLite and PostgreSQL. */
export function accountLinkStoreSuite (t: Test, open: () => Promise<Storage>): void {
  const now = 1_800_000_000
  const link = (id: string, over: Partial<AccountLink> = {}): Omit<AccountLink, 'usedAt'> => ({
    id, tokenHash: `hash-${id}`, purpose: 'reset_password', userId: null, email: 'a@x.test', scope: null, data: null, createdAt: now, expiresAt: now + 1800, ...over
  } as Omit<AccountLink, 'usedAt'>)
  const user = async (s: Storage, username: string) => s.users.create({ username, passwordHash: null })

  t.test('account links: find, consume once, only for its purpose and before its expiry', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const u = await user(s, 'alice')
    await s.accountLinks.create(link('1', { userId: u.id }))
    t.match(await s.accountLinks.find('hash-1', 'reset_password', now), { id: '1', userId: u.id, email: 'a@x.test', usedAt: null })
    t.equal(await s.accountLinks.find('hash-1', 'verify_email', now), undefined, 'another purpose finds nothing')
    t.equal(await s.accountLinks.consume('hash-1', 'invitation', now), undefined, 'nor consumes it')
    t.equal(await s.accountLinks.find('hash-1', 'reset_password', now + 1800), undefined, 'expired at expiresAt')
    t.equal(await s.accountLinks.consume('hash-1', 'reset_password', now + 1800), undefined)
    t.match(await s.accountLinks.consume('hash-1', 'reset_password', now + 5), { id: '1', usedAt: now + 5 })
    t.equal(await s.accountLinks.consume('hash-1', 'reset_password', now + 6), undefined, 'once')
    t.equal(await s.accountLinks.find('hash-1', 'reset_password', now + 6), undefined)
    t.equal(await s.accountLinks.consume('nope', 'reset_password', now), undefined)
    t.equal(await s.accountLinks.consume('a\u0000b', 'reset_password', now), undefined, 'a NUL finds nothing')
  })

  t.test('account links: a user\'s newest pending link of a purpose', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const a = await user(s, 'alice')
    const b = await user(s, 'bob')
    t.equal(await s.accountLinks.pendingForUser(a.id, 'change_email', now), undefined, 'none yet')
    await s.accountLinks.create(link('c1', { userId: a.id, purpose: 'change_email', email: 'one@x.test', createdAt: now - 5 }))
    await s.accountLinks.create(link('c2', { userId: a.id, purpose: 'change_email', email: 'two@x.test', createdAt: now - 1 }))
    await s.accountLinks.create(link('r', { userId: a.id, email: 'reset@x.test', createdAt: now }))
    await s.accountLinks.create(link('b', { userId: b.id, purpose: 'change_email', email: 'bob@x.test', createdAt: now }))
    t.match(await s.accountLinks.pendingForUser(a.id, 'change_email', now), { id: 'c2', email: 'two@x.test' }, 'the newest, of that purpose, of that user')
    await s.accountLinks.consume('hash-c2', 'change_email', now)
    t.match(await s.accountLinks.pendingForUser(a.id, 'change_email', now), { id: 'c1' }, 'a used one is not pending')
    t.equal(await s.accountLinks.pendingForUser(a.id, 'change_email', now + 1800), undefined, 'nor an expired one')
    t.equal(await s.accountLinks.pendingForUser(`${a.id}\u0000`, 'change_email', now), undefined, 'a NUL finds nothing')
  })

  t.test('account links: two consumers at once, one wins', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    await s.accountLinks.create(link('1', { purpose: 'invitation' }))
    const results = await Promise.all(Array.from({ length: 8 }, () => s.accountLinks.consume('hash-1', 'invitation', now)))
    t.equal(results.filter((r) => r !== undefined).length, 1)
  })

  t.test('account links: voidOlder removes the user\'s unused links of that purpose only', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const a = await user(s, 'alice')
    const b = await user(s, 'bob')
    await s.accountLinks.create(link('old', { userId: a.id }))
    await s.accountLinks.create(link('bob', { userId: b.id }))
    await s.accountLinks.create(link('verify', { userId: a.id, purpose: 'verify_email' }))
    await s.accountLinks.create(link('new', { userId: a.id }), { voidOlder: true })
    t.equal(await s.accountLinks.find('hash-old', 'reset_password', now), undefined, 'the older link is void')
    t.ok(await s.accountLinks.find('hash-new', 'reset_password', now))
    t.ok(await s.accountLinks.find('hash-bob', 'reset_password', now), 'another user\'s link stays')
    t.ok(await s.accountLinks.find('hash-verify', 'verify_email', now), 'another purpose stays')
    await s.accountLinks.create(link('kept', { userId: a.id }))
    t.ok(await s.accountLinks.find('hash-new', 'reset_password', now), 'without voidOlder nothing is voided')
  })

  t.test('account links: pending list, revoke, purge; a deleted user takes its links', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    await s.accountLinks.create(link('i1', { purpose: 'invitation', createdAt: now - 2, scope: 'read' }))
    await s.accountLinks.create(link('i2', { purpose: 'invitation', createdAt: now - 1 }))
    await s.accountLinks.create(link('i3', { purpose: 'invitation', expiresAt: now }))
    t.same((await s.accountLinks.listPending('invitation', now, 10)).map((l) => [l.id, l.scope]), [['i2', null], ['i1', 'read']], 'newest first, expired left out')
    t.equal((await s.accountLinks.listPending('invitation', now, 1)).length, 1)
    t.equal(await s.accountLinks.countPending('invitation', now), 2, 'counted: unused, unexpired, of that purpose')
    t.equal(await s.accountLinks.countPending('signup', now), 0)
    t.equal(await s.accountLinks.revoke('i1', 'reset_password'), false, 'only with its purpose')
    t.equal(await s.accountLinks.revoke('i1', 'invitation'), true)
    t.equal(await s.accountLinks.countPending('invitation', now), 1)
    t.equal(await s.accountLinks.revoke('i1', 'invitation'), false)
    t.equal(await s.accountLinks.find('hash-i1', 'invitation', now), undefined)
    await s.accountLinks.consume('hash-i2', 'invitation', now)
    t.equal(await s.accountLinks.revoke('i2', 'invitation'), false, 'a used link is not revoked')
    t.equal(await s.accountLinks.purgeExpired(now), 1)
    const u = await user(s, 'carol')
    await s.accountLinks.create(link('c', { userId: u.id }))
    await s.users.delete('carol')
    t.equal(await s.accountLinks.find('hash-c', 'reset_password', now), undefined)
  })

  t.test('account links: a sign-up link carries its data (JSON) back; a change-of-address link is voided by a newer one', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const data = { username: 'dora', fullName: 'Dora Ü', passwordHash: '$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA' }
    await s.accountLinks.create(link('s', { purpose: 'signup', data }))
    t.same((await s.accountLinks.consume('hash-s', 'signup', now))?.data, data)
    t.equal((await s.accountLinks.find('hash-1', 'signup', now)), undefined)
    const u = await user(s, 'erin')
    await s.accountLinks.create(link('e1', { purpose: 'change_email', userId: u.id, email: 'new1@x.test' }))
    await s.accountLinks.create(link('e2', { purpose: 'change_email', userId: u.id, email: 'new2@x.test' }), { voidOlder: true })
    t.equal(await s.accountLinks.find('hash-e1', 'change_email', now), undefined)
    t.match(await s.accountLinks.find('hash-e2', 'change_email', now), { email: 'new2@x.test', data: null })
  })
}

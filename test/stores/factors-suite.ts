import type { Test } from 'tap'
import { ConflictError, TooManyFactorsError, type NewUserFactor, type Storage } from '../../lib/stores/types.js'

/** The second-factor store: one behavioural suite run unchanged against SQLite and PostgreSQL. */
export function factorStoreSuite (t: Test, open: () => Promise<Storage>): void {
  const now = 1_800_000_000
  const totp = (id: string, userId: string, over: Partial<NewUserFactor> = {}): NewUserFactor => ({
    id, userId, kind: 'totp', name: 'Phone', secret: 'sealed', credentialId: null, publicKey: null, counter: 0, data: null, createdAt: now, confirmedAt: null, ...over
  })
  const passkey = (id: string, userId: string, credentialId: string, over: Partial<NewUserFactor> = {}): NewUserFactor => ({
    id, userId, kind: 'passkey', name: 'Key', secret: null, credentialId, publicKey: 'cose', counter: 0, data: { transports: ['usb'] }, createdAt: now, confirmedAt: now, ...over
  })
  const user = async (s: Storage, username: string) => s.users.create({ username, passwordHash: null })

  t.test('factors: a TOTP factor counts once confirmed; each time step is accepted once, and no earlier one after it', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const a = await user(s, 'alice')
    await s.factors.create(totp('t1', a.id), 5)
    t.equal(await s.factors.countConfirmed(a.id), 0, 'unconfirmed does not count')
    t.equal(await s.factors.useStep(a.id, 't1', 100, now), false, 'an unconfirmed factor takes no sign-in code')
    t.equal(await s.factors.useStep(a.id, 't1', 100, now, true), true, 'confirmed with its first code')
    t.equal(await s.factors.countConfirmed(a.id), 1)
    t.match(await s.factors.get(a.id, 't1'), { confirmedAt: now, lastStep: 100, lastUsedAt: now, secret: 'sealed', data: null })
    t.equal(await s.factors.useStep(a.id, 't1', 100, now + 1), false, 'the same step again: refused')
    t.equal(await s.factors.useStep(a.id, 't1', 99, now + 1), false, 'an earlier step: refused')
    t.equal(await s.factors.useStep(a.id, 't1', 101, now + 30), true, 'a later one: accepted')
    const b = await user(s, 'bob')
    t.equal(await s.factors.useStep(b.id, 't1', 200, now), false, 'another user cannot use it')
    const results = await Promise.all(Array.from({ length: 10 }, () => s.factors.useStep(a.id, 't1', 102, now + 60)))
    t.equal(results.filter(Boolean).length, 1, 'ten presentations of one step at once: one accepted')
  })

  t.test('factors: passkeys by credential id, unique, with a counter that may not go back', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const a = await user(s, 'alice')
    const b = await user(s, 'bob')
    await s.factors.create(passkey('p1', a.id, 'cred-1'), 5)
    await t.rejects(s.factors.create(passkey('p2', b.id, 'cred-1'), 5), ConflictError, 'a credential id is registered once, to anyone')
    t.match(await s.factors.findByCredentialId('cred-1'), { id: 'p1', userId: a.id, publicKey: 'cose', data: { transports: ['usb'] } })
    t.equal(await s.factors.findByCredentialId('cred-2'), undefined)
    t.equal(await s.factors.findByCredentialId('a\u0000b'), undefined, 'a NUL finds nothing')
    t.equal(await s.factors.usePasskey('p1', 0, now), true, 'no counter kept: 0 after 0 is fine')
    t.equal(await s.factors.usePasskey('p1', 5, now), true)
    t.equal(await s.factors.usePasskey('p1', 5, now), false, 'the same counter again: refused (a clone)')
    t.equal(await s.factors.usePasskey('p1', 3, now), false, 'a counter gone back: refused')
    t.equal(await s.factors.usePasskey('p1', 0, now), false, 'nor back to 0 once counting')
    t.match(await s.factors.get(a.id, 'p1'), { counter: 5, lastUsedAt: now })
    t.equal(await s.factors.countConfirmed(a.id), 1, 'a passkey counts at once')
  })

  t.test('factors: at most maxPerUser per user, unconfirmed ones included, even when created at once', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const a = await user(s, 'alice')
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => s.factors.create(totp(`t${i}`, a.id), 3)))
    t.equal(results.filter((r) => r.status === 'fulfilled').length, 3, 'three created')
    t.ok(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof TooManyFactorsError), 'the rest TooManyFactorsError')
    t.equal((await s.factors.list(a.id)).length, 3)
  })

  t.test('factors: remove one, remove all (recovery codes too), purge abandoned enrolments', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const a = await user(s, 'alice')
    const b = await user(s, 'bob')
    await s.factors.create(totp('old', a.id, { createdAt: now - 7200 }), 5)
    await s.factors.create(totp('new', a.id, { createdAt: now }), 5)
    await s.factors.create(passkey('p', a.id, 'cred', { createdAt: now - 7200 }), 5)
    await s.factors.create(totp('b', b.id, { createdAt: now - 7200 }), 5)
    await s.factors.useStep(b.id, 'b', 1, now, true)
    t.same((await s.factors.list(a.id)).map((f) => f.id), ['old', 'p', 'new'], 'oldest first')
    t.equal(await s.factors.purgeUnconfirmed(now - 3600), 1, 'only the unconfirmed one made before the cut')
    t.same((await s.factors.list(a.id)).map((f) => f.id), ['p', 'new'])
    t.equal(await s.factors.remove(b.id, 'p'), false, 'not another user\'s')
    t.equal(await s.factors.remove(a.id, 'p'), true)
    t.equal(await s.factors.remove(a.id, 'p'), false)
    await s.factors.replaceRecoveryCodes(a.id, ['d1', 'd2'], now)
    t.equal(await s.factors.removeAll(a.id), 1)
    t.equal(await s.factors.recoveryCodesLeft(a.id), 0, 'recovery codes gone with them')
    t.equal((await s.factors.list(b.id)).length, 1, 'bob\'s untouched')
    await s.users.delete('bob')
    t.same(await s.factors.list(b.id), [], 'a deleted user\'s factors go with the user')
  })

  t.test('recovery codes: replaced as a set, each used once, even at once', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const a = await user(s, 'alice')
    const b = await user(s, 'bob')
    await s.factors.replaceRecoveryCodes(a.id, ['d1', 'd2', 'd3'], now)
    t.equal(await s.factors.recoveryCodesLeft(a.id), 3)
    t.equal(await s.factors.useRecoveryCode(b.id, 'd1', now), false, 'not another user\'s')
    const results = await Promise.all(Array.from({ length: 10 }, () => s.factors.useRecoveryCode(a.id, 'd1', now)))
    t.equal(results.filter(Boolean).length, 1, 'ten uses of one code at once: one')
    t.equal(await s.factors.recoveryCodesLeft(a.id), 2)
    await s.factors.replaceRecoveryCodes(a.id, ['e1'], now)
    t.equal(await s.factors.useRecoveryCode(a.id, 'd2', now), false, 'the old set is gone')
    t.equal(await s.factors.useRecoveryCode(a.id, 'e1', now), true)
    t.equal(await s.factors.useRecoveryCode(a.id, 'x\u0000', now), false)
  })
}

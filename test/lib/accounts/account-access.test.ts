import t, { type Test } from 'tap'
import { endOtherSessions, endSessionBySid, hasPassword, revokeApp, unlinkProvider } from '../../../lib/accounts/account-access.js'
import { UNUSABLE_PASSWORD } from '../../../lib/credentials/passwords.js'
import { denyEntry } from '../../../lib/stores/deny-list.js'
import { openStorage } from '../../../lib/stores/index.js'
import type { Session, Storage } from '../../../lib/stores/types.js'
import { manualClock, tempDatabaseUrl } from '../../support/helper.js'

// What the account page takes back, against a real SQLite store, no app: only the user's own rows.

async function setup (t: Test) {
  const storage = await openStorage(tempDatabaseUrl(t))
  t.teardown(() => storage.close())
  const clock = manualClock()
  const alice = await storage.users.create({ username: 'alice', passwordHash: 'h' })
  const bob = await storage.users.create({ username: 'bob', passwordHash: 'h' })
  return { storage, clock, alice, bob, now: clock.now() }
}

const session = (idHash: string, userId: string, now: number, sid: string): Session =>
  ({ idHash, userId, authTime: now, createdAt: now, expiresAt: now + 100, credentialVersion: 0, provider: null, amr: ['pwd'], sid, userAgent: null })

const ids = async (storage: Storage, userId: string, now: number) => (await storage.sessions.listForUser(userId, now)).map((s) => s.idHash).sort()

t.test('sessions: the others end, this one stays; one by its sid, never another user\'s', async (t) => {
  const { storage, alice, bob, now } = await setup(t)
  for (const [h, u] of [['a1', alice.id], ['a2', alice.id], ['a3', alice.id], ['b1', bob.id]] as const) await storage.sessions.create(session(h, u, now, `sid-${h}`))
  t.equal(await endSessionBySid(storage, alice.id, 'sid-b1', now), false, 'bob\'s session is not alice\'s to end')
  t.equal(await endSessionBySid(storage, alice.id, 'sid-a2', now), true)
  t.equal(await endSessionBySid(storage, alice.id, 'sid-a2', now), false, 'ended already')
  t.same(await ids(storage, alice.id, now), ['a1', 'a3'])
  t.equal(await endOtherSessions(storage, alice.id, 'a3', now), 1)
  t.same(await ids(storage, alice.id, now), ['a3'])
  t.same(await ids(storage, bob.id, now), ['b1'], 'bob untouched')
})

t.test('apps: the consent and that client\'s grants of this user only', async (t) => {
  const { storage, clock, alice, bob, now } = await setup(t)
  const grant = async (id: string, userId: string, clientId: string) => {
    await storage.grants.create({ id, clientId, userId, scope: 'openid', credentialVersion: 0, createdAt: now, expiresAt: now + 1000 }, { hash: `rt-${id}`, grantId: id, scope: 'openid', issuedAt: now, expiresAt: now + 1000, consumedAt: null })
  }
  await grant('g1', alice.id, 'web')
  await grant('g2', alice.id, 'other')
  await grant('g3', bob.id, 'web')
  await storage.consents.grant(alice.id, 'web', ['openid'], now)
  await storage.consents.grant(bob.id, 'web', ['openid'], now)
  t.same(await revokeApp({ storage, clock, config: { accessTokenTtl: 900 } }, alice.id, 'web'), { consents: 1, grants: 1 })
  t.equal(await storage.consents.find(alice.id, 'web'), undefined)
  t.ok(await storage.consents.find(bob.id, 'web'), 'bob\'s consent stays')
  t.ok(await storage.revocations.anyRevoked([denyEntry.grant('g1')]), 'its access tokens are refused')
  t.notOk(await storage.revocations.anyRevoked([denyEntry.grant('g2')]), 'another client\'s grant stays')
  t.notOk(await storage.revocations.anyRevoked([denyEntry.grant('g3')]), 'another user\'s grant stays')
  t.same(await revokeApp({ storage, clock, config: { accessTokenTtl: 900 } }, alice.id, 'web'), { consents: 0, grants: 0 }, 'nothing left')
})

t.test('providers: unlinked unless it is the only way to sign in', async (t) => {
  const { storage, alice } = await setup(t)
  const link = (userId: string, provider: string) => storage.identities.link({ provider, issuer: `https://${provider}.test`, subject: `${provider}-${userId}`, userId, email: null, linkedAt: 0 })
  const carol = await storage.users.create({ username: 'carol', passwordHash: UNUSABLE_PASSWORD })
  t.equal(hasPassword(alice), true)
  t.equal(hasPassword(carol), false, 'an upstream-created user has no usable password')
  t.equal(hasPassword({ passwordHash: null }), false)
  await link(carol.id, 'corp')
  await link(alice.id, 'corp')
  t.equal(await unlinkProvider(storage, carol, 'corp'), 'only_way')
  await link(carol.id, 'gh')
  t.equal(await unlinkProvider(storage, carol, 'corp'), 'unlinked', 'another provider is left')
  t.equal(await unlinkProvider(storage, carol, 'gh'), 'only_way', 'now that one is the only way')
  t.equal(await unlinkProvider(storage, alice, 'corp'), 'unlinked', 'a password is left')
  t.equal(await unlinkProvider(storage, alice, 'corp'), 'not_linked')
})

import t, { type Test } from 'tap'
import { sweepExpired, sweepRound } from '../../../lib/ops/sweep.js'
import { REDEEMED_CODE_RETENTION_SECONDS, UNCONFIRMED_FACTOR_SECONDS } from '../../../lib/limits/table-bounds.js'
import { OUTBOX_RETENTION_SECONDS } from '../../../lib/ops/outbox.js'
import { openStorage } from '../../../lib/stores/index.js'
import type { AuthorizationCode, Storage } from '../../../lib/stores/types.js'
import { tempDatabaseUrl } from '../../support/helper.js'

// The sweep's rule against a real SQLite store, no app (test/stores/ runs the store methods on both backends;
// test/plugins/sweep.test.ts the schedule and the gauge).

const now = 1_800_000_000

async function setup (t: Test) {
  const storage = await openStorage(tempDatabaseUrl(t))
  t.teardown(() => storage.close())
  return storage
}

const code = (hash: string, expiresAt: number): AuthorizationCode => ({
  ...{ clientId: 'web', userId: 'u1', redirectUri: 'https://app.test/cb', codeChallenge: 'c', nonce: null, scope: 'openid', authTime: now },
  ...{ sessionHash: 's', credentialVersion: 0, redeemedAt: null, issued: null },
  hash,
  createdAt: expiresAt - 60,
  expiresAt
})

/** A session of user u1 (created on first use: a session is stored only for an existing user). */
async function session (storage: Storage, idHash: string, createdAt: number, expiresAt: number): Promise<void> {
  const user = await storage.users.findByUsername('u1') ?? await storage.users.create({ username: 'u1', passwordHash: null })
  if (!await storage.sessions.create({ idHash, userId: user.id, authTime: createdAt, createdAt, expiresAt, credentialVersion: user.credentialVersion, provider: null, amr: ['pwd'] })) throw new Error('no session stored')
}

t.test('sweepExpired deletes what expired by now in every expiring table, and nothing live', async (t) => {
  const storage = await setup(t)
  await session(storage, 'gone', now - 100, now)
  await session(storage, 'live', now, now + 1)
  await storage.codes.create(code('unredeemed-old', now))
  await storage.codes.create(code('live', now + 1))
  await storage.codes.create(code('redeemed-recent', now - 10))
  await storage.codes.redeem('redeemed-recent', now - 20, { jti: 'j', exp: now })
  await storage.codes.create(code('redeemed-old', now - REDEEMED_CODE_RETENTION_SECONDS))
  await storage.codes.redeem('redeemed-old', now - REDEEMED_CODE_RETENTION_SECONDS - 30, { jti: 'j2', exp: now })
  const pending = { bindingHash: 'b', provider: 'corp', nonce: 'n', codeVerifier: 'v', returnTo: null, createdAt: now - 600 }
  await storage.upstreamTransactions.create({ ...pending, idHash: 'gone', expiresAt: now })
  await storage.upstreamTransactions.create({ ...pending, idHash: 'live', expiresAt: now + 1 })
  await storage.revocations.add(['jti:gone'], now - 1)
  await storage.revocations.add(['jti:live'], now + 1)
  // Outbox: one message sent long enough ago, one sent just now, one still waiting.
  const old = now - OUTBOX_RETENTION_SECONDS - 1
  for (const at of [old, now]) {
    await storage.outbox.enqueue({ kind: 'mail', payload: {}, now: at, maxPending: 10 })
    const [m] = await storage.outbox.claim('mail', at, 1, 60, 'me')
    await storage.outbox.complete(m!.id, 'me', at)
  }
  await storage.outbox.enqueue({ kind: 'mail', payload: {}, now: old, maxPending: 10 })
  // Account links: one expired now, one still good.
  const link = { purpose: 'invitation' as const, userId: null, email: 'a@x.test', scope: null, data: null, createdAt: now - 10 }
  await storage.accountLinks.create({ ...link, id: 'l1', tokenHash: 'gone', expiresAt: now })
  await storage.accountLinks.create({ ...link, id: 'l2', tokenHash: 'live', expiresAt: now + 1 })
  // Passkey challenges: one expired now, one still good.
  const challenge = { bindingHash: 'b', ceremony: 'signin' as const, userId: null, createdAt: now - 300 }
  await storage.passkeyChallenges.create({ ...challenge, idHash: 'gone', expiresAt: now })
  await storage.passkeyChallenges.create({ ...challenge, idHash: 'live', expiresAt: now + 1 })
  // Device codes: one expired now, one still good.
  await storage.clients.create({ id: 'tv', secretHash: null, isPublic: true, grantTypes: ['urn:ietf:params:oauth:grant-type:device_code'], scope: null, redirectUris: [] })
  const device = { clientId: 'tv', scope: '', resources: [], status: 'pending' as const, approval: null, interval: 5, lastPollAt: null, createdAt: now - 600 }
  await storage.deviceCodes.create({ ...device, hash: 'gone', userCode: 'BBBBBBBB', expiresAt: now })
  await storage.deviceCodes.create({ ...device, hash: 'live', userCode: 'CCCCCCCC', expiresAt: now + 1 })
  // Pushed authorization requests: one past its lifetime, one still good.
  const pushed = { clientId: 'tv', parameters: { response_type: 'code' }, state: 'unused' as const, createdAt: now - 60, startedAt: null }
  await storage.pushedRequests.create({ ...pushed, hash: 'gone', expiresAt: now })
  await storage.pushedRequests.create({ ...pushed, hash: 'live', expiresAt: now + 1 })
  // Authenticator apps: one abandoned an hour ago, one started just now, one confirmed long ago.
  const u1 = (await storage.users.findByUsername('u1'))!
  const app = { userId: u1.id, kind: 'totp' as const, name: 'Phone', secret: 'v1.x', credentialId: null, publicKey: null, counter: 0, data: null }
  await storage.factors.create({ ...app, id: 'f-abandoned', createdAt: now - UNCONFIRMED_FACTOR_SECONDS - 1, confirmedAt: null }, 5)
  await storage.factors.create({ ...app, id: 'f-started', createdAt: now - 60, confirmedAt: null }, 5)
  await storage.factors.create({ ...app, id: 'f-confirmed', createdAt: now - 10 * UNCONFIRMED_FACTOR_SECONDS, confirmedAt: now - 10 * UNCONFIRMED_FACTOR_SECONDS }, 5)

  // Security events: one past EVENTS_KEEP_DAYS (30 by default), one just within.
  const stored = { type: 'login_failed', user: null, clientId: null, actor: null, target: null, ip: null, details: {} }
  await storage.securityEvents.append([{ ...stored, at: (now - 30 * 86_400) * 1000 - 1 }, { ...stored, at: (now - 30 * 86_400) * 1000 }])

  t.same(await sweepExpired(storage, now), { sessions: 1, codes: 2, upstreamTransactions: 1, grants: 0, revocations: 1, outbox: 1, accountLinks: 1, unconfirmedFactors: 1, passkeyChallenges: 1, unusedRegistrations: 0, deviceCodes: 1, pushedRequests: 1, clientAssertions: 0, securityEvents: 1 })
  t.equal((await storage.securityEvents.list({ limit: 10 })).length, 1, 'an event within its days stays')
  t.equal(await sweepExpired(storage, now, 1).then((s) => s.securityEvents), 1, 'EVENTS_KEEP_DAYS=1: that one goes too')
  t.same((await storage.factors.list(u1.id)).map((f) => f.id).sort(), ['f-confirmed', 'f-started'], 'an enrolment in progress and a confirmed app stay')
  t.equal(await storage.outbox.pending(), 1, 'a message still waiting is never swept, however old')
  t.ok(await storage.sessions.find('live', now))
  t.ok(await storage.codes.find('live'))
  t.ok(await storage.codes.find('redeemed-recent'), 'a redeemed code stays for the replay window')
  t.equal(await storage.codes.find('unredeemed-old'), undefined, 'an unredeemed code goes at its lifetime')
  t.equal(await storage.codes.find('redeemed-old'), undefined)
  t.ok(await storage.revocations.anyRevoked(['jti:live']))
  t.ok(await storage.accountLinks.find('live', 'invitation', now), 'a link that still works stays')
  t.ok(await storage.passkeyChallenges.consume('live', 'b', now), 'a challenge still good stays')
  t.ok(await storage.deviceCodes.find('live'), 'a device code still good stays')
  t.ok(await storage.pushedRequests.start('live', 'tv', now, now + 600), 'a pushed request still good stays')
  t.same(await sweepExpired(storage, now), { sessions: 0, codes: 0, upstreamTransactions: 0, grants: 0, revocations: 0, outbox: 0, accountLinks: 0, unconfirmedFactors: 0, passkeyChallenges: 0, unusedRegistrations: 0, deviceCodes: 0, pushedRequests: 0, clientAssertions: 0, securityEvents: 0 }, 'a second sweep finds nothing')
})

t.test('sweepRound: one claim per half interval; every round counts the tables', async (t) => {
  const storage = await setup(t)
  await session(storage, 'gone', now - 100, now)
  const first = await sweepRound(storage, { now, intervalSeconds: 60 })
  t.match(first, { swept: { sessions: 1 }, rows: { sessions: 0, authorization_codes: 0 } })
  await session(storage, 'gone-too', now - 100, now)
  const early = await sweepRound(storage, { now: now + 29, intervalSeconds: 60 })
  t.equal(early.swept, undefined, 'within half an interval (another instance, or a late timer): no sweep')
  t.equal(early.rows.sessions, 1, 'but a count')
  t.match(await sweepRound(storage, { now: now + 30, intervalSeconds: 60 }), { swept: { sessions: 1 }, rows: { sessions: 0 } })
})

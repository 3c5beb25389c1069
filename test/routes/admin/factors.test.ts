import t, { type Test } from 'tap'
import type { NewUserFactor } from '../../../lib/stores/types.js'
import { addUser, post } from '../../support/helper.js'
import { assertJsonLines, buildLogged } from '../../support/security.js'

// /admin/users/{username}/factors: list, remove all, remove one, through app.inject on an app whose factors were
// written straight into its store (the pages that enrol them are the TOTP and passkey branches' own tests).

const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'
const PUBLIC_KEY = 'pQECAyYgASFYIPublicKeyOfThePasskey'
const CREDENTIAL_ID = 'Y3JlZGVudGlhbC1pZC1vZi1hbGljZQ'

async function setup (t: Test) {
  const { app, lines } = await buildLogged(t, { ACCESS_LOG: 'off', LOG_LEVEL: 'info' })
  await addUser(app, 'root', 'pw', { scope: 'admin' })
  await addUser(app, 'plain', 'pw', { scope: 'read' })
  const alice = await addUser(app, 'alice', 'pw')
  const bob = await addUser(app, 'bob', 'pw')
  const token = async (username: string) => (await post(app, '/token', { grant_type: 'password', username, password: 'pw' })).json().access_token as string
  const admin = { authorization: `Bearer ${await token('root')}` }
  const call = (method: 'GET' | 'DELETE', url: string, headers: Record<string, string> = admin) => app.inject({ method, url, headers })
  const now = 1_767_224_700
  const sealed = app.secrets!.seal(TOTP_SECRET, `factor:t-alice:${alice.id}`)
  const factor = (over: Partial<NewUserFactor> & Pick<NewUserFactor, 'id' | 'userId' | 'kind'>): NewUserFactor => ({
    name: 'Phone', secret: null, credentialId: null, publicKey: null, counter: 0, data: null, createdAt: now, confirmedAt: now, ...over
  })
  await app.storage.factors.create(factor({ id: 't-alice', userId: alice.id, kind: 'totp', secret: sealed }), 10)
  await app.storage.factors.useStep(alice.id, 't-alice', 100, now + 60)
  const data = { transports: ['usb'], deviceType: 'singleDevice', backedUp: false, aaguid: 'ee882879-721c-4913-9775-3dfcce97072a' }
  await app.storage.factors.create(factor({ id: 'p-alice', userId: alice.id, kind: 'passkey', name: 'YubiKey', credentialId: CREDENTIAL_ID, publicKey: PUBLIC_KEY, createdAt: now + 1, data }), 10)
  await app.storage.factors.create(factor({ id: 't-pending', userId: alice.id, kind: 'totp', name: 'Tablet', secret: sealed, createdAt: now + 2, confirmedAt: null }), 10)
  // Digests long and odd enough never to appear by chance (in a UUID, say) where the test looks for them.
  const digests = ['RECOVERY-DIGEST-ONE', 'RECOVERY-DIGEST-TWO', 'RECOVERY-DIGEST-THREE']
  await app.storage.factors.replaceRecoveryCodes(alice.id, digests, now)
  await app.storage.factors.useRecoveryCode(alice.id, digests[1]!, now)
  await app.storage.factors.create(factor({ id: 't-bob', userId: bob.id, kind: 'totp', secret: 'sealed-bob' }), 10)
  const secrets = [TOTP_SECRET, sealed, PUBLIC_KEY, CREDENTIAL_ID, 'sealed-bob', digests[0]!, digests[2]!]
  const events = (type: string) => assertJsonLines(t, lines()).filter((e) => e.event === type)
  return { app, call, token, alice, bob, now, secrets, events }
}

t.test('the list: each factor without its secret, key or credential id; recovery codes left', async (t) => {
  const { call, now, secrets } = await setup(t)
  const res = await call('GET', '/admin/users/alice/factors')
  t.equal(res.statusCode, 200)
  t.same(res.json(), {
    factors: [
      { id: 't-alice', kind: 'totp', name: 'Phone', created_at: now, confirmed: true, last_used_at: now + 60 },
      { id: 'p-alice', kind: 'passkey', name: 'YubiKey', created_at: now + 1, confirmed: true, last_used_at: null, device_type: 'singleDevice', backed_up: false },
      { id: 't-pending', kind: 'totp', name: 'Tablet', created_at: now + 2, confirmed: false, last_used_at: null }
    ],
    recovery_codes_left: 2
  })
  for (const secret of secrets) t.notOk(res.body.includes(secret), `no ${secret.slice(0, 8)}… in the answer`)
  t.same((await call('GET', '/admin/users/root/factors')).json(), { factors: [], recovery_codes_left: 0 }, 'a user without any')
})

t.test('remove one: 204, the others and the recovery codes stay; an id not theirs or unknown: 404', async (t) => {
  const { app, call, alice, bob, events, secrets } = await setup(t)
  const other = await call('DELETE', '/admin/users/alice/factors/t-bob')
  t.equal(other.statusCode, 404, 'bob\'s factor is not alice\'s')
  t.match(other.json(), { error: 'not_found' })
  t.ok(await app.storage.factors.get(bob.id, 't-bob'), 'bob\'s factor is untouched')
  t.equal((await call('DELETE', '/admin/users/alice/factors/nope')).statusCode, 404)
  t.equal((await call('DELETE', '/admin/users/alice/factors/a%00b')).statusCode, 404, 'a NUL is not a 500')
  t.equal(events('factors_reset').length, 0, 'no event for what removed nothing')

  const res = await call('DELETE', '/admin/users/alice/factors/p-alice')
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')
  t.same((await app.storage.factors.list(alice.id)).map((f) => f.id), ['t-alice', 't-pending'])
  t.equal(await app.storage.factors.recoveryCodesLeft(alice.id), 2)
  t.equal((await call('DELETE', '/admin/users/alice/factors/p-alice')).statusCode, 404, 'twice: gone')
  t.match(events('factors_reset'), [{ actor: 'root', userId: alice.id, scope: 'one', count: 1, reqId: String }])
  for (const secret of secrets) t.notOk(JSON.stringify(events('factors_reset')).includes(secret))
})

t.test('remove all: every factor and recovery code, 204 (also when none are left); the user signs in with the password alone', async (t) => {
  const { app, call, alice, bob, events } = await setup(t)
  const session = await app.storage.sessions.create({ idHash: 'h'.repeat(43), userId: alice.id, authTime: 1, createdAt: 1, expiresAt: 2 ** 40, credentialVersion: alice.credentialVersion, provider: null, amr: ['pwd', 'otp', 'mfa'] })
  t.ok(session)
  const res = await call('DELETE', '/admin/users/alice/factors')
  t.equal(res.statusCode, 204)
  t.same(await app.storage.factors.list(alice.id), [])
  t.equal(await app.storage.factors.countConfirmed(alice.id), 0)
  t.equal(await app.storage.factors.recoveryCodesLeft(alice.id), 0)
  t.same((await call('GET', '/admin/users/alice/factors')).json(), { factors: [], recovery_codes_left: 0 })
  t.equal((await app.storage.factors.list(bob.id)).length, 1, 'bob keeps his')
  t.ok(await app.storage.sessions.find('h'.repeat(43), 100), 'her browser sessions are kept (DELETE …/sessions ends them)')
  t.match(events('factors_reset'), [{ actor: 'root', userId: alice.id, scope: 'all', count: 3 }])
  t.equal((await call('DELETE', '/admin/users/alice/factors')).statusCode, 204, 'again: nothing left, still done')
  t.match(events('factors_reset')[1], { scope: 'all', count: 0 })
  t.equal((await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw' })).statusCode, 200)
})

t.test('an unknown user: 404 on every route; no token: 401; a token without scope admin: 403', async (t) => {
  const { app, call, token, alice, events } = await setup(t)
  for (const [method, url] of [['GET', '/admin/users/nobody/factors'], ['DELETE', '/admin/users/nobody/factors'], ['DELETE', '/admin/users/nobody/factors/t-alice']] as const) {
    const res = await call(method, url)
    t.equal(res.statusCode, 404, `${method} ${url}`)
    t.match(res.json(), { error: 'not_found', error_description: 'no user nobody' })
  }
  const plain = { authorization: `Bearer ${await token('plain')}` }
  for (const [method, url] of [['GET', '/admin/users/alice/factors'], ['DELETE', '/admin/users/alice/factors'], ['DELETE', '/admin/users/alice/factors/t-alice']] as const) {
    const anonymous = await call(method, url, {})
    t.equal(anonymous.statusCode, 401, `${method} ${url} without a token`)
    t.match(anonymous.headers['www-authenticate'], /^Bearer/)
    const refused = await call(method, url, plain)
    t.equal(refused.statusCode, 403, `${method} ${url} without scope admin`)
    t.match(refused.json(), { error: 'insufficient_scope' })
  }
  t.equal((await app.storage.factors.list(alice.id)).length, 3, 'nothing was removed')
  t.equal(events('factors_reset').length, 0)
})

import t from 'tap'
import { openStorage } from '../../lib/stores/index.js'
import type { NewUserFactor } from '../../lib/stores/types.js'
import { ISSUER, sharedDatabaseUrl } from '../support/helper.js'
import { runCli } from '../support/oauth.js'

// `gatehouse users factors USERNAME` and `users factors-reset USERNAME`: the spawned bin on a database whose factors
// were written straight into the store (the pages that enrol them are tested on the TOTP and passkey branches).

const CHEAP = { ARGON2_MEMORY_KIB: '64', ARGON2_TIME_COST: '1' }
const NOW = 1_767_224_700

t.test('users factors lists them without secrets; users factors-reset removes them all and prints what it removed', async (t) => {
  const DATABASE_URL = await sharedDatabaseUrl(t)
  const env = { ...CHEAP, DATABASE_URL, ISSUER }
  t.equal((await runCli(['users', 'add', 'alice', '--password-stdin'], env, 'pw')).code, 0)
  t.equal((await runCli(['users', 'add', 'bob', '--password-stdin'], env, 'pw')).code, 0)
  const storage = await openStorage(DATABASE_URL)
  t.teardown(() => storage.close())
  const alice = (await storage.users.findByUsername('alice'))!
  const bob = (await storage.users.findByUsername('bob'))!
  const factor = (over: Partial<NewUserFactor> & Pick<NewUserFactor, 'id' | 'userId' | 'kind'>): NewUserFactor => ({
    name: 'Phone', secret: null, credentialId: null, publicKey: null, counter: 0, data: null, createdAt: NOW, confirmedAt: NOW, ...over
  })
  await storage.factors.create(factor({ id: 't1', userId: alice.id, kind: 'totp', secret: 'SEALED-SECRET' }), 10)
  await storage.factors.create(factor({ id: 'p1', userId: alice.id, kind: 'passkey', name: 'Laptop', credentialId: 'CRED-ID', publicKey: 'PUBLIC-KEY', createdAt: NOW + 1, data: { deviceType: 'multiDevice', backedUp: true } }), 10)
  await storage.factors.replaceRecoveryCodes(alice.id, ['DIGEST-1', 'DIGEST-2'], NOW)
  await storage.factors.create(factor({ id: 'b1', userId: bob.id, kind: 'totp', secret: 'BOB-SECRET' }), 10)

  const listed = await runCli(['users', 'factors', 'alice'], env)
  t.equal(listed.code, 0, listed.stderr)
  t.equal(listed.stderr, '')
  const totp = { id: 't1', kind: 'totp', name: 'Phone', created_at: NOW, confirmed: true, last_used_at: null }
  const passkey = { id: 'p1', kind: 'passkey', name: 'Laptop', created_at: NOW + 1, confirmed: true, last_used_at: null, device_type: 'multiDevice', backed_up: true }
  t.same(JSON.parse(listed.stdout), { factors: [totp, passkey], recovery_codes_left: 2 }, 'as the admin API shows them')
  for (const secret of ['SEALED-SECRET', 'CRED-ID', 'PUBLIC-KEY', 'DIGEST-1']) t.notOk(listed.stdout.includes(secret), `no ${secret}`)

  const reset = await runCli(['users', 'factors-reset', 'alice'], env)
  t.equal(reset.code, 0, reset.stderr)
  t.same(JSON.parse(reset.stdout), { removed: [totp, passkey], recovery_codes_removed: 2 }, 'what was removed')
  t.same(await storage.factors.list(alice.id), [])
  t.equal(await storage.factors.recoveryCodesLeft(alice.id), 0)
  t.equal((await storage.factors.list(bob.id)).length, 1, 'bob keeps his')
  t.same(JSON.parse((await runCli(['users', 'factors', 'alice'], env)).stdout), { factors: [], recovery_codes_left: 0 })
  t.same(JSON.parse((await runCli(['users', 'factors-reset', 'alice'], env)).stdout), { removed: [], recovery_codes_removed: 0 }, 'again: nothing left')
})

t.test('users factors and factors-reset: an unknown user or no USERNAME: one line on stderr, exit 1', async (t) => {
  const DATABASE_URL = await sharedDatabaseUrl(t)
  const env = { ...CHEAP, DATABASE_URL, ISSUER }
  for (const name of ['factors', 'factors-reset']) {
    const run = await runCli(['users', name, 'nobody'], env)
    t.equal(run.code, 1, `${name}: exit 1`)
    t.equal(run.stdout, '')
    t.equal(run.stderr, 'gatehouse: no user nobody\n')
    const usage = await runCli(['users', name], env)
    t.equal(usage.code, 1)
    t.match(usage.stderr, /^gatehouse: expected exactly one USERNAME \(see gatehouse --help\)\n$/)
  }
})
